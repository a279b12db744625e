import { describe, expect, it } from 'vitest';
import {
  Consumed,
  DEAD_LETTER_HEADERS,
  Grouped,
  Materialized,
  Produced,
  ProductionError,
  Repartitioned,
  Serdes,
  StreamsBuilder,
  TopologyTestDriver,
  type ProductionExceptionHandler,
} from '../../src/index.js';
import type { Admin } from '../../src/client/admin.js';
import type { Logger } from '../../src/logging/logger.js';
import { acceptAnyEventTime } from '../../src/runtime/internal-topic-manager.js';
import { PRODUCTION_DEAD_LETTER_HEADERS } from '../../src/runtime/production-exception-policy.js';
import { writeLimitsOf, refusal } from '../../src/runtime/topic-write-limits.js';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const HOUR = 3_600_000;
const APP = 'refusals';

/** in → (a value 'big' becomes 900 KB) → out, through a named repartition topic when asked. */
function topology(viaRepartition = false) {
  const builder = new StreamsBuilder();
  let stream = builder.stream('in', Consumed.with(Serdes.String(), Serdes.String())).mapValues((v) => (v === 'big' ? 'x'.repeat(900_000) : `${v}!`));
  if (viaRepartition) stream = stream.repartition(Repartitioned.with(Serdes.String(), Serdes.String()).withName('rekey'));
  stream.to('out', Produced.with(Serdes.String(), Serdes.String()));
  return builder.build({ applicationId: APP });
}

interface Input {
  readonly key: string | null;
  readonly value: string;
  readonly timestamp: number;
}

/** Five records; the third is the one the topic refuses, as `kind` says. */
function inputs(kind: 'ahead' | 'behind' | 'size' | 'null-key'): Input[] {
  const bad: Input =
    kind === 'ahead'
      ? { key: 'c', value: 'v3', timestamp: NOW + 3 * HOUR }
      : kind === 'behind'
        ? { key: 'c', value: 'v3', timestamp: NOW - 3 * HOUR }
        : kind === 'size'
          ? { key: 'c', value: 'big', timestamp: NOW + 3 }
          : { key: null, value: 'v3', timestamp: NOW + 3 };
  return [
    { key: 'a', value: 'v1', timestamp: NOW + 1 },
    { key: 'b', value: 'v2', timestamp: NOW + 2 },
    bad,
    { key: 'd', value: 'v4', timestamp: NOW + 4 },
    { key: 'e', value: 'v5', timestamp: NOW + 5 },
  ];
}

const CONFIGS = {
  ahead: { 'message.timestamp.after.max.ms': String(HOUR), 'message.timestamp.before.max.ms': '9223372036854775807' },
  behind: { 'message.timestamp.after.max.ms': '9223372036854775807', 'message.timestamp.before.max.ms': String(HOUR) },
  size: { 'max.message.bytes': '800000' },
  'null-key': { 'cleanup.policy': 'compact' },
} as const;

const REASONS = {
  ahead: /would be refused: its timestamp 2026-01-15T15:00:00\.000Z is 3 h ahead of this machine's clock; the topic accepts at most 1 h ahead \(message\.timestamp\.after\.max\.ms=3600000\)/,
  behind: /would be refused: its timestamp 2026-01-15T09:00:00\.000Z is 3 h behind this machine's clock; the topic accepts at most 1 h behind \(message\.timestamp\.before\.max\.ms=3600000\)/,
  size: /is 900001 bytes; the topic accepts at most 799900 bytes of key, value and headers \(max\.message\.bytes=800000\)/,
  'null-key': /would be refused: it has no key, and the topic is compacted \(cleanup\.policy=compact\)/,
} as const;

function capturingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, warn: (m) => void warnings.push(m), error() {} };
}

function run(kind: keyof typeof CONFIGS, handler: ProductionExceptionHandler, target = 'out', viaRepartition = false) {
  const logger = capturingLogger();
  const driver = new TopologyTestDriver(topology(viaRepartition), { productionExceptionHandler: handler, topicConfigs: { [target]: CONFIGS[kind] }, logger }, NOW);
  const input = driver.createInputTopic('in', Serdes.String(), Serdes.String());
  const output = driver.createOutputTopic('out', Serdes.String(), Serdes.String());
  const errors: unknown[] = [];
  for (const r of inputs(kind)) {
    try {
      input.pipeInput(r.key, r.value, r.timestamp);
    } catch (err) {
      errors.push(err);
    }
  }
  return { driver, output, errors, logger };
}

