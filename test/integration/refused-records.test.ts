/**
 * Records the broker would refuse, on a real broker, under both guarantees: among ~2 000 page views, three
 * stamped 3 hours ahead for an output topic that accepts at most one hour ahead
 * (message.timestamp.after.max.ms=3600000, set explicitly so the test means the same on Kafka 3.9 and 4.x),
 * and one whose output is 900 KB for a topic of max.message.bytes=800000. With a dead-letter production
 * handler the application stays RUNNING, the dead-letter topic holds exactly the refused records with
 * headers naming their input record, and the output topics hold exactly every other record's result.
 * Before the check, such a record failed its task's batch (under exactly-once, its transaction) until the
 * instance died, the same way after every restart. The views go through a repartition topic first, which
 * the runtime creates accepting any event time, so the views stamped ahead reach the output stage.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Consumed, DEAD_LETTER_HEADERS, KafkaStreams, PRODUCTION_DEAD_LETTER_HEADERS, Produced, Repartitioned, Serdes, StreamsBuilder, type Serde } from '../../src/index.js';
import { readTopic } from '../../examples/sessionize/kafka-io.js';
import { brokers, createTopics, groupLag, kafkaClient, uniqueName } from './kafka-env.js';
import { waitForState } from './sessionize-harness.js';

interface View {
  readonly id: number;
  /** Event time, which the timestamp extractor reads. */
  readonly ts: number;
  /** Its output for the size-limited topic is 900 KB. */
  readonly big: boolean;
}

const viewSerde: Serde<View> = {
  name: 'View',
  serialize: (v) => Buffer.from(JSON.stringify(v)),
  deserialize: (b) => JSON.parse(b.toString()) as View,
};

const PARTITIONS = 3;
const COUNT = 2000;
const HOUR = 3_600_000;
const NO_LIMIT = '9223372036854775807';
const AHEAD = new Set([311, 1007, 1666]);
const BIG = 1234;

const stateDir = mkdtempSync(join(tmpdir(), 'kstreams-refused-'));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));
let app: KafkaStreams | undefined;
afterEach(async () => {
  await app?.close().catch(() => {});
  app = undefined;
});

const sizeOutput = (v: View) => (v.big ? 'x'.repeat(900_000) : `size-${v.id}`);
const timeOutput = (v: View) => `time-${v.id}@${v.ts}`;

