/**
 * The contenders of the live suites (latency, maximum rate, open sessions), each a process that runs until
 * it is stopped: our runtime (bench/lib/ours-process.ts, UNTIL=signal) and Kafka Streams' peer
 * (bench/peers/kafka-streams), started on the same environment (APP_ID, INPUT_TOPIC, OUTPUT_TOPIC,
 * STATE_DIR, GUARANTEE, COMMIT_INTERVAL_MS), plus what a suite needs around them: when they run, and when
 * they have consumed and committed everything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { BenchBroker } from './bench-env.js';
import { consumerLag } from '../../src/index.js';
import { sessionStatsSerde } from '../../examples/sessionize/topology.js';

export type Guarantee = 'at_least_once' | 'exactly_once_v2';

export interface Contender {
  readonly name: 'ours' | 'Kafka Streams';
  start(env: Record<string, string>): ChildProcess;
  /** The output value's `lastSeen`. */
  lastSeen(value: Buffer): number;
}

/** Ours (one instance, one Node process) and Kafka Streams (one JVM, its default stream threads: one per core). */
export function liveContenders(classpath: string): Contender[] {
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
export function running(child: ChildProcess, name: string): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('"event":"running"') || line.includes('"state":"RUNNING"')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it ran: ${stderr}`)));
  });
}

/** Stops a live contender (SIGTERM, a clean close) and waits for its exit. */
export async function stop(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
}

/** Waits until the group consumed and committed everything of its input and repartition topics; false after `boundMs`. */
export async function drained(broker: BenchBroker, applicationId: string, input: string, boundMs: number): Promise<boolean> {
  const admin = broker.kafka.admin();
  await admin.connect();
  const deadline = Date.now() + boundMs;
  try {
    while (Date.now() < deadline) {
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${applicationId}-`) && t.endsWith('-repartition'));
      const lag = await consumerLag(admin, applicationId, [input, ...topics]).catch(() => []);
      if (lag.length > 0 && lag.every((p) => p.lag === 0n)) return true;
      await new Promise((r) => setTimeout(r, 200));
    }
    return false;
  } finally {
    await admin.disconnect();
  }
}
