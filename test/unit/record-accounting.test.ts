/**
 * Every record is accounted for: processed, dead-lettered, or dropped and counted. A record whose user
 * function throws (and is then dead-lettered) leaves state and output as if it had never arrived; a record
 * dropped for a null key or as late is counted and logged, rate-limited.
 */
import { describe, expect, it } from 'vitest';
import {
  Consumed,
  Grouped,
  Materialized,
  Produced,
  Serdes,
  SessionWindows,
  StreamsBuilder,
  TimeWindows,
  TopologyTestDriver,
  WindowedSerdes,
} from '../../src/index.js';
import type { Logger } from '../../src/logging/logger.js';
import { DROP_LOG_INTERVAL_MS, DroppedRecordsLog } from '../../src/runtime/dropped-records-log.js';
import { RecordErrorPolicy } from '../../src/runtime/record-error-policy.js';
import type { ProducerPipeline } from '../../src/runtime/producer-pipeline.js';

const boom = (value: string): void => {
  if (value === 'boom') throw new Error('the aggregator rejects this record');
};

describe('a record whose user function throws leaves no trace', () => {
  it('session aggregate: the sessions it would merge stay, nothing is forwarded', () => {
    const builder = new StreamsBuilder();
    builder
      .stream('in', Consumed.with(Serdes.String(), Serdes.String()))
      .groupByKey()
      .windowedBy(SessionWindows.ofInactivityGapAndGrace(10, 100))
      .aggregate<number>(
        () => 0,
        (_k, v, agg) => {
          boom(v);
          return agg + 1;
        },
        (_k, a, b) => a + b,
        Materialized.as<string, number>('sessions').withValueSerde(Serdes.Int32()),
      )
      .toStream()
      .to('out', Produced.with(WindowedSerdes.sessionWindowed(Serdes.String()), Serdes.Int32()));
    const driver = new TopologyTestDriver(builder.build({ applicationId: 'no-trace' }));
    const input = driver.createInputTopic('in', Serdes.String(), Serdes.String());
    const output = driver.createOutputTopic('out', WindowedSerdes.sessionWindowed(Serdes.String()), Serdes.Int32());
    input.pipeInput('u', 'x', 0);
    input.pipeInput('u', 'x', 20);
    output.readRecordsToList();
    // 'boom' at 10 would merge [0,0] and [20,20] into [0,20].
    expect(() => input.pipeInput('u', 'boom', 10)).toThrow(/rejects this record/);
    expect(output.readRecordsToList()).toEqual([]);
    const store = driver.getSessionStore<string, number>('sessions');
    expect(store.fetch('u').map((s) => [s.key.window.start, s.key.window.end, s.value])).toEqual([
      [0, 0, 1],
      [20, 20, 1],
    ]);
    // And the next good record merges as if 'boom' had never arrived.
    input.pipeInput('u', 'x', 10);
    expect(store.fetch('u').map((s) => [s.key.window.start, s.key.window.end, s.value])).toEqual([[0, 20, 3]]);
  });

  it('hopping windows: no window changes when the aggregator throws for one of them', () => {
    const builder = new StreamsBuilder();
    let calls = 0;
    builder
      .stream('in', Consumed.with(Serdes.String(), Serdes.String()))
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeAndGrace(10, 100).advanceBy(5))
      .aggregate<number>(
        () => 0,
        (_k, v, agg) => {
          // The second window of the record is the one that fails.
          if (v === 'boom' && ++calls === 2) throw new Error('the aggregator rejects this record');
          return agg + 1;
        },
        Materialized.as<string, number>('windows').withValueSerde(Serdes.Int32()),
      );
    const driver = new TopologyTestDriver(builder.build({ applicationId: 'no-trace-windows' }));
    const input = driver.createInputTopic('in', Serdes.String(), Serdes.String());
    input.pipeInput('u', 'x', 7); // windows [0,10) and [5,15)
    expect(() => input.pipeInput('u', 'boom', 8)).toThrow(/rejects this record/);
    const store = driver.getWindowStore<string, number>('windows');
    expect(store.fetchRange('u', 0, 100)).toEqual([
      { key: 0, value: 1 },
      { key: 5, value: 1 },
    ]);
  });
});