/** What `out` holds when the third record is refused: every other record's result, unchanged. */
function othersResults(kind: keyof typeof CONFIGS) {
  return inputs(kind)
    .filter((_, i) => i !== 2)
    .map((r) => ({ key: r.key, value: `${r.value}!`, timestamp: r.timestamp, headers: {} }));
}

describe.each(['ahead', 'behind', 'size', 'null-key'] as const)('an output record its topic refuses (%s)', (kind) => {
  it("fails by default, naming the sink, topic, input record and the topic's setting", () => {
    const { output, errors } = run(kind, 'fail');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ProductionError);
    const message = (errors[0] as Error).message;
    expect(message).toMatch(/^The output record of \S+ for topic out \(from in-0@2\) /);
    expect(message).toMatch(REASONS[kind]);
    // Nothing of the refused record was sent; the records around it are as without it.
    expect(output.readRecordsToList()).toEqual(othersResults(kind));
  });

  it("with 'continue', drops and counts it, logs it, and every other record's output is unchanged", () => {
    const { driver, output, errors, logger } = run(kind, 'continue');
    expect(errors).toEqual([]);
    expect(output.readRecordsToList()).toEqual(othersResults(kind));
    expect(driver.metrics().droppedProduction).toBe(1);
    driver.close();
    expect(logger.warnings.join('\n')).toMatch(REASONS[kind]);
  });

  it('with a dead-letter topic, sends its serialized key and value there with headers naming the input record, the topic and why', () => {
    const { driver, output, errors } = run(kind, { deadLetterTopic: 'dlq' });
    expect(errors).toEqual([]);
    expect(output.readRecordsToList()).toEqual(othersResults(kind));
    expect(driver.metrics().deadLetteredProduction).toBe(1);
    const letters = driver.createOutputTopic('dlq', Serdes.String(), Serdes.String()).readRecordsToList();
    expect(letters).toHaveLength(1);
    const letter = letters[0]!;
    const bad = inputs(kind)[2]!;
    expect(letter.key).toBe(bad.key);
    expect(letter.value).toBe(bad.value === 'big' ? 'x'.repeat(900_000) : `${bad.value}!`);
    expect(letter.timestamp).toBe(NOW); // stamped when dead-lettered (the driver's wall clock)
    const header = (name: string) => String(letter.headers[name]);
    expect(header(DEAD_LETTER_HEADERS.topic)).toBe('in');
    expect(header(DEAD_LETTER_HEADERS.partition)).toBe('0');
    expect(header(DEAD_LETTER_HEADERS.offset)).toBe('2');
    expect(header(DEAD_LETTER_HEADERS.exception)).toBe('ProductionError');
    expect(header(DEAD_LETTER_HEADERS.message)).toMatch(REASONS[kind]);
    expect(header(PRODUCTION_DEAD_LETTER_HEADERS.targetTopic)).toBe('out');
    expect(header(PRODUCTION_DEAD_LETTER_HEADERS.recordTimestamp)).toBe(String(bad.timestamp));
  });
});

describe('refusals on internal topics', () => {
  const repartitionTopic = `${APP}-rekey-repartition`;

  it('a repartition topic that would refuse a record goes through the same handler, and the rest flows on', () => {
    const { driver, output, errors } = run('ahead', { deadLetterTopic: 'dlq' }, repartitionTopic, true);
    expect(errors).toEqual([]);
    expect(output.readKeyValuesToList()).toEqual(othersResults('ahead').map(({ key, value }) => ({ key, value })));
    const letters = driver.createOutputTopic('dlq', Serdes.String(), Serdes.String()).readRecordsToList();
    expect(letters.map((l) => [l.key, String(l.headers[PRODUCTION_DEAD_LETTER_HEADERS.targetTopic])])).toEqual([['c', repartitionTopic]]);
  });

  it('a refused repartition record fails by default, naming the repartition topic', () => {
    const { errors } = run('ahead', 'fail', repartitionTopic, true);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toMatch(new RegExp(`for topic ${repartitionTopic} \\(from in-0@2\\) would be refused`));
  });

  it('a changelog record its topic would refuse is fatal whatever the handler, naming the store and the setting', () => {
    const builder = new StreamsBuilder();
    builder
      .stream('in', Consumed.with(Serdes.String(), Serdes.String()))
      .groupByKey(Grouped.with(Serdes.String(), Serdes.String()))
      .reduce((a, b) => a + b, Materialized.as<string, string>('totals').withValueSerde(Serdes.String()));
    const changelog = `${APP}-totals-changelog`;
    for (const handler of ['continue', { deadLetterTopic: 'dlq' }] as const) {
      const driver = new TopologyTestDriver(builder.build({ applicationId: APP }), { productionExceptionHandler: handler, topicConfigs: { [changelog]: { 'max.message.bytes': '1000' } } }, NOW);
      const input = driver.createInputTopic('in', Serdes.String(), Serdes.String());
      input.pipeInput('k', 'x'.repeat(500));
      expect(() => input.pipeInput('k', 'y'.repeat(500))).toThrow(
        new RegExp(`The changelog record of store totals for topic ${changelog} is \\d+ bytes; the topic accepts at most 900 bytes .*\\(max\\.message\\.bytes=1000\\).*fatal whatever the productionExceptionHandler`),
      );
    }
  });
});

