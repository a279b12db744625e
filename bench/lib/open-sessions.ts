/**
 * The `sessions` suite: memory per 10 000 open sessions. Each contender (ours, one instance; Kafka Streams,
 * one JVM) runs live on fresh topics; views of distinct users, one each and all stamped now (well within the
 * 30-minute inactivity gap, so every session stays open), arrive in steps; after each step has been consumed
 * and committed (and one more commit interval), the process's resident memory is read from /proc, as the OS
 * counts it. Memory per 10 000 open sessions is the growth above the baseline (after a warm-up of 1 000
 * sessions) divided by the sessions opened since. At-least-once, 1 s commits, default caches (10 MiB).
 *
 *   OPEN_SESSIONS   sessions to open (default 100 000), in OPEN_SESSIONS_STEPS steps (default 4)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Partitioners } from 'kafkajs';
import { createTopic, type BenchBroker } from './bench-env.js';
import { ensureKafkaStreamsPeer } from './kafka-streams-peer.js';
import { drained, liveContenders, running, stop, type Contender } from './live-contenders.js';
import { residentMb } from './proc-stats.js';
import { pageViewSerde } from '../../examples/sessionize/topology.js';

const WARM_UP_SESSIONS = 1000;
const COMMIT_MS = 1000;

export interface OpenSessionsFigures {
  contender: string;
  baselineRssMb: number;
  /** [sessions open, RSS MB] after each step. */
  steps: Array<[number, number]>;
  /** (last RSS − baseline) ÷ sessions opened since the baseline × 10 000. */
  mbPer10kSessions: number;
}

/** One view for each of users `from` … `to − 1`, stamped now. */
async function openSessions(broker: BenchBroker, topic: string, from: number, to: number): Promise<void> {
  const producer = broker.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let i = from; i < to; i += 5000) {
      const messages = [];
      for (let u = i; u < Math.min(to, i + 5000); u++) {
        const now = Date.now();
        const userId = `open-${u}`;
        messages.push({ key: userId, value: pageViewSerde.serialize({ userId, page: '/', status: 200, bytes: 1000, timestamp: now }), timestamp: String(now) });
      }
      await producer.send({ topic, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

async function measure(broker: BenchBroker, contender: Contender, sessions: number, stepCount: number, run: string): Promise<OpenSessionsFigures> {
  const applicationId = `bench-open-${contender.name === 'ours' ? 'ours' : 'java'}-${run}`;
  const input = `${applicationId}-in`;
  await createTopic(broker.brokers, input);
  await createTopic(broker.brokers, `${applicationId}-out`);
  const stateDir = mkdtempSync(join(tmpdir(), 'kstreams-bench-open-'));
  const child = contender.start({ KAFKA_BROKERS: broker.brokers.join(','), APP_ID: applicationId, INPUT_TOPIC: input, OUTPUT_TOPIC: `${applicationId}-out`,
    STATE_DIR: stateDir, GUARANTEE: 'at_least_once', COMMIT_INTERVAL_MS: String(COMMIT_MS) });
  const settle = async (open: number): Promise<number> => {
    if (!(await drained(broker, applicationId, input, 600_000))) throw new Error(`${contender.name} did not consume ${open} sessions' views within 10 minutes`);
    await new Promise((r) => setTimeout(r, COMMIT_MS + 1000));
    return residentMb(child.pid!);
  };
  try {
    await running(child, contender.name);
    await openSessions(broker, input, 0, WARM_UP_SESSIONS);
    const baselineRssMb = await settle(WARM_UP_SESSIONS);
    const steps: Array<[number, number]> = [];
    let open = WARM_UP_SESSIONS;
    for (let step = 1; step <= stepCount; step++) {
      const target = WARM_UP_SESSIONS + Math.round((sessions * step) / stepCount);
      await openSessions(broker, input, open, target);
      open = target;
      steps.push([open, await settle(open)]);
    }
    const [lastOpen, lastRss] = steps[steps.length - 1]!;
    return { contender: contender.name, baselineRssMb, steps, mbPer10kSessions: ((lastRss - baselineRssMb) * 10_000) / (lastOpen - WARM_UP_SESSIONS) };
  } finally {
    await stop(child);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

export async function openSessionsSuite(broker: BenchBroker, run: string, table: (rows: Array<Record<string, string | number>>) => void): Promise<OpenSessionsFigures[]> {
  const sessions = Number(process.env.OPEN_SESSIONS ?? 100_000);
  const stepCount = Number(process.env.OPEN_SESSIONS_STEPS ?? 4);
  const classpath = ensureKafkaStreamsPeer((line) => console.log(`[sessions] ${line}`));
  const figures: OpenSessionsFigures[] = [];
  for (const contender of liveContenders(classpath)) {
    console.log(`\n[sessions] ${contender.name}: opening ${sessions} sessions in ${stepCount} steps, RSS after each...`);
    figures.push(await measure(broker, contender, sessions, stepCount, run));
  }
  table(figures.map((f) => ({ contender: f.contender, 'baseline RSS MB': f.baselineRssMb.toFixed(0),
    ...Object.fromEntries(f.steps.map(([open, rss]) => [`RSS MB at ${open}`, rss.toFixed(0)])), 'MB per 10 000 open sessions': f.mbPer10kSessions.toFixed(1) })));
  const [ours, java] = figures;
  if (ours !== undefined && java !== undefined) {
    console.log(`[sessions] memory per 10 000 open sessions: ours ${ours.mbPer10kSessions.toFixed(1)} MB, Kafka Streams ${java.mbPer10kSessions.toFixed(1)} MB ` +
      '(RSS above the baseline as the OS counts it: V8 and the JVM keep heap they have grown, so the figure bounds what sessions cost, it does not weigh them)');
  }
  return figures;
}