describe('dropped records are counted', () => {
  it('a record whose new key is null is counted at the repartition', () => {
    const builder = new StreamsBuilder();
    builder
      .stream('in', Consumed.with(Serdes.String(), Serdes.String()))
      .selectKey((_k, v) => (v === 'anonymous' ? null : v))
      .groupByKey(Grouped.with(Serdes.String(), Serdes.String()))
      .count(Materialized.as('counts'));
    const driver = new TopologyTestDriver(builder.build({ applicationId: 'null-keys' }));
    const input = driver.createInputTopic('in', Serdes.String(), Serdes.String());
    input.pipeInput('k', 'alice', 0);
    input.pipeInput('k', 'anonymous', 1);
    input.pipeInput('k', 'bob', 2);
    const metrics = driver.metrics();
    expect(metrics.droppedNullKey).toBe(1);
    // Three input records: two reach the aggregate (processed in sub-topology 1), one is dropped and counted.
    expect(driver.getKeyValueStore<string, number>('counts').get('alice')).toBe(1);
  });

  it('logs the first drop at once, then at most one line per interval with the running total', () => {
    const lines: string[] = [];
    const logger: Logger = { debug() {}, info() {}, warn: (m) => lines.push(m), error() {} };
    let now = 1_000;
    const log = new DroppedRecordsLog('1_0', logger, () => now);
    log.record('AGG', 'late', 'first');
    expect(lines).toHaveLength(1);
    for (let i = 0; i < 100; i++) log.record('AGG', 'late', `r${i}`);
    expect(lines).toHaveLength(1);
    now += DROP_LOG_INTERVAL_MS;
    log.record('AGG', 'late', 'last');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/AGG dropped 101 late records .*102 in all; last: last/);
    log.record('FILTER', 'null-key', 'k');
    log.flush();
    expect(lines[2]).toMatch(/FILTER dropped 1 records with a null key; 1 in all/);
  });
});

describe('an error after a repartition names the input record', () => {
  it('the processing error of a repartitioned record says where it entered the application', () => {
    const builder = new StreamsBuilder();
    builder
      .stream('views', Consumed.with(Serdes.String(), Serdes.String()))
      .selectKey((_k, v) => v)
      .groupByKey(Grouped.with(Serdes.String(), Serdes.String()))
      .aggregate<number>(
        () => 0,
        (_k, v, agg) => {
          boom(v);
          return agg + 1;
        },
        Materialized.as<string, number>('counts').withValueSerde(Serdes.Int32()),
      )
      .toStream()
      .to('out', Produced.with(Serdes.String(), Serdes.Int32()));
    const driver = new TopologyTestDriver(builder.build({ applicationId: 'origins' }), { traceInputOrigins: true });
    const input = driver.createInputTopic('views', Serdes.String(), Serdes.String());
    const output = driver.createOutputTopic('out', Serdes.String(), Serdes.Int32());
    input.pipeInput('k', 'fine', 0);
    expect(() => input.pipeInput('k', 'boom', 1)).toThrow(/origins-counts-repartition-0@1 \(from the input record at views-0@1\)/);
    // The header is ours: output records never carry it.
    expect(output.readRecordsToList().map((r) => Object.keys(r.headers))).toEqual([[]]);
  });
});

describe('records skipped by logAndContinue', () => {
  it('are counted one by one and logged as one WARN line, then a summary, not a line each', () => {
    const lines: string[] = [];
    const logger: Logger = { debug() {}, info() {}, warn: (m) => lines.push(m), error() {} };
    const policy = new RecordErrorPolicy('logAndContinue', 'deserialization', logger);
    const record = { topic: 'views', partition: 0, offset: '0', key: null, value: Buffer.from('x'), timestamp: 0, headers: {} };
    for (let i = 0; i < 56; i++) expect(policy.handle(new Error(`bad bytes ${i}`), record, {} as ProducerPipeline)).toBe(true);
    expect(policy.skipped).toBe(56);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/this instance: views dropped 1 records it could not deserialize \(skipped\); 1 in all; last: bad bytes 0/);
    policy.flushLog();
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/dropped 55 records it could not deserialize \(skipped\); 56 in all; last: bad bytes 55/);
  });
});

