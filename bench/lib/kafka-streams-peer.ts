/**
 * The Apache Kafka Streams (Java) contender: resolves kafka-streams from Maven Central (bench/peers/
 * kafka-streams/pom.xml) into .cache, compiles SessionizeBench.java with javac, runs it as a JVM, and
 * measures it from outside as the other contenders: time until the group's lag is zero, peak RSS (VmHWM).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join, resolve } from 'node:path';
import type { Admin } from 'kafkajs';
import { consumerLag } from '../../src/index.js';
import type { RunFigures } from './contender.js';
import { peakResidentMb, processCpuSeconds } from './proc-stats.js';

const PEER = resolve('bench/peers/kafka-streams');
const CACHE = resolve('.cache/bench/kafka-streams');
const SOURCE = join(PEER, 'src/main/java/bench/SessionizeBench.java');

/** Jars and classes of the Java contender, built once (a second run touches no network). */
export function ensureKafkaStreamsPeer(log: (line: string) => void): string {
  const libs = join(CACHE, 'libs');
  const classes = join(CACHE, 'classes');
  if (!existsSync(join(libs, '.complete'))) {
    log('resolving kafka-streams from Maven Central (first run only)...');
    const mvn = spawnSync('mvn', ['-q', '-B', '-f', join(PEER, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${libs}`], { stdio: 'inherit' });
    if (mvn.status !== 0) throw new Error('mvn could not resolve kafka-streams; see the output above');
    writeFileSync(join(libs, '.complete'), '');
  }
  const compiled = join(classes, 'bench', 'SessionizeBench.class');
  if (!existsSync(compiled) || statSync(compiled).mtimeMs < statSync(SOURCE).mtimeMs) {
    mkdirSync(classes, { recursive: true });
    const javac = spawnSync('javac', ['-d', classes, '-cp', `${libs}/*`, SOURCE], { stdio: 'inherit' });
    if (javac.status !== 0) throw new Error('javac failed on SessionizeBench.java');
  }
  return `${classes}:${libs}/*`;
}

export interface PeerRun extends RunFigures {
  restored: number;
  restoreSeconds: number;
  /** Kafka Streams' dropped-records-total at shutdown (late, expired or unreadable records). */
  dropped: number;
  /** CPU seconds of the JVM (every thread: stream threads, clients, JIT, GC), start-up included. */
  cpuSeconds: number;
  /** CPU seconds and wall seconds from its first RUNNING on (start-up not counted). */
  runningCpuSeconds: number;
  runningSeconds: number;
}

/**
 * Runs the Java app until its group has no lag (or, with `untilRunning`, until its restoration is done and
 * it runs), then stops it.
 */
export async function runKafkaStreams(
  classpath: string,
  env: Record<string, string>,
  admin: Admin,
  untilRunning = false,
): Promise<PeerRun> {
  const child = spawn('java', ['-Xms256m', '-Xmx1g', '-cp', classpath, 'bench.SessionizeBench'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let state = 'CREATED';
  let restored = 0;
  let restoreMs = 0;
  let dropped = 0;
  let runningAt = 0;
  let cpuAtRunning = Number.NaN;
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      const event = JSON.parse(line) as { event: string; state?: string; restored?: number; ms?: number; total?: number };
      if (event.event === 'dropped') dropped = event.total ?? 0;
      if (event.event === 'state' && event.state !== undefined) state = event.state;
      if (state === 'RUNNING' && runningAt === 0) {
        runningAt = Date.now();
        cpuAtRunning = processCpuSeconds(child.pid!);
      }
      if (event.event === 'restore-end') {
        restored = event.restored ?? restored;
        restoreMs = event.ms ?? restoreMs;
      }
    } catch {
      // not an event line
    }
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const began = Date.now();
  const appId = env.APP_ID!;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`Kafka Streams exited early (${child.exitCode}): ${stderr}`);
      if (untilRunning) {
        if (state === 'RUNNING') break;
      } else {
        // Topics Kafka Streams has just created may not have a leader yet: ask again on the next round.
        const done = await (async () => {
          const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${appId}-`) && t.endsWith('-repartition'));
          const lag = await consumerLag(admin, appId, [env.INPUT_TOPIC!, ...topics]);
          return topics.length > 0 && lag.every((p) => p.lag === 0n && (p.end === 0n || p.committed >= 0n));
        })().catch(() => false);
        if (done) break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (Date.now() - began) / 1000;
    const peak = peakResidentMb(child.pid!);
    const cpuSeconds = processCpuSeconds(child.pid!);
    const runningSeconds = runningAt === 0 ? Number.NaN : (Date.now() - runningAt) / 1000;
    child.kill('SIGTERM');
    await exited;
    return { seconds, peakRssMb: peak, restored, restoreSeconds: restoreMs / 1000, dropped, cpuSeconds, runningCpuSeconds: cpuSeconds - cpuAtRunning, runningSeconds };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}
