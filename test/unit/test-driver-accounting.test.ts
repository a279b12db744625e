/**
 * The TopologyTestDriver counts and logs every dropped, skipped and dead-lettered record as the runtime
 * does: the same bad input through the driver and through the runtime's own path (a StreamTask and the
 * RecordAccounting the TaskExecutor hands failures to) gives the same counters and the same log lines.
 */
import { describe, expect, it } from 'vitest';
import {
  Consumed,
  Materialized,
  ProcessingError,
  Serdes,
  StreamsBuilder,
  TimeWindows,
  TopologyTestDriver,
  type RecordMetrics,
  type Topology,
} from '../../src/index.js';
import type { Logger } from '../../src/logging/logger.js';
import type { OutgoingRecord } from '../../src/runtime/record-sink.js';
import { RecordAccounting, recordMetrics, type RecordErrorHandlers } from '../../src/runtime/record-accounting.js';
import { StreamTask } from '../../src/runtime/stream-task.js';
import { InMemoryBytesStore } from '../../src/stores/bytes-store.js';
import { createStore } from '../../src/stores/store-factory.js';

interface View {
  at?: unknown;
  boom?: boolean;
}

function topology(): Topology {
  const builder = new StreamsBuilder();
  builder
    .stream('views', Consumed.with(Serdes.String(), Serdes.Json<View>()).withTimestampExtractor((r) => r.value.at as number))
    .mapValues((v) => {
      if (v.boom === true) throw new Error('this view is rejected');
      return v;
    })
    .groupByKey()
    .windowedBy(TimeWindows.ofSizeAndGrace(10, 0))
    .count(Materialized.as('counts'));
  return builder.build({ applicationId: 'accounting' });
}

const json = (value: View): Buffer => Buffer.from(JSON.stringify(value));

/** Raw input records: good ones, and one of each way to be dropped, skipped or dead-lettered. */
const INPUT: ReadonlyArray<{ key: string | null; value: Buffer }> = [
  { key: 'u', value: json({ at: 5 }) },
  { key: 'u', value: json({}) }, // the extractor returns undefined: a processing error
  { key: 'u', value: json({ at: -1 }) }, // a negative timestamp: dropped as invalid
  { key: 'u', value: json({ at: 'soon' }) }, // not a number: a processing error
  { key: null, value: json({ at: 6 }) }, // null key: dropped by the aggregation
  { key: 'u', value: json({ at: 100 }) },
  { key: 'u', value: json({ at: 7 }) }, // its window closed at 10: late
  { key: 'u', value: Buffer.from('not json') }, // cannot be deserialized
  { key: 'u', value: json({ at: 101, boom: true }) }, // the mapper throws
];

const HANDLERS: RecordErrorHandlers = { deserializationExceptionHandler: { deadLetterTopic: 'dead-letters' }, processingExceptionHandler: 'logAndContinue' };

function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
  return { logger: { debug() {}, info: at('INFO'), warn: at('WARN'), error: at('ERROR') }, lines };
}

const only = (m: RecordMetrics): RecordMetrics => ({
  processedTotal: m.processedTotal,
  droppedLateTotal: m.droppedLateTotal,
  lateRecordsTotal: m.lateRecordsTotal,
  lateSessionRecordsTotal: m.lateSessionRecordsTotal,
  lateWindowRecordsTotal: m.lateWindowRecordsTotal,
  droppedNullKeyTotal: m.droppedNullKeyTotal,
  droppedInvalidTimestampTotal: m.droppedInvalidTimestampTotal,
  droppedProductionTotal: m.droppedProductionTotal,
  skippedRecordsTotal: m.skippedRecordsTotal,
  deadLetterRecordsTotal: m.deadLetterRecordsTotal,
});

