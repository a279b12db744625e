/**
 * The event-time mode (StreamsConfig.eventTime): progress markers bound a downstream task's stream time by
 * its slowest upstream task, markers stay invisible, a silent upstream task is given up on after the wait,
 * and idle advance closes a quiet user's session in the TopologyTestDriver. With the mode off nothing changes
 * (the differential suite covers that; here one skewed case shows what the mode prevents).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BufferConfig, Consumed, EmitStrategy, Grouped, Produced, Serdes, SessionWindows, StreamsBuilder, TopologyTestDriver, Suppressed, WindowedSerdes,
} from '../../src/index.js';
import { resolveEventTime, type EventTimeConfig } from '../../src/config/event-time-config.js';
import { resolveConfig } from '../../src/config/streams-config.js';
import type { Logger } from '../../src/logging/logger.js';
import { silentLogger } from '../../src/logging/logger.js';
import { EventTimeClock, upstreamTasksOf } from '../../src/runtime/event-time-clock.js';
import { PROGRESS_HEADER, progressHeaderValue, progressMarkerOf } from '../../src/runtime/progress-marker.js';
import type { OutgoingRecord } from '../../src/runtime/record-sink.js';
import { StreamTask } from '../../src/runtime/stream-task.js';
import { InMemoryBytesStore } from '../../src/stores/bytes-store.js';
import { createStore } from '../../src/stores/store-factory.js';

const MIN = 60_000;
const GAP = 30 * MIN;
const GRACE = 5 * MIN;
const APP = 'et';
const REPARTITION = `${APP}-views-repartition`;

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, error() {}, warn: (message: string) => void warnings.push(message) };
}

/** views (key: anything, value: user) → selectKey(user) → session count (final results only) → sessions. */
function sessionTopology(emitFinal: boolean | 'suppress') {
  const builder = new StreamsBuilder();
  const windowed = builder
    .stream('views', Consumed.with(Serdes.String(), Serdes.String()))
    .selectKey((_key, user) => user)
    .groupByKey(Grouped.with(Serdes.String(), Serdes.String()).withName('views'))
    .windowedBy(SessionWindows.ofInactivityGapAndGrace(GAP, GRACE));
  const counts = (emitFinal === true ? windowed.emitStrategy(EmitStrategy.onWindowClose()) : windowed).count();
  (emitFinal === 'suppress' ? counts.suppress(Suppressed.untilWindowCloses(BufferConfig.unbounded())) : counts)
    .toStream()
    .to('sessions', Produced.with(WindowedSerdes.sessionWindowed(Serdes.String()), Serdes.Int64()));
  return builder.build({ applicationId: APP });
}

const ON: EventTimeConfig = { progressMarkers: true, maxUpstreamWaitMs: 60_000 };

/** The downstream (aggregating) task of sessionTopology, fed raw repartition records. */
function downstreamTask(
  options: { eventTime?: EventTimeConfig; upstream?: string[]; now?: () => number; logger?: Logger; initialStreamTime?: number; emitFinal?: boolean; cacheBytes?: number } = {},
) {
  const topology = sessionTopology(options.emitFinal ?? true);
  const sent: OutgoingRecord[] = [];
  const config = options.eventTime === undefined ? undefined : resolveEventTime(options.eventTime, 100);
  const task = new StreamTask({
    topology,
    subtopology: topology.subtopologies[1]!,
    partition: 0,
    sink: { send: (record) => sent.push(record), partitionsFor: () => 1 },
    createStore: (definition) => createStore(definition, new InMemoryBytesStore(), options.cacheBytes ?? 1 << 20, undefined),
    wallClock: options.now ?? (() => 0),
    logger: options.logger ?? silentLogger,
    emitIntervalMs: 0,
    initialStreamTime: options.initialStreamTime,
    eventTime: config === undefined ? undefined : { config, upstreamTasks: options.upstream ?? ['0_0', '0_1'] },
  });
  task.init();
  let offset = 0;
  return {
    task,
    sent,
    view(user: string, timestamp: number): void {
      task.process(REPARTITION, 0, String(offset++), Buffer.from(user), Buffer.from(user), timestamp, {});
    },
    /** A commit's local half: flushed entries written to the byte store, so reads go to it (not the cache). */
    commit(): void {
      for (const [store, entries] of task.flushStores()) {
        void store.bytes.apply(entries);
        store.written(store.lastFlush);
      }
    },
    marker(upstream: string, progress: number): void {
      task.process(REPARTITION, 0, String(offset++), null, null, Math.max(0, progress), { [PROGRESS_HEADER]: progressHeaderValue(upstream, progress) });
    },
  };
}

