/**
 * Late records kept (StreamsConfig / TopologyTestDriver `lateRecords`): a record late for its session or
 * window goes to the late-records topic as the task read it (key, value and headers byte for byte), with
 * headers naming what it missed, and is counted as routed; everything else is as without the option.
 */
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  Consumed,
  EmitStrategy,
  Grouped,
  LATE_RECORD_HEADERS,
  Materialized,
  ProductionError,
  Produced,
  Serdes,
  SessionWindows,
  SlidingWindows,
  StreamsBuilder,
  TimeWindows,
  TopologyTestDriver,
  WindowedSerdes,
  type Headers,
  type Topology,
  type TopologyTestDriverOptions,
} from '../../src/index.js';
import { resolveConfig } from '../../src/config/streams-config.js';
import type { Logger } from '../../src/logging/logger.js';
import { formatTopicPlan, lateRecordsTopicsOf, setUpTopics } from '../../src/tools/topic-setup.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const LATE = 'late-views';

interface View {
  user: string | null;
  at: number;
  page: string;
}

/** Views keyed by server, re-keyed by user (a repartition), sessionized with gap 10 and grace 0. */
function sessionize(): Topology {
  const builder = new StreamsBuilder();
  builder
    .stream('views', Consumed.with(Serdes.String(), Serdes.Json<View>()).withTimestampExtractor((r) => r.value.at))
    .selectKey((_server, view) => view.user as string)
    .groupByKey(Grouped.with(Serdes.String(), Serdes.Json<View>()))
    .windowedBy(SessionWindows.ofInactivityGapAndGrace(10, 0))
    .count(Materialized.as('sessions'))
    .toStream()
    .to('session-counts', Produced.with(WindowedSerdes.sessionWindowed(Serdes.String()), Serdes.Int64()));
  return builder.build({ applicationId: 'late' });
}

const text = (headers: Headers, name: string): string | undefined => {
  const v = headers[name];
  return v === undefined ? undefined : Buffer.isBuffer(v) ? v.toString() : String(v);
};

function run(topology: Topology, options: TopologyTestDriverOptions, feed: (pipe: (key: string | null, view: View, headers?: Headers) => void) => void) {
  const driver = new TopologyTestDriver(topology, { logger: silent, ...options });
  const input = driver.createInputTopic('views', Serdes.String(), Serdes.Json<View>());
  feed((key, view, headers) => input.pipeInput(key, view, 0, headers));
  return driver;
}