/** The runtime's path: one StreamTask, failures to the RecordAccounting as the TaskExecutor hands them. */
function throughRuntime(logger: Logger): { metrics: RecordMetrics; deadLetters: OutgoingRecord[] } {
  const t = topology();
  const task = new StreamTask({
    topology: t,
    subtopology: t.subtopologies[0]!,
    partition: 0,
    sink: { send: () => {}, partitionsFor: () => 1 },
    createStore: (definition) => createStore(definition, new InMemoryBytesStore(), 1024 * 1024, undefined),
    wallClock: () => 0,
    logger,
  });
  task.init();
  const failures = new RecordAccounting(HANDLERS, logger);
  const deadLetters: OutgoingRecord[] = [];
  INPUT.forEach(({ key, value }, offset) => {
    const k = key === null ? null : Buffer.from(key);
    try {
      task.process('views', 0, String(offset), k, value, 0, {});
    } catch (err) {
      const failed = { topic: 'views', partition: 0, offset: String(offset), key: k, value, timestamp: 0, headers: {} };
      if (!failures.handle(err, failed, { enqueue: (r) => deadLetters.push(r) })) throw err;
    }
  });
  task.close();
  failures.flushLog();
  return { metrics: recordMetrics(task.counters, failures), deadLetters };
}

describe('the test driver accounts for records as the runtime does', () => {
  it('the same bad input gives the same counters and the same log lines', () => {
    const runtime = capturingLogger();
    const expected = throughRuntime(runtime.logger);

    const test = capturingLogger();
    const driver = new TopologyTestDriver(topology(), { logger: test.logger, ...HANDLERS });
    const input = driver.createInputTopic('views', Serdes.String(), Serdes.Buffer());
    for (const { key, value } of INPUT) input.pipeInput(key, value, 0);
    const metrics = driver.metrics();
    const deadLetters = driver.createOutputTopic('dead-letters', Serdes.String(), Serdes.String()).readRecordsToList();
    driver.close();

    expect(only(metrics)).toEqual(expected.metrics);
    expect(metrics).toMatchObject({ droppedInvalidTimestampTotal: 1, droppedNullKeyTotal: 1, droppedLateTotal: 1, deadLetterRecordsTotal: 1 });
    // Each record in one counter: the two extractor failures and the rejected view skipped, the unreadable one dead-lettered.
    expect(metrics.skippedRecordsTotal).toBe(3);
    expect(metrics.processed).toBe(metrics.processedTotal);
    expect(deadLetters.map((r) => r.value)).toEqual(expected.deadLetters.map((r) => r.value?.toString()));
    expect(test.lines).toEqual(runtime.lines);
    // A routed record's log line and dead letter carry the problem, not the advice on routing it.
    expect(test.lines.join('\n')).toContain('Json serde: Unexpected token');
    expect(test.lines.join('\n')).not.toContain('deserializationExceptionHandler');
    expect(test.lines.join('\n')).toMatch(/task 0_0: KSTREAM-SOURCE-\d+ dropped 1 records with an invalid timestamp; 1 in all; last: views-0@2: extracted timestamp -1/);
  });

  it('an extractor that returns no number is a processing error naming it, fatal by default', () => {
    const driver = new TopologyTestDriver(topology(), { logger: capturingLogger().logger });
    const input = driver.createInputTopic('views', Serdes.String(), Serdes.Json<View>());
    expect(() => input.pipeInput('u', {}, 0)).toThrow(ProcessingError);
    expect(() => input.pipeInput('u', { at: 'soon' }, 0)).toThrow(
      /timestamp extractor\) failed on the record at views-0@1: it returned the string 'soon', not a number: return the record's time in ms/,
    );
    expect(() => input.pipeInput('u', {}, 0)).toThrow(/it returned undefined, not a number/);
  });

  it('an extractor that returns a negative number drops the record, counted and logged', () => {
    const { logger, lines } = capturingLogger();
    const driver = new TopologyTestDriver(topology(), { logger });
    driver.createInputTopic('views', Serdes.String(), Serdes.Json<View>()).pipeInput('u', { at: -5 }, 0);
    expect(driver.metrics().droppedInvalidTimestampTotal).toBe(1);
    expect(lines).toEqual([expect.stringMatching(/^WARN task 0_0: .* dropped 1 records with an invalid timestamp/)]);
  });
});