/** The sessions in a task's output: the latest count per window, tombstoned ones removed, per user by start. */
function finalSessions(sent: readonly OutgoingRecord[]): Map<string, Array<[number, number, number]>> {
  const serde = WindowedSerdes.sessionWindowed(Serdes.String());
  const latest = new Map<string, [string, number, number, number | null]>();
  for (const r of sent) {
    if (r.topic !== 'sessions') continue;
    const { key, window } = serde.deserialize(r.key!);
    latest.set(`${key}@${window.start}-${window.end}`, [key, window.start, window.end, r.value === null ? null : Number(Serdes.Int64().deserialize(r.value))]);
  }
  return group([...latest.values()].filter((s): s is [string, number, number, number] => s[3] !== null));
}

/** Sessions of gap GAP computed from all views at once. */
function oracle(views: ReadonlyArray<[string, number]>): Map<string, Array<[number, number, number]>> {
  const byUser = new Map<string, number[]>();
  for (const [user, ts] of views) byUser.set(user, [...(byUser.get(user) ?? []), ts]);
  const sessions: Array<[string, number, number, number]> = [];
  for (const [user, times] of byUser) {
    times.sort((a, b) => a - b);
    let current: [string, number, number, number] | undefined;
    for (const t of times) {
      if (current !== undefined && t - current[2] <= GAP) {
        current[2] = t;
        current[3]++;
      } else sessions.push((current = [user, t, t, 1]));
    }
  }
  return group(sessions);
}

function group(sessions: ReadonlyArray<[string, number, number, number]>): Map<string, Array<[number, number, number]>> {
  const out = new Map<string, Array<[number, number, number]>>();
  for (const [user, start, end, count] of [...sessions].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]))) {
    out.set(user, [...(out.get(user) ?? []), [start, end, count]]);
  }
  return out;
}

describe('eventTime config', () => {
  it('is off unless something is turned on, and fills in defaults', () => {
    expect(resolveEventTime(undefined, 100)).toBeUndefined();
    expect(resolveEventTime({}, 100)).toBeUndefined();
    expect(resolveEventTime({ progressMarkers: true }, 100)).toEqual({ progressMarkers: true, maxUpstreamWaitMs: 60_000, maxEventDelayMs: undefined, idleAdvanceAfterMs: 30_000 });
    expect(resolveEventTime({ maxEventDelayMs: 120_000 }, 100)).toEqual({ progressMarkers: false, maxUpstreamWaitMs: 60_000, maxEventDelayMs: 120_000, idleAdvanceAfterMs: 30_000 });
  });

  it('refuses wrong values with an error naming the setting', () => {
    expect(() => resolveEventTime({ progressMarkers: 'yes' as unknown as boolean }, 100)).toThrow(/eventTime.progressMarkers must be true or false/);
    expect(() => resolveEventTime({ progressMarkers: true, maxUpstreamWaitMs: -1 }, 100)).toThrow(/eventTime.maxUpstreamWaitMs must be an integer/);
    expect(() => resolveEventTime({ progressMarkers: true, maxUpstreamWaitMs: 20_000 }, 30_000)).toThrow(/must exceed commitIntervalMs \(30000\)/);
    expect(() => resolveEventTime({ idleAdvanceAfterMs: 1000 }, 100)).toThrow(/needs eventTime.maxEventDelayMs/);
    expect(() => resolveEventTime({ progressMarker: true } as unknown as EventTimeConfig, 100)).toThrow(/eventTime.progressMarker is not a setting/);
    expect(() => resolveConfig({ applicationId: 'a', bootstrapServers: ['h:1'], eventTime: { progressMarkers: true, maxUpstreamWaitMs: 30_000 } })).toThrow(/exceed commitIntervalMs \(30000\)/);
    expect(resolveConfig({ applicationId: 'a', bootstrapServers: ['h:1'] }).eventTime).toBeUndefined();
  });
});

