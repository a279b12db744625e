/**
 * The `latency` suite: end-to-end latency at a steady input rate below saturation, ours beside Kafka Streams.
 * For each guarantee, commit interval and rate, each contender runs on fresh topics while a producer writes
 * page views at the rate for LATENCY_SECONDS; each view carries its produce time as its event time, so the
 * session update that includes it has `lastSeen` at least that time. The output topic stamps its records
 * with the broker's append time (message.timestamp.type=LogAppendTime), and an update is read as the
 * guarantee makes it visible (read_committed under exactly-once). A view's latency: from its produce time
 * to the append time of the first update of its user whose `lastSeen` reaches it (coalesced views wait for
 * the update that includes them). p50 / p99 / max per run, and ours ÷ Kafka Streams in the same run.
 *
 *   LATENCY_RATES     views/s, comma-separated (default 2000,10000); a share such as 80% first measures both
 *                     contenders' maximum rate under the guarantee (bench/lib/max-rate.ts, on a backlog of
 *                     LATENCY_MAX_EVENTS views, default 300 000) and runs both at that share of the slower one's
 *                     maximum (the same absolute rate for both); LATENCY_MAX_RATE adds 80% of a given rate
 *   LATENCY_SECONDS   how long each rate is produced (default 20); the first 2 s are warm-up, not counted
 *   LATENCY_GUARANTEES  default at_least_once,exactly_once_v2
 *   LATENCY_COMMIT_MS   commit intervals, comma-separated; "default" is each guarantee's default
 *                       (30 000 / 100 ms, both contenders); default "default,1000" (1000: 100 under exactly-once)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Partitioners } from 'kafkajs';
import { fillInputTopic, PARTITIONS, type BenchBroker } from './bench-env.js';
import { ensureKafkaStreamsPeer } from './kafka-streams-peer.js';
import { drained, liveContenders, running, stop, type Contender, type Guarantee } from './live-contenders.js';
import { maxRates, parseRates, rateFor, type MaxRates } from './max-rate.js';
import { createTopics } from '../../src/index.js';
import { pageViewSerde, sessionKeySerde, type PageView } from '../../examples/sessionize/topology.js';
const WARM_UP_MS = 2000;
const PAGES = ['/', '/search', '/product', '/cart', '/checkout', '/help'];

interface Percentiles {
  views: number;
  /** Views no update reached before the run ended (none expected). */
  unmatched: number;
  p50: number;
  p99: number;
  max: number;
}

/** Writes views at `rate` per second for `seconds`, in 10 ms ticks; returns each view's user and produce time. */
async function produceAtRate(broker: BenchBroker, topic: string, rate: number, seconds: number): Promise<Array<[string, number]>> {
  const producer = broker.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  const users = Math.max(100, rate * 5);
  const sent: Array<[string, number]> = [];
  const began = Date.now();
  const sends: Array<Promise<unknown>> = [];
  try {
    for (let tick = 1; ; tick++) {
      const due = Math.min(rate * seconds, Math.round((rate * (Date.now() - began)) / 1000));
      const messages = [];
      while (sent.length < due) {
        const now = Date.now();
        const userId = `user-${Math.floor(Math.random() * users)}`;
        const view: PageView = { userId, page: PAGES[sent.length % PAGES.length]!, status: 200, bytes: 1000, timestamp: now };
        sent.push([userId, now]);
        messages.push({ key: userId, value: pageViewSerde.serialize(view), timestamp: String(now) });
      }
      if (messages.length > 0) sends.push(producer.send({ topic, messages }));
      if (sent.length >= rate * seconds) break;
      const wait = began + tick * 10 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    await Promise.all(sends);
  } finally {
    await producer.disconnect();
  }
  return sent;
}

/** Per user, the output's (lastSeen, append time) pairs in offset order, read as the guarantee shows them. */
async function readUpdates(broker: BenchBroker, topic: string, readCommitted: boolean, lastSeen: (v: Buffer) => number): Promise<Map<string, Array<[number, number]>>> {
  const admin = broker.kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const remaining = new Map(ends.filter((e) => Number(e.high) > 0).map((e) => [e.partition, BigInt(e.high)]));
  const updates = new Map<string, Array<[number, number]>>();
  if (remaining.size === 0) return updates;
  const consumer = broker.kafka.consumer({ groupId: `latency-reader-${Date.now()}`, readUncommitted: !readCommitted });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          if (m.value === null || m.key === null) continue;
          const user = sessionKeySerde.deserialize(m.key).key;
          let list = updates.get(user);
          if (list === undefined) updates.set(user, (list = []));
          list.push([lastSeen(m.value), Number(m.timestamp)]);
        }
        // Under read_committed the last offsets may be transaction markers: the batch's end tells.
        const end = remaining.get(batch.partition);
        if (end !== undefined && BigInt(batch.lastOffset()) + 1n >= end) remaining.delete(batch.partition);
        if (remaining.size === 0) resolve();
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  return updates;
}

