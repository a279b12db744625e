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
 *   LATENCY_RATES     views/s, comma-separated (default 2000,10000); LATENCY_MAX_RATE adds 80% of it
 *   LATENCY_SECONDS   how long each rate is produced (default 20); the first 2 s are warm-up, not counted
 *   LATENCY_GUARANTEES  default at_least_once,exactly_once_v2
 *   LATENCY_COMMIT_MS   commit intervals, comma-separated; "default" is each guarantee's default
 *                       (30 000 / 100 ms, both contenders); default "default,1000" (1000: 100 under exactly-once)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Partitioners } from 'kafkajs';
import { PARTITIONS, type BenchBroker } from './bench-env.js';
import { ensureKafkaStreamsPeer } from './kafka-streams-peer.js';
import { consumerLag, createTopics } from '../../src/index.js';
import { pageViewSerde, sessionKeySerde, sessionStatsSerde, type PageView } from '../../examples/sessionize/topology.js';

type Guarantee = 'at_least_once' | 'exactly_once_v2';
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

interface Contender {
  readonly name: 'ours' | 'Kafka Streams';
  start(env: Record<string, string>): ChildProcess;
  /** The output value's `lastSeen`. */
  lastSeen(value: Buffer): number;
}

function contenders(classpath: string): Contender[] {
  return [
    {
      name: 'ours',
      start: (env) => spawn(process.execPath, ['--import', 'tsx', 'bench/lib/ours-process.ts'], { env: { ...process.env, ...env, UNTIL: 'signal' }, stdio: ['ignore', 'pipe', 'pipe'] }),
      lastSeen: (value) => Number(sessionStatsSerde.deserialize(value).lastSeen),
    },
    {
      name: 'Kafka Streams',
      start: (env) => spawn('java', ['-Xms256m', '-Xmx1g', '-cp', classpath, 'bench.SessionizeBench'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }),
      lastSeen: (value) => Number(value.toString().split('|')[3]),
    },
  ];
}

/** Resolves once the child prints that it runs (ours: {"event":"running"}; Kafka Streams: its RUNNING state). */
function running(child: ChildProcess, name: string): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('"event":"running"') || line.includes('"state":"RUNNING"')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it ran: ${stderr}`)));
  });
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

/** Waits until the group consumed and committed everything of its input and repartition topics. */
async function drained(broker: BenchBroker, applicationId: string, input: string, boundMs: number): Promise<void> {
  const admin = broker.kafka.admin();
  await admin.connect();
  const deadline = Date.now() + boundMs;
  try {
    while (Date.now() < deadline) {
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${applicationId}-`) && t.endsWith('-repartition'));
      const lag = await consumerLag(admin, applicationId, [input, ...topics]).catch(() => []);
      if (lag.length > 0 && lag.every((p) => p.lag === 0n)) return;
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await admin.disconnect();
  }
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
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
    rmSync(stateDir, { recursive: true, force: true });
  }
}

export async function latencySuite(broker: BenchBroker, run: string, table: (rows: Array<Record<string, string | number>>) => void): Promise<Record<string, unknown>> {
  const rates = (process.env.LATENCY_RATES ?? '2000,10000').split(',').map(Number);
  if (process.env.LATENCY_MAX_RATE !== undefined) rates.push(Math.round(0.8 * Number(process.env.LATENCY_MAX_RATE)));
  const seconds = Number(process.env.LATENCY_SECONDS ?? 20);
  const guarantees = (process.env.LATENCY_GUARANTEES ?? 'at_least_once,exactly_once_v2').split(',') as Guarantee[];
  const intervals = (process.env.LATENCY_COMMIT_MS ?? 'default,1000').split(',');
  const classpath = ensureKafkaStreamsPeer((line) => console.log(`[latency] ${line}`));
  const rows: Array<Record<string, string | number>> = [];
  const results: Array<Record<string, unknown>> = [];
  for (const guarantee of guarantees) {
    for (const intervalText of intervals) {
      const commitMs = intervalText === 'default' ? undefined : guarantee === 'exactly_once_v2' ? Math.min(100, Number(intervalText)) : Number(intervalText);
      for (const rate of rates) {
        const figures: Partial<Record<Contender['name'], Percentiles>> = {};
        for (const contender of contenders(classpath)) {
          console.log(`[latency] ${contender.name}, ${guarantee}, commit ${commitMs ?? 'default'}, ${rate} views/s for ${seconds} s...`);
          figures[contender.name] = await oneRun(broker, contender, guarantee, commitMs, rate, seconds, run);
        }
        const ours = figures.ours!;
        const java = figures['Kafka Streams']!;
        const row = { guarantee, 'commit ms': commitMs ?? `default (${guarantee === 'exactly_once_v2' ? 100 : 30_000})`, 'views/s': rate,
          'ours p50': ours.p50, 'ours p99': ours.p99, 'ours max': ours.max, 'KS p50': java.p50, 'KS p99': java.p99, 'KS max': java.max,
          'p99 ours÷KS': (ours.p99 / java.p99).toFixed(2), unmatched: `${ours.unmatched}/${java.unmatched}` };
        rows.push(row);
        results.push({ guarantee, commitMs: commitMs ?? 'default', rate, seconds, ours, kafkaStreams: java, p99OursOverKafkaStreams: ours.p99 / java.p99 });
      }
    }
  }
  table(rows);
  return { runs: results };
}