describe('progress markers', () => {
  it('name the upstream tasks from the topology and partition counts', () => {
    const topology = sessionTopology(true);
    expect(upstreamTasksOf(topology, 0, () => 3)).toBeUndefined();
    expect(upstreamTasksOf(topology, 1, (topic) => (topic === 'views' ? 3 : 6))).toEqual(['0_0', '0_1', '0_2']);
    expect(upstreamTasksOf(topology, 1, () => undefined)).toEqual([]);
    expect(progressMarkerOf({ [PROGRESS_HEADER]: Buffer.from('0_12 1234') })).toEqual({ upstream: '0_12', progress: 1234 });
    expect(progressMarkerOf({ [PROGRESS_HEADER]: 'garbage' })).toBeUndefined();
  });

  it('are written at a commit into every partition of the repartition topics, when stream time moved or as a heartbeat', () => {
    const topology = sessionTopology(true);
    const sent: OutgoingRecord[] = [];
    let now = 0;
    const task = new StreamTask({
      topology,
      subtopology: topology.subtopologies[0]!,
      partition: 2,
      sink: { send: (record) => sent.push(record), partitionsFor: (topic) => (topic === REPARTITION ? 3 : undefined) },
      createStore: () => {
        throw new Error('no stores');
      },
      wallClock: () => now,
      logger: silentLogger,
      eventTime: { config: resolveEventTime(ON, 100)!, upstreamTasks: undefined },
    });
    task.init();
    expect(task.hasProgressToPublish).toBe(false);
    task.process('views', 2, '0', Buffer.from('k'), Buffer.from('alice'), 5000, {});
    expect(task.hasProgressToPublish).toBe(true);
    task.publishProgress();
    const markers = sent.filter((r) => r.headers[PROGRESS_HEADER] !== undefined);
    expect(markers.map((m) => [m.topic, m.partition, m.key, m.value, m.timestamp, m.headers[PROGRESS_HEADER]])).toEqual(
      [0, 1, 2].map((p) => [REPARTITION, p, null, null, 5000, '0_2 5000']),
    );
    expect(sent.indexOf(markers[0]!)).toBeGreaterThan(0); // after the view it covers
    task.publishProgress();
    expect(task.hasProgressToPublish).toBe(false);
    expect(sent.filter((r) => r.headers[PROGRESS_HEADER] !== undefined)).toHaveLength(3);
    // Idle, it says so again within a third of the downstream's wait (maxUpstreamWaitMs 60 s).
    now = 19_999;
    expect(task.hasProgressToPublish).toBe(false);
    now = 20_000;
    expect(task.hasProgressToPublish).toBe(true);
    task.publishProgress();
    expect(sent.filter((r) => r.headers[PROGRESS_HEADER] !== undefined)).toHaveLength(6);
  });

  it('are never processed, counted or seen, with the mode on or off', () => {
    for (const eventTime of [undefined, ON]) {
      const d = downstreamTask({ eventTime });
      d.marker('0_0', 1000);
      expect(d.task.counters.processed).toBe(0);
      expect(d.task.counters.droppedNullKey).toBe(0);
      expect(d.sent).toEqual([]);
    }
  });

  it("keep a downstream task's stream time at its slowest upstream task: a stalled task's views are not late", () => {
    const hours = (h: number): number => h * 3_600_000;
    // Mode off: upstream task 0_1 races 9 hours ahead while 0_0 is stalled; 0_0's view then is late.
    const off = downstreamTask();
    off.view('bob', hours(9));
    off.view('alice', hours(1));
    expect(off.task.counters.droppedLate).toBe(1);

    const on = downstreamTask({ eventTime: ON });
    on.marker('0_0', hours(1));
    on.view('bob', hours(9));
    on.marker('0_1', hours(9));
    expect(on.task.streamTime).toBe(hours(1));
    on.view('alice', hours(1));
    expect(on.task.counters.droppedLate).toBe(0);
    // 0_0 catches up: stream time follows, and alice's session (closed by then) is emitted once.
    on.marker('0_0', hours(9));
    expect(on.task.streamTime).toBe(hours(9));
    const emitted = on.sent.filter((r) => r.topic === 'sessions');
    expect(emitted).toHaveLength(1);
    expect(emitted[0]!.key!.subarray(0, 5).toString()).toBe('alice');
  });

  it("find a session in the store however far the fast upstream tasks' records lie ahead of the bound", () => {
    const hours = (h: number): number => h * 3_600_000;
    const d = downstreamTask({ eventTime: ON, emitFinal: false, cacheBytes: 0 });
    // Forty other users push carol out of the write cache (it keeps 16 entries at least), so reads go to the store.
    const others = (at: number): void => {
      for (let i = 0; i < 40; i++) d.view(`other-${i}`, at);
      d.commit();
    };
    d.view('carol', hours(5)); // before any marker: the bound is at -Infinity
    others(hours(5));
    others(hours(5));
    d.view('carol', hours(5) + 10_000);
    others(hours(5));
    others(hours(5));
    d.marker('0_0', hours(1));
    d.marker('0_1', hours(9));
    d.view('carol', hours(5) + MIN);
    d.view('dave', hours(8));
    others(hours(5));
    others(hours(5));
    d.view('dave', hours(8) + MIN);
    const sessions = finalSessions(d.sent);
    expect([sessions.get('carol'), sessions.get('dave')]).toEqual([[[hours(5), hours(5) + MIN, 3]], [[hours(8), hours(8) + MIN, 2]]]);
  });

  it('never drop a view at or after the smallest upstream progress − grace, and sessions equal the oracle (property)', () => {
    const upstream = ['0_0', '0_1', '0_2'];
    // Per upstream task, a run of steps: a view (later than its own stream time, or earlier within grace),
    // or a marker of its stream time; the runs are interleaved in any order (skewed hours apart).
    const step = fc.oneof(fc.record({ kind: fc.constant('view' as const), delta: fc.integer({ min: -GRACE, max: 3 * GAP }), user: fc.integer({ min: 0, max: 40 }) }), fc.record({ kind: fc.constant('marker' as const) }));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), step), { maxLength: 120 }), (steps) => {
        const d = downstreamTask({ eventTime: ON, upstream, emitFinal: false, cacheBytes: 0 });
        const fed: Array<[string, number]> = [];
        const own = upstream.map(() => 1_000_000_000);
        const progress = upstream.map(() => Number.NEGATIVE_INFINITY);
        let views = 0;
        for (const [u, s] of steps) {
          if (s.kind === 'marker') {
            d.commit();
            progress[u] = own[u]!;
            d.marker(upstream[u]!, own[u]!);
            continue;
          }
          const ts = Math.max(0, own[u]! + s.delta);
          // The precondition: at or after the smallest upstream progress − grace (the upstream task's own lateness bound).
          expect(ts).toBeGreaterThanOrEqual(Math.min(...progress) - GRACE);
          if (ts > own[u]!) own[u] = ts;
          d.view(`user-${s.user}`, ts);
          fed.push([`user-${s.user}`, ts]);
          views++;
        }
        expect(d.task.counters.droppedLate).toBe(0);
        expect(d.task.counters.processed).toBe(views);
        expect(finalSessions(d.sent)).toEqual(oracle(fed));
      }),
      { numRuns: 300 },
    );
  });

  it('give up on a silent upstream task after maxUpstreamWaitMs, with a WARN naming it and a count', () => {
    let now = 0;
    const logger = recordingLogger();
    const d = downstreamTask({ eventTime: ON, now: () => now, logger });
    d.marker('0_0', 1000);
    d.marker('0_1', 50_000);
    d.view('a', 50_000);
    expect(d.task.streamTime).toBe(1000);
    now = 60_000;
    d.task.tickEventTime(now, false, false);
    expect(d.task.upstreamWaitsExpired).toBe(0);
    d.marker('0_1', 60_000); // 0_1 is alive; 0_0 says nothing
    now = 60_001;
    d.task.tickEventTime(now, false, false);
    expect(d.task.upstreamWaitsExpired).toBe(1);
    expect(logger.warnings.join('\n')).toMatch(/no progress marker from upstream task 0_0 for 60001 ms .*maxUpstreamWaitMs \(60000\)/);
    expect(d.task.streamTime).toBe(50_000);
    // It reports again: counted again, and stream time never goes back.
    d.marker('0_0', 2000);
    expect(d.task.streamTime).toBe(50_000);
  });

  it('resume from the committed stream time: never lower, and waiting for every upstream task again', () => {
    const d = downstreamTask({ eventTime: ON, initialStreamTime: 10_000 });
    expect(d.task.streamTime).toBe(10_000);
    d.view('a', 90_000);
    d.marker('0_0', 80_000);
    expect(d.task.streamTime).toBe(10_000); // 0_1 not heard since the restart
    d.marker('0_1', 70_000);
    expect(d.task.streamTime).toBe(70_000);
  });

  it('bound the clock: min(max(observed, idle floor), upstream bound), never decreasing', () => {
    const clock = new EventTimeClock({
      config: resolveEventTime({ progressMarkers: true, maxEventDelayMs: 1000, idleAdvanceAfterMs: 500 }, 100)!,
      taskId: '1_0',
      upstreamTasks: ['0_0'],
      initial: Number.NEGATIVE_INFINITY,
      now: 0,
      logger: silentLogger,
    });
    expect(clock.streamTime(100)).toBe(Number.NEGATIVE_INFINITY);
    clock.marker({ upstream: '0_0', progress: 50 }, 0);
    expect(clock.streamTime(100)).toBe(50);
    clock.marker({ upstream: '0_0', progress: 20 }, 0);
    expect(clock.streamTime(100)).toBe(50);
    clock.tick(10_000, false, false); // records buffered: no idle advance
    expect(clock.streamTime(10)).toBe(10);
    clock.tick(10_400, true, true);
    expect(clock.streamTime(10)).toBe(10);
    clock.tick(10_500, true, true);
    expect(clock.streamTime(10)).toBe(50); // idle floor 9500, bounded by the upstream's 50
    clock.marker({ upstream: '0_0', progress: 20_000 }, 10_500);
    expect(clock.streamTime(10)).toBe(9500);
  });
});