async function scenario(guarantee: 'at_least_once' | 'exactly_once_v2'): Promise<void> {
  const applicationId = uniqueName(`refused-${guarantee === 'exactly_once_v2' ? 'eos' : 'alos'}`);
  const input = `${applicationId}-views`;
  const timeTopic = `${applicationId}-by-time`;
  const sizeTopic = `${applicationId}-by-size`;
  const dlq = `${applicationId}-dead-letters`;
  await createTopics([
    { topic: input, numPartitions: PARTITIONS },
    { topic: timeTopic, numPartitions: PARTITIONS, configEntries: [{ name: 'message.timestamp.after.max.ms', value: String(HOUR) }] },
    {
      topic: sizeTopic,
      numPartitions: PARTITIONS,
      configEntries: [
        { name: 'max.message.bytes', value: '800000' },
        { name: 'message.timestamp.after.max.ms', value: NO_LIMIT },
      ],
    },
    { topic: dlq, numPartitions: 1 },
  ]);

  // Input: views of 50 users, each partition's offsets counted from 0 (one send, a fresh topic).
  const start = Date.now() - 10 * 60_000;
  const views: Array<View & { key: string; partition: number; offset: number }> = [];
  const nextOffset = new Array<number>(PARTITIONS).fill(0);
  for (let id = 0; id < COUNT; id++) {
    const partition = id % PARTITIONS;
    const ts = AHEAD.has(id) ? Date.now() + 3 * HOUR : start + id;
    views.push({ id, ts, big: id === BIG, key: `user-${id % 50}`, partition, offset: nextOffset[partition]!++ });
  }
  // Idempotent: a retried request must not write the views twice (their offsets are checked below).
  const producer = kafkaClient('refused-input').producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic: input, messages: views.map((v) => ({ key: v.key, value: viewSerde.serialize({ id: v.id, ts: v.ts, big: v.big }), partition: v.partition })) });
  await producer.disconnect();

  const builder = new StreamsBuilder();
  // Through a repartition topic the runtime creates: on Kafka 4 (one hour ahead at most by default) it must
  // still take the views stamped ahead, as it is created accepting any event time.
  const repartition = `${applicationId}-by-user-repartition`;
  const stream = builder
    .stream(input, Consumed.with(Serdes.String(), viewSerde).withTimestampExtractor((r) => r.value.ts))
    .repartition(Repartitioned.with(Serdes.String(), viewSerde).withName('by-user'));
  stream.mapValues(timeOutput).to(timeTopic, Produced.with(Serdes.String(), Serdes.String()));
  stream.mapValues(sizeOutput).to(sizeTopic, Produced.with(Serdes.String(), Serdes.String()));
  app = new KafkaStreams(builder.build({ applicationId }), {
    applicationId,
    bootstrapServers: brokers(),
    stateDir,
    logLevel: 'silent',
    processingGuarantee: guarantee,
    commitIntervalMs: 500,
    productionExceptionHandler: { deadLetterTopic: dlq },
  });
  await app.start();
  await waitForState(app, 'RUNNING');
  const deadline = Date.now() + 90_000;
  for (;;) {
    const lag = await groupLag(applicationId, [input, repartition]);
    if (lag.length === 2 * PARTITIONS && lag.every((p) => p.committed >= 0n && p.lag === 0n)) break;
    if (Date.now() > deadline) throw new Error(`input not consumed: ${JSON.stringify(lag, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  expect(app.state).toBe('RUNNING');
  const metrics = app.metrics();
  await app.close();
  expect(metrics.deadLetterRecordsTotal).toBe(AHEAD.size + 1);

  // Every other record's result, exactly once each.
  const read = async (topic: string) => (await readTopic(brokers(), topic, PARTITIONS, true)).map(([k, v]) => `${k.toString()}=${v?.toString()}`).sort();
  const expectedTime = views.filter((v) => !AHEAD.has(v.id)).map((v) => `${v.key}=${timeOutput(v)}`).sort();
  const expectedSize = views.filter((v) => v.id !== BIG).map((v) => `${v.key}=${sizeOutput(v)}`).sort();
  expect(await read(timeTopic)).toEqual(expectedTime);
  expect(await read(sizeTopic)).toEqual(expectedSize);

  // The dead letters: exactly the refused records, with headers naming the record the task read (from the
  // repartition topic), the input record it came from, the target topic and the reason.
  const letters = await readDeadLetters(dlq, AHEAD.size + 1);
  expect((await readTopic(brokers(), dlq, 1, true)).length).toBe(AHEAD.size + 1);
  const expectedLetters = [
    ...views.filter((v) => AHEAD.has(v.id)).map((v) => ({ key: v.key, value: timeOutput(v), target: timeTopic, origin: `${input}-${v.partition}@${v.offset}` })),
    ...views.filter((v) => v.id === BIG).map((v) => ({ key: v.key, value: sizeOutput(v), target: sizeTopic, origin: `${input}-${v.partition}@${v.offset}` })),
  ];
  const byOrigin = (a: { origin: string }, b: { origin: string }) => a.origin.localeCompare(b.origin);
  expect(letters.map(({ key, value, target, origin }) => ({ key, value, target, origin })).sort(byOrigin)).toEqual(expectedLetters.sort(byOrigin));
  for (const letter of letters) {
    expect(letter.topic).toBe(repartition);
    expect(Number(letter.partition)).toBeGreaterThanOrEqual(0);
    expect(Number(letter.offset)).toBeGreaterThanOrEqual(0);
    if (letter.target === timeTopic) expect(letter.message).toMatch(/is 3 h ahead of this machine's clock; the topic accepts at most 1 h ahead \(message\.timestamp\.after\.max\.ms=3600000\)/);
    else expect(letter.message).toMatch(/is 900\d{3} bytes; the topic accepts at most 799900 bytes .*\(max\.message\.bytes=800000\)/);
  }
}

interface DeadLetter {
  readonly key: string;
  readonly value: string;
  readonly topic: string;
  readonly partition: string;
  readonly offset: string;
  readonly target: string;
  /** The input record it came from, through the repartition topic. */
  readonly origin: string;
  readonly message: string;
}

async function readDeadLetters(topic: string, count: number): Promise<DeadLetter[]> {
  const consumer = kafkaClient('dlq-reader').consumer({ groupId: `${topic}-reader`, readUncommitted: false, maxBytesPerPartition: 2 * 1024 * 1024 });
  const letters: DeadLetter[] = [];
  const header = (h: Record<string, unknown> | undefined, name: string) => (h?.[name] as Buffer | string | undefined)?.toString() ?? '';
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`read ${letters.length} of ${count} dead letters`)), 60_000);
    void consumer.run({
      eachMessage: async ({ message }) => {
        const h = message.headers as Record<string, unknown> | undefined;
        letters.push({
          key: String(message.key),
          value: String(message.value),
          topic: header(h, DEAD_LETTER_HEADERS.topic),
          partition: header(h, DEAD_LETTER_HEADERS.partition),
          offset: header(h, DEAD_LETTER_HEADERS.offset),
          target: header(h, PRODUCTION_DEAD_LETTER_HEADERS.targetTopic),
          origin: header(h, PRODUCTION_DEAD_LETTER_HEADERS.inputOrigin),
          message: header(h, DEAD_LETTER_HEADERS.message),
        });
        if (letters.length === count) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return letters;
}

describe('records the broker would refuse', () => {
  it('under at-least-once, are dead-lettered one by one and everything else is produced', async () => {
    await scenario('at_least_once');
  });

  it('under exactly-once, are dead-lettered one by one and everything else is produced', async () => {
    await scenario('exactly_once_v2');
  });
});