describe('topic write limits', () => {
  const check = (configs: Record<string, string>, key: Buffer | null, timestamp: number) =>
    refusal(writeLimitsOf(new Map(Object.entries(configs))), 1_048_588, key, Buffer.from('v'), {}, timestamp, () => NOW);

  it('LogAppendTime topics never refuse a timestamp; Long.MAX means no limit', () => {
    expect(check({ 'message.timestamp.type': 'LogAppendTime', 'message.timestamp.after.max.ms': '1' }, Buffer.from('k'), NOW + HOUR)).toBeUndefined();
    expect(check({ 'message.timestamp.after.max.ms': '9223372036854775807' }, Buffer.from('k'), NOW + 1000 * HOUR)).toBeUndefined();
  });

  it('before Kafka 3.6, message.timestamp.difference.max.ms bounds both directions', () => {
    expect(check({ 'message.timestamp.difference.max.ms': String(HOUR) }, Buffer.from('k'), NOW - 2 * HOUR)).toMatch(/2 h behind.*message\.timestamp\.difference\.max\.ms=3600000/);
  });

  it('a broker that reports no timestamp configs: no timestamp check', () => {
    expect(check({ 'max.message.bytes': '1048588' }, Buffer.from('k'), NOW + 1000 * HOUR)).toBeUndefined();
  });

  it('headers count toward the size', () => {
    const limits = writeLimitsOf(new Map([['max.message.bytes', '300']]));
    expect(refusal(limits, 1_048_588, Buffer.from('k'), Buffer.alloc(150), {}, NOW, () => NOW)).toBeUndefined();
    expect(refusal(limits, 1_048_588, Buffer.from('k'), Buffer.alloc(150), { trace: Buffer.alloc(100) }, NOW, () => NOW)).toMatch(/is 256 bytes/);
  });
});

describe('internal topics accept any event time', () => {
  const adminKnowing = (names: string[]) =>
    ({ topicConfigs: async (topics: string[]) => new Map(topics.map((t) => [t, new Map(names.map((n) => [n, '3600000']))])) }) as unknown as Admin;
  const created = () => [
    { topic: `${APP}-rekey-repartition`, numPartitions: 3, configEntries: [{ name: 'cleanup.policy', value: 'delete' }] },
    { topic: `${APP}-totals-changelog`, numPartitions: 3, configEntries: [{ name: 'message.timestamp.before.max.ms', value: '1000' }] },
  ];

  it('are created with both timestamp bounds at Long.MAX where the broker knows them; a config the topology sets wins', async () => {
    const topics = created();
    await acceptAnyEventTime(adminKnowing(['message.timestamp.after.max.ms', 'message.timestamp.before.max.ms']), topics, ['in']);
    expect(topics[0]!.configEntries).toEqual([
      { name: 'cleanup.policy', value: 'delete' },
      { name: 'message.timestamp.after.max.ms', value: '9223372036854775807' },
      { name: 'message.timestamp.before.max.ms', value: '9223372036854775807' },
    ]);
    expect(topics[1]!.configEntries).toEqual([
      { name: 'message.timestamp.before.max.ms', value: '1000' },
      { name: 'message.timestamp.after.max.ms', value: '9223372036854775807' },
    ]);
  });

  it('on a broker that does not know those configs (before Kafka 3.6), nothing is added', async () => {
    const topics = created();
    await acceptAnyEventTime(adminKnowing([]), topics, ['in']);
    expect(topics).toEqual(created());
  });
});