describe('late records kept: session windows', () => {
  const feed = (pipe: (key: string | null, view: View, headers?: Headers) => void): void => {
    pipe('server-1', { user: 'alice', at: 0, page: '/' });
    pipe('server-2', { user: 'alice', at: 100, page: '/a' });
    // Late: its session [5,5] (the store no longer holds [0,0]) closed at stream time 100 - grace 0 - gap 10 = 90.
    pipe('server-1', { user: 'alice', at: 5, page: '/late' }, { 'trace-id': Buffer.from('t-3') });
    pipe('server-1', { user: null, at: 101, page: '/anonymous' });
    pipe('server-2', { user: 'bob', at: 102, page: '/' });
  };

  it('a late view goes to the late topic with its bytes, its headers and what it missed', () => {
    const driver = run(sessionize(), { lateRecords: { topic: LATE } }, feed);
    const late = driver.createOutputTopic(LATE, Serdes.Buffer(), Serdes.Buffer()).readRecordsToList();
    expect(late).toHaveLength(1);
    const [record] = late;
    // The record as the aggregation's task read it from the repartition topic: keyed by user, the view's JSON bytes.
    expect(record!.key).toEqual(Buffer.from('alice'));
    expect(record!.value).toEqual(Buffer.from(JSON.stringify({ user: 'alice', at: 5, page: '/late' })));
    expect(record!.timestamp).toBe(5);
    const h = record!.headers;
    expect(text(h, 'trace-id')).toBe('t-3');
    expect(text(h, LATE_RECORD_HEADERS.reason)).toBe('session-closed');
    expect(text(h, LATE_RECORD_HEADERS.windowStart)).toBe('5');
    expect(text(h, LATE_RECORD_HEADERS.windowEnd)).toBe('5');
    expect(text(h, LATE_RECORD_HEADERS.closeTime)).toBe('90');
    expect(text(h, LATE_RECORD_HEADERS.streamTime)).toBe('100');
    expect(text(h, LATE_RECORD_HEADERS.task)).toBe('1_0');
    expect(text(h, LATE_RECORD_HEADERS.processor)).toMatch(/^KSTREAM-AGGREGATE-\d+$/);
    expect(text(h, LATE_RECORD_HEADERS.store)).toBe('sessions');
    expect(text(h, LATE_RECORD_HEADERS.topic)).toBe('late-sessions-repartition');
    expect(text(h, LATE_RECORD_HEADERS.partition)).toBe('0');
    expect(text(h, LATE_RECORD_HEADERS.offset)).toBe('2');
    // The view as it entered the application, third record of 'views'.
    expect(text(h, LATE_RECORD_HEADERS.inputOrigin)).toBe('views-0@2');
    // Our repartition header is not passed on.
    expect(h['kstreams.origin']).toBeUndefined();
    driver.close();
  });

  it('the rest is as without the option, and every input record is accounted for', () => {
    const withLate = run(sessionize(), { lateRecords: { topic: LATE } }, feed);
    const without = run(sessionize(), {}, feed);
    const read = (d: TopologyTestDriver) => d.createOutputTopic('session-counts', WindowedSerdes.sessionWindowed(Serdes.String()), Serdes.Int64()).readRecordsToList();
    const output = read(withLate);
    expect(output).toEqual(read(without));
    expect(without.createOutputTopic(LATE, Serdes.Buffer(), Serdes.Buffer()).readRecordsToList()).toEqual([]);

    const m = withLate.metrics();
    expect(m).toMatchObject({ lateRecordsTotal: 1, lateSessionRecordsTotal: 1, lateWindowRecordsTotal: 0, droppedLateTotal: 0, droppedNullKeyTotal: 1 });
    expect(without.metrics()).toMatchObject({ lateRecordsTotal: 0, droppedLateTotal: 1, droppedNullKeyTotal: 1 });
    // Five views: the sessions count three, one went to the late topic, one was dropped for its null key.
    const sessions = new Map<string, number>();
    for (const { key, value } of output) {
      const id = `${key!.key}@${key!.window.start}-${key!.window.end}`;
      if (value === null) sessions.delete(id);
      else sessions.set(id, value);
    }
    expect([...sessions]).toEqual([['alice@0-0', 1], ['alice@100-100', 1], ['bob@102-102', 1]]);
    const counted = [...sessions.values()].reduce((sum, n) => sum + n, 0);
    expect(counted + m.lateRecordsTotal + m.droppedNullKeyTotal + m.droppedLateTotal + m.deadLetterRecordsTotal + m.skippedRecordsTotal).toBe(5);
    withLate.close();
    without.close();
  });

  it('logs routed late records as drops are logged: the first at once, rate-limited after', () => {
    const lines: string[] = [];
    const logger: Logger = { ...silent, warn: (message) => lines.push(message) };
    const driver = run(sessionize(), { lateRecords: { topic: LATE }, logger }, feed);
    driver.close();
    expect(lines.filter((l) => l.includes('late'))).toEqual([
      expect.stringMatching(
        /^task 1_0: KSTREAM-AGGREGATE-\d+ sent 1 late records \(their window had closed\) to the late-records topic; 1 in all; last: late-sessions-repartition-0@2: window \[5,5\] closed at 90 \(stream time 100\) \(sent to late-views\)$/,
      ),
    ]);
  });
});