describe('idle advance in the TopologyTestDriver', () => {
  it.each([
    ['onWindowClose()', true],
    ['suppress(untilWindowCloses)', 'suppress'],
  ] as const)("closes a quiet user's session within gap + grace + delay + idle, exactly once (%s)", (_name, emitFinal) => {
    const start = Date.UTC(2026, 0, 1);
    const delay = 2 * MIN;
    const idle = 30_000;
    const driver = new TopologyTestDriver(sessionTopology(emitFinal), { eventTime: { maxEventDelayMs: delay, idleAdvanceAfterMs: idle }, logger: silentLogger }, start);
    const views = driver.createInputTopic('views', Serdes.String(), Serdes.String());
    const sessions = driver.createOutputTopic('sessions', WindowedSerdes.sessionWindowed(Serdes.String()), Serdes.Int64());
    // The wall clock follows the views; no traffic after the last one.
    views.pipeInput('k', 'alice', start);
    driver.advanceWallClockTime(MIN);
    views.pipeInput('k', 'alice', start + MIN);
    const last = start + MIN;
    let now = last;
    // Never before stream-time semantics would close it with the clock at the promised delay; at the latest at the bound.
    const earliest = last + GAP + GRACE + delay;
    const due = earliest + idle;
    while (now + 1000 < earliest) {
      driver.advanceWallClockTime(1000);
      now += 1000;
      expect(sessions.readRecordsToList()).toEqual([]);
    }
    while (now < due && sessions.isEmpty()) {
      driver.advanceWallClockTime(1000);
      now += 1000;
    }
    expect(now).toBeLessThanOrEqual(due);
    const out = sessions.readRecordsToList();
    expect(out.map((r) => [r.key?.key, r.key?.window.start, r.key?.window.end, r.value])).toEqual([['alice', start, last, 2]]);
    driver.advanceWallClockTime(GAP);
    expect(sessions.readRecordsToList()).toEqual([]);
    driver.close();
  });

  it('without the mode, the session waits for the next view', () => {
    const start = Date.UTC(2026, 0, 1);
    const driver = new TopologyTestDriver(sessionTopology(true), { logger: silentLogger }, start);
    const views = driver.createInputTopic('views', Serdes.String(), Serdes.String());
    const sessions = driver.createOutputTopic('sessions', WindowedSerdes.sessionWindowed(Serdes.String()), Serdes.Int64());
    views.pipeInput('k', 'alice', start);
    driver.advanceWallClockTime(24 * 3_600_000);
    expect(sessions.readRecordsToList()).toEqual([]);
    driver.close();
  });
});
