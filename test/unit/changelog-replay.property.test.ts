/**
 * The invariant behind recovery: replaying a store's changelog from the beginning into an empty store gives
 * exactly the live store, at every commit. Restoration after a crash, a handover and standby replicas all
 * rebuild state this way, so a changelog that is not a faithful log of the store miscounts after any of them.
 *
 * Random operation sequences run through each store kind (directly, and through the DSL's aggregate
 * processors with out-of-order and late records), with commits and aborts at random points and cache budgets
 * from tiny (every clean entry evicted at each commit) to large. After each commit, the live store, the store
 * reopened on the committed bytes, and the store replayed from the changelog must show the same contents.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Consumed,
  Materialized,
  Serdes,
  SessionWindows,
  StreamsBuilder,
  TimeWindows,
  type Topology,
} from '../../src/index.js';
import { silentLogger } from '../../src/logging/logger.js';
import { StreamTask } from '../../src/runtime/stream-task.js';
import type { KeyValueStore, SessionStore, WindowStore } from '../../src/stores/state-store.js';
import { Stores } from '../../src/stores/stores.js';
import { LoggedStore, visibleContents } from './support/logged-store.js';

const KEYS = ['a', 'b', 'c'];
const RUNS = Number(process.env.PROPERTY_RUNS ?? 1500);
/** From "evict everything clean at each commit" to "everything stays cached". */
const cacheBudget = fc.constantFrom(1, 600, 1 << 20);

function expectFaithful(logged: LoggedStore, keys: readonly unknown[], batch: number): void {
  const live = visibleContents(logged.store, keys);
  expect(visibleContents(logged.reopened(), keys), 'store reopened on its committed bytes').toEqual(live);
  expect(visibleContents(logged.replayed(batch), keys), 'store replayed from its changelog').toEqual(live);
}

/** Event time as it arrives: mostly ahead of the head, often a little behind it, sometimes far behind. */
class EventClock {
  private head = 100;
  /** `dt` >= 0 moves the head and returns it; `dt` < 0 returns a time that far behind the head. */
  next(dt: number): number {
    if (dt >= 0) return (this.head += dt);
    return Math.max(0, this.head + dt * (dt < -15 ? 4 : 1));
  }
}

type StoreOp =
  | { op: 'record'; key: string; dt: number }
  | { op: 'put'; key: string; start: number; length: number; value: number }
  | { op: 'remove'; key: string; index: number }
  | { op: 'delete'; key: string; start: number }
  | { op: 'commit' }
  | { op: 'abort' };

const key = fc.constantFrom(...KEYS);
const storeOps = fc.array(
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ op: fc.constant('record' as const), key, dt: fc.integer({ min: -20, max: 12 }) }) },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('put' as const),
        key,
        start: fc.integer({ min: 0, max: 120 }),
        length: fc.integer({ min: 0, max: 30 }),
        value: fc.integer({ min: 1, max: 9 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('remove' as const), key, index: fc.nat(5) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), key, start: fc.integer({ min: 0, max: 120 }) }) },
    { weight: 2, arbitrary: fc.constant({ op: 'commit' as const }) },
    { weight: 1, arbitrary: fc.constant({ op: 'abort' as const }) },
  ),
  { maxLength: 80 },
);