describe('late records kept: final results (onWindowClose)', () => {
  function finalSessions(): Topology {
    const builder = new StreamsBuilder();
    builder
      .stream('views', Consumed.with(Serdes.String(), Serdes.Json<View>()).withTimestampExtractor((r) => r.value.at))
      .groupByKey()
      .windowedBy(SessionWindows.ofInactivityGapAndGrace(10, 5))
      .emitStrategy(EmitStrategy.onWindowClose())
      .count(Materialized.as('sessions'))
      .toStream()
      .to('final-sessions', Produced.with(WindowedSerdes.sessionWindowed(Serdes.String()), Serdes.Int64()));
    return builder.build({ applicationId: 'late-final' });
  }
  const feed = (pipe: (key: string | null, view: View, headers?: Headers) => void): void => {
    for (const at of [0, 4, 30, 2, 60, 61]) pipe('u', { user: 'u', at, page: '/' });
  };

  it('a late record goes to the late topic; the final sessions are those without the option', () => {
    const withLate = run(finalSessions(), { lateRecords: { topic: LATE } }, feed);
    const without = run(finalSessions(), {}, feed);
    const read = (d: TopologyTestDriver) => d.createOutputTopic('final-sessions', WindowedSerdes.sessionWindowed(Serdes.String()), Serdes.Int64()).readKeyValuesToList();
    // [0,4] closes at 4 + 10 + 5 = 19; the view at 2 arrives at stream time 30.
    const output = read(withLate);
    expect(output).toEqual([
      { key: { key: 'u', window: { start: 0, end: 4 } }, value: 2 },
      { key: { key: 'u', window: { start: 30, end: 30 } }, value: 1 },
    ]);
    expect(read(without)).toEqual(output);
    const late = withLate.createOutputTopic(LATE, Serdes.String(), Serdes.Json<View>()).readRecordsToList();
    expect(late.map((r) => [r.value?.at, text(r.headers, LATE_RECORD_HEADERS.windowStart), text(r.headers, LATE_RECORD_HEADERS.windowEnd)])).toEqual([[2, '2', '2']]); // [0,4] has left the store (kept gap + grace after its end)
    expect(withLate.metrics()).toMatchObject({ lateSessionRecordsTotal: 1, droppedLateTotal: 0 });
    expect(without.metrics()).toMatchObject({ lateRecordsTotal: 0, droppedLateTotal: 1 });
  });
});

describe('late records kept: time and sliding windows', () => {
  function windowed(windows: TimeWindows | SlidingWindows): Topology {
    const builder = new StreamsBuilder();
    const grouped = builder.stream('views', Consumed.with(Serdes.String(), Serdes.Json<View>()).withTimestampExtractor((r) => r.value.at)).groupByKey();
    (windows instanceof TimeWindows ? grouped.windowedBy(windows) : grouped.windowedBy(windows)).count(Materialized.as('windows'));
    return builder.build({ applicationId: 'late-windows' });
  }

  it('tumbling windows: the window it missed, and the bytes as read from the source topic', () => {
    const driver = run(windowed(TimeWindows.ofSizeAndGrace(10, 5)), { lateRecords: { topic: LATE } }, (pipe) => {
      pipe('k', { user: 'a', at: 3, page: '/' });
      pipe('k', { user: 'a', at: 30, page: '/' });
      pipe('k', { user: 'a', at: 7, page: '/late' }); // [0,10) closed at 30 - 5 = 25
    });
    const [record, ...rest] = driver.createOutputTopic(LATE, Serdes.String(), Serdes.Json<View>()).readRecordsToList();
    expect(rest).toEqual([]);
    expect(record).toMatchObject({ key: 'k', value: { user: 'a', at: 7, page: '/late' }, timestamp: 7 });
    const h = record!.headers;
    expect([LATE_RECORD_HEADERS.reason, LATE_RECORD_HEADERS.windowStart, LATE_RECORD_HEADERS.windowEnd, LATE_RECORD_HEADERS.closeTime, LATE_RECORD_HEADERS.streamTime].map((n) => text(h, n))).toEqual([
      'window-closed',
      '0',
      '10',
      '25',
      '30',
    ]);
    expect(text(h, LATE_RECORD_HEADERS.topic)).toBe('views');
    expect(text(h, LATE_RECORD_HEADERS.inputOrigin)).toBeUndefined();
    expect(driver.getWindowStore<string, number>('windows').fetch('k', 30)).toBe(1);
    expect(driver.metrics()).toMatchObject({ lateRecordsTotal: 1, lateWindowRecordsTotal: 1, droppedLateTotal: 0 });
    driver.close();
  });

  it('hopping windows: a record late for some of its windows counts in the others, and names the span it missed', () => {
    const driver = run(windowed(TimeWindows.ofSizeAndGrace(10, 0).advanceBy(5)), { lateRecords: { topic: LATE } }, (pipe) => {
      pipe('k', { user: 'a', at: 0, page: '/' });
      pipe('k', { user: 'a', at: 12, page: '/' });
      pipe('k', { user: 'a', at: 8, page: '/late' }); // windows [0,10) closed, [5,15) still open at 12
    });
    const late = driver.createOutputTopic(LATE, Serdes.String(), Serdes.Json<View>()).readRecordsToList();
    expect(late.map((r) => [text(r.headers, LATE_RECORD_HEADERS.windowStart), text(r.headers, LATE_RECORD_HEADERS.windowEnd)])).toEqual([['0', '10']]);
    expect(driver.getWindowStore<string, number>('windows').fetch('k', 5)).toBe(2);
    driver.close();
  });

  it('sliding windows: the span of the windows it would have belonged to', () => {
    const driver = run(windowed(SlidingWindows.ofTimeDifferenceAndGrace(10, 0)), { lateRecords: { topic: LATE } }, (pipe) => {
      pipe('k', { user: 'a', at: 50, page: '/' });
      pipe('k', { user: 'a', at: 100, page: '/' });
      pipe('k', { user: 'a', at: 60, page: '/late' }); // 60 + 10 < 100
    });
    const late = driver.createOutputTopic(LATE, Serdes.String(), Serdes.Json<View>()).readRecordsToList();
    expect(late.map((r) => [r.value?.page, text(r.headers, LATE_RECORD_HEADERS.reason), text(r.headers, LATE_RECORD_HEADERS.windowStart), text(r.headers, LATE_RECORD_HEADERS.windowEnd)])).toEqual([
      ['/late', 'window-closed', '50', '70'],
    ]);
    expect(driver.metrics()).toMatchObject({ lateWindowRecordsTotal: 1, droppedLateTotal: 0 });
    driver.close();
  });
});