function latencies(sent: ReadonlyArray<[string, number]>, updates: ReadonlyMap<string, Array<[number, number]>>, from: number): Percentiles {
  const values: number[] = [];
  let unmatched = 0;
  for (const [user, producedAt] of sent) {
    if (producedAt < from) continue;
    const list = updates.get(user);
    // The earliest append among the user's updates that include the view.
    let first = Number.POSITIVE_INFINITY;
    for (const [lastSeen, appendedAt] of list ?? []) if (lastSeen >= producedAt && appendedAt < first) first = appendedAt;
    if (first === Number.POSITIVE_INFINITY) unmatched++;
    else values.push(Math.max(0, first - producedAt));
  }
  values.sort((a, b) => a - b);
  const at = (q: number) => (values.length === 0 ? Number.NaN : values[Math.min(values.length - 1, Math.floor(q * values.length))]!);
  return { views: values.length, unmatched, p50: at(0.5), p99: at(0.99), max: values.length === 0 ? Number.NaN : values[values.length - 1]! };
}

async function oneRun(broker: BenchBroker, contender: Contender, guarantee: Guarantee, commitMs: number | undefined, rate: number, seconds: number, run: string): Promise<Percentiles> {
  const tag = `${contender.name === 'ours' ? 'ours' : 'java'}-${guarantee === 'exactly_once_v2' ? 'eos' : 'alos'}-${commitMs ?? 'default'}-${rate}`;
  const applicationId = `bench-latency-${tag}-${run}`;
  const input = `${applicationId}-in`;
  const output = `${applicationId}-out`;
  await createTopics(broker.brokers, [
    { topic: input, numPartitions: PARTITIONS },
    { topic: output, numPartitions: PARTITIONS, configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] },
  ]);
  const stateDir = mkdtempSync(join(tmpdir(), 'kstreams-bench-latency-'));
  const defaultCommit = guarantee === 'exactly_once_v2' ? 100 : 30_000;
  const interval = commitMs ?? defaultCommit;
  const env = { KAFKA_BROKERS: broker.brokers.join(','), APP_ID: applicationId, INPUT_TOPIC: input, OUTPUT_TOPIC: output, STATE_DIR: stateDir,
    GUARANTEE: guarantee, COMMIT_INTERVAL_MS: String(interval) };
  const child = contender.start(env);
  try {
    await running(child, contender.name);
    const sent = await produceAtRate(broker, input, rate, seconds);
    // Everything consumed and committed, then one more commit interval for the last flush to be visible.
    await drained(broker, applicationId, input, 120_000);
    await new Promise((r) => setTimeout(r, interval + 2000));
    const updates = await readUpdates(broker, output, guarantee === 'exactly_once_v2', contender.lastSeen);
    return latencies(sent, updates, sent.length > 0 ? sent[0]![1] + WARM_UP_MS : 0);
  } finally {
    await stop(child);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

export async function latencySuite(broker: BenchBroker, run: string, table: (rows: Array<Record<string, string | number>>) => void,
  defaultRates = '2000,10000'): Promise<Record<string, unknown>> {
  const specs = parseRates(process.env.LATENCY_RATES ?? defaultRates);
  if (process.env.LATENCY_MAX_RATE !== undefined) specs.push({ viewsPerSecond: Math.round(0.8 * Number(process.env.LATENCY_MAX_RATE)) });
  const seconds = Number(process.env.LATENCY_SECONDS ?? 20);
  const guarantees = (process.env.LATENCY_GUARANTEES ?? 'at_least_once,exactly_once_v2').split(',') as Guarantee[];
  const intervals = (process.env.LATENCY_COMMIT_MS ?? 'default,1000').split(',');
  const classpath = ensureKafkaStreamsPeer((line) => console.log(`[latency] ${line}`));
  const rows: Array<Record<string, string | number>> = [];
  const results: Array<Record<string, unknown>> = [];
  const maxima: MaxRates[] = [];
  let backlog: string | undefined;
  const maxEvents = Number(process.env.LATENCY_MAX_EVENTS ?? 300_000);
  for (const guarantee of guarantees) {
    let max: MaxRates | undefined;
    if (specs.some((s) => 'shareOfMax' in s)) {
      if (backlog === undefined) {
        backlog = `bench-maxrate-${run}`;
        console.log(`[latency] filling a backlog of ${maxEvents} views for the maximum rates...`);
        await fillInputTopic(broker, backlog, maxEvents, { seed: 51 });
      }
      console.log(`[latency] maximum rate, ${guarantee}: each contender on the backlog, from RUNNING to all committed...`);
      max = await maxRates(broker, classpath, guarantee, backlog, maxEvents, run);
      maxima.push(max);
      console.log(`[latency] maximum ${guarantee}: ours ${Math.round(max.ours)} views/s, Kafka Streams ${Math.round(max.kafkaStreams)} views/s ` +
        `(ours ÷ KS ${(max.ours / max.kafkaStreams).toFixed(2)}); a share of the maximum runs both at that share of the slower one's`);
    }
    for (const intervalText of intervals) {
      const commitMs = intervalText === 'default' ? undefined : guarantee === 'exactly_once_v2' ? Math.min(100, Number(intervalText)) : Number(intervalText);
      for (const spec of specs) {
        const { rate, note } = rateFor(spec, max);
        const figures: Partial<Record<Contender['name'], Percentiles>> = {};
        for (const contender of liveContenders(classpath)) {
          console.log(`[latency] ${contender.name}, ${guarantee}, commit ${commitMs ?? 'default'}, ${rate} views/s${note === '' ? '' : ` (${note})`} for ${seconds} s...`);
          figures[contender.name] = await oneRun(broker, contender, guarantee, commitMs, rate, seconds, run);
        }
        const ours = figures.ours!;
        const java = figures['Kafka Streams']!;
        const row = { guarantee, 'commit ms': commitMs ?? `default (${guarantee === 'exactly_once_v2' ? 100 : 30_000})`, 'views/s': note === '' ? rate : `${rate} (${note})`,
          'ours p50': ours.p50, 'ours p99': ours.p99, 'ours max': ours.max, 'KS p50': java.p50, 'KS p99': java.p99, 'KS max': java.max,
          'p99 ours÷KS': (ours.p99 / java.p99).toFixed(2), unmatched: `${ours.unmatched}/${java.unmatched}` };
        rows.push(row);
        results.push({ guarantee, commitMs: commitMs ?? 'default', rate, rateNote: note, seconds, ours, kafkaStreams: java, p99OursOverKafkaStreams: ours.p99 / java.p99 });
      }
    }
  }
  table(rows);
  return { runs: results, maxRates: maxima };
}