describe('changelog replay equals the live store (store level)', () => {
  // Times ×1000: retention spans two segments of 60 s, so segments roll over and are dropped during the run.
  it.each([1, 1000])('session store: merges, re-puts of a logged window, removals, expiry (times ×%i)', (scale) => {
    const GAP = 10 * scale;
    fc.assert(
      fc.property(storeOps, cacheBudget, fc.integer({ min: 1, max: 7 }), (ops: StoreOp[], budget, batch) => {
        const clock = new EventClock();
        const logged = new LoggedStore(Stores.sessionStore('s', 60 * scale, Serdes.String(), Serdes.Int32()), budget);
        const sessions = () => logged.store as unknown as SessionStore<string, number>;
        for (const o of [...ops, { op: 'commit' as const }]) {
          switch (o.op) {
            case 'record': {
              // What the session aggregate does: merge every session within the gap into one.
              const t = clock.next(o.dt) * scale;
              const found = sessions().findSessions(o.key, t - GAP, t + GAP);
              let start = t;
              let end = t;
              let count = 1;
              for (const s of found) {
                start = Math.min(start, s.key.window.start);
                end = Math.max(end, s.key.window.end);
                count += s.value;
              }
              for (const s of found) sessions().remove(s.key);
              sessions().put({ key: o.key, window: { start, end } }, count);
              break;
            }
            case 'put':
              sessions().put({ key: o.key, window: { start: o.start * scale, end: (o.start + o.length) * scale } }, o.value);
              break;
            case 'remove': {
              const all = sessions().fetch(o.key);
              if (all.length > 0) sessions().remove(all[o.index % all.length]!.key);
              break;
            }
            case 'delete':
              break;
            case 'commit':
              logged.commit();
              expectFaithful(logged, KEYS, batch);
              break;
            case 'abort':
              logged.abort();
              break;
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('session store: the minimal case of the report (a logged window re-put, then merged away)', () => {
    const logged = new LoggedStore(Stores.sessionStore('s', 1_000_000, Serdes.String(), Serdes.Int32()), 1 << 20);
    const sessions = logged.store as unknown as SessionStore<string, number>;
    const T = 1000;
    sessions.put({ key: 'u', window: { start: T, end: T + 60 } }, 2);
    logged.commit();
    // T+30 merges into [T, T+60] (same window, put back), then T+120 merges it into [T, T+120].
    sessions.remove({ key: 'u', window: { start: T, end: T + 60 } });
    sessions.put({ key: 'u', window: { start: T, end: T + 60 } }, 3);
    sessions.remove({ key: 'u', window: { start: T, end: T + 60 } });
    sessions.put({ key: 'u', window: { start: T, end: T + 120 } }, 4);
    logged.commit();
    expect(visibleContents(logged.replayed(100), ['u'])).toEqual([[[{ start: T, end: T + 120 }, 4]]]);
  });

  it.each([1, 1000])('window store: puts, deletes, expiry (times ×%i)', (scale) => {
    const SIZE = 10 * scale;
    fc.assert(
      fc.property(storeOps, cacheBudget, fc.integer({ min: 1, max: 7 }), (ops: StoreOp[], budget, batch) => {
        const clock = new EventClock();
        const logged = new LoggedStore(Stores.windowStore('w', 50 * scale, SIZE, Serdes.String(), Serdes.Int32()), budget);
        const windows = () => logged.store as unknown as WindowStore<string, number>;
        for (const o of [...ops, { op: 'commit' as const }]) {
          switch (o.op) {
            case 'record': {
              const t = clock.next(o.dt) * scale;
              const start = t - (t % SIZE);
              windows().put(o.key, (windows().fetch(o.key, start) ?? 0) + 1, start);
              break;
            }
            case 'put':
              windows().put(o.key, o.value, o.start * scale);
              break;
            case 'delete':
              windows().put(o.key, null, o.start * scale - ((o.start * scale) % SIZE));
              break;
            case 'remove':
              break;
            case 'commit':
              logged.commit();
              expectFaithful(logged, KEYS, batch);
              break;
            case 'abort':
              logged.abort();
              break;
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('key-value store: puts and deletes', () => {
    fc.assert(
      fc.property(storeOps, cacheBudget, fc.integer({ min: 1, max: 7 }), (ops: StoreOp[], budget, batch) => {
        const logged = new LoggedStore(Stores.keyValueStore('kv', Serdes.String(), Serdes.Int32()), budget);
        const kv = () => logged.store as unknown as KeyValueStore<string, number>;
        for (const o of [...ops, { op: 'commit' as const }]) {
          switch (o.op) {
            case 'record':
              kv().put(o.key, (kv().get(o.key) ?? 0) + 1);
              break;
            case 'put':
              kv().put(o.key, o.value);
              break;
            case 'delete':
            case 'remove':
              if (o.op === 'delete') kv().delete(o.key);
              else kv().put(o.key, null);
              break;
            case 'commit':
              logged.commit();
              expectFaithful(logged, KEYS, batch);
              break;
            case 'abort':
              logged.abort();
              break;
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});

/** A task of a topology whose stores are LoggedStores, committed where the test says. */
class LoggedTask {
  readonly stores = new Map<string, LoggedStore>();
  readonly task: StreamTask;
  private offset = 0;

  constructor(topology: Topology, budget: number) {
    const subtopology = topology.subtopologies[0]!;
    this.task = new StreamTask({
      topology,
      subtopology,
      partition: 0,
      sink: { send: () => {}, partitionsFor: () => 1 },
      createStore: (definition) => {
        const logged = new LoggedStore(definition, budget);
        this.stores.set(definition.name, logged);
        // The task keeps the typed store it was given: aborts are not modelled at this level.
        return logged.store;
      },
      wallClock: () => 0,
      logger: silentLogger,
    });
    this.task.init();
  }

  pipe(key: string | null, t: number): void {
    const k = key === null ? null : Buffer.from(key);
    this.task.process('in', 0, String(this.offset++), k, Buffer.from('1'), t, {});
  }

  commitAndCheck(batch: number): void {
    for (const logged of this.stores.values()) {
      logged.commit();
      expectFaithful(logged, KEYS, batch);
    }
  }
}

const topologies: Record<string, () => Topology> = {
  'session count, grace 0': () => sessionTopology(SessionWindows.ofInactivityGapAndGrace(10, 0)),
  'session count, grace 25': () => sessionTopology(SessionWindows.ofInactivityGapAndGrace(10, 25)),
  'session count, no grace': () => sessionTopology(SessionWindows.ofInactivityGapWithNoGrace(10)),
  'tumbling count, grace 15': () => timeTopology(TimeWindows.ofSizeAndGrace(20, 15)),
  'hopping count, grace 5': () => timeTopology(TimeWindows.ofSizeAndGrace(20, 5).advanceBy(5)),
  'key-value count': () => {
    const builder = new StreamsBuilder();
    builder.stream('in', Consumed.with(Serdes.String(), Serdes.String())).groupByKey().count(Materialized.as('store'));
    return builder.build({ applicationId: 'p' });
  },
};

function sessionTopology(windows: SessionWindows): Topology {
  const builder = new StreamsBuilder();
  builder
    .stream('in', Consumed.with(Serdes.String(), Serdes.String()))
    .filter((_k, v) => v !== 'skip') // a filter before the aggregation, as in the example
    .groupByKey()
    .windowedBy(windows)
    .count(Materialized.as('store'));
  return builder.build({ applicationId: 'p' });
}

function timeTopology(windows: TimeWindows): Topology {
  const builder = new StreamsBuilder();
  builder.stream('in', Consumed.with(Serdes.String(), Serdes.String())).groupByKey().windowedBy(windows).count(Materialized.as('store'));
  return builder.build({ applicationId: 'p' });
}

describe('changelog replay equals the live store (through the DSL processors)', () => {
  const step = fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        key: fc.constantFrom<string | null>('a', 'b', 'c', null),
        // Mostly ahead of stream time, often a little behind (out of order), sometimes far behind (late).
        dt: fc.integer({ min: -20, max: 12 }),
      }),
    },
    { weight: 2, arbitrary: fc.constant('commit' as const) },
  );
  for (const [name, build] of Object.entries(topologies)) {
    it(name, () => {
      fc.assert(
        fc.property(fc.array(step, { maxLength: 120 }), cacheBudget, fc.integer({ min: 1, max: 9 }), (steps, budget, batch) => {
          const task = new LoggedTask(build(), budget);
          const clock = new EventClock();
          for (const s of steps) {
            if (s === 'commit') task.commitAndCheck(batch);
            else task.pipe(s.key, clock.next(s.dt));
          }
          task.commitAndCheck(batch);
        }),
        { numRuns: Math.ceil(RUNS / 2) },
      );
    });
  }
});