describe('late records kept: what is refused', () => {
  it('a setting that is not { topic } is a ConfigError that says what to pass', () => {
    const base = { applicationId: 'a', bootstrapServers: ['127.0.0.1:9092'] };
    expect(() => resolveConfig({ ...base, lateRecords: { topic: '' } })).toThrow(ConfigError);
    expect(() => resolveConfig({ ...base, lateRecords: 'late' as never })).toThrow(/lateRecords must be \{ topic: '<topic>' \}/);
    expect(resolveConfig({ ...base, lateRecords: { topic: 'late' } }).lateRecords).toEqual({ topic: 'late' });
    expect(resolveConfig(base).lateRecords).toBeUndefined();
  });

  it('a topic the topology reads or writes is refused', () => {
    expect(() => new TopologyTestDriver(sessionize(), { lateRecords: { topic: 'views' } })).toThrow(/lateRecords.topic 'views' is a topic the topology reads/);
    expect(() => new TopologyTestDriver(sessionize(), { lateRecords: { topic: 'session-counts' } })).toThrow(/is a topic the topology writes/);
  });

  it('a late record its topic would refuse stops the task, naming the topic and the setting', () => {
    const driver = new TopologyTestDriver(sessionize(), { logger: silent, lateRecords: { topic: LATE }, topicConfigs: { [LATE]: { 'max.message.bytes': '120' } } });
    const input = driver.createInputTopic('views', Serdes.String(), Serdes.Json<View>());
    input.pipeInput('s', { user: 'alice', at: 0, page: '/' });
    input.pipeInput('s', { user: 'alice', at: 100, page: '/' });
    const late = () => input.pipeInput('s', { user: 'alice', at: 5, page: '/late' });
    expect(late).toThrow(ProductionError);
    expect(late).toThrow(/cannot be sent to the late-records topic late-views: it is \d+ bytes; the topic accepts at most/);
  });
});

describe('kstreams topics create: the late-records topic', () => {
  it('is listed from the configuration, in its own role, created as sinks are', async () => {
    const config = { applicationId: 'late', bootstrapServers: ['127.0.0.1:9092'], lateRecords: { topic: LATE } };
    expect(lateRecordsTopicsOf(config)).toEqual([LATE]);
    expect(lateRecordsTopicsOf({})).toEqual([]);
    expect(() => lateRecordsTopicsOf({ lateRecords: { topic: 'no spaces' } })).toThrow(ConfigError);
    const plan = await setUpTopics(sessionize(), { partitions: 6, replicationFactor: -1, configs: {} }, { lateRecordsTopics: lateRecordsTopicsOf(config) });
    expect(plan.entries.map((e) => [e.role, e.topic, e.create])).toEqual([
      ['source', 'views', true],
      ['sink', 'session-counts', true],
      ['late-records', LATE, true],
    ]);
    expect(formatTopicPlan(plan)).toMatch(/late-records\s+late-views\s+would create: partitions 6/);
  });
});
