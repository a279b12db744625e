/**
 * A real single-node Apache Kafka broker (KRaft, broker + controller in one JVM) for development, tests and
 * the examples, on a machine with Java 17 and Maven but no Docker engine.
 *
 * - The broker's jars are resolved from Maven Central once into `.cache/kafka/<version>/libs`; a later run
 *   finds the completion marker there and never calls Maven (no network).
 * - Every start formats fresh KRaft storage in a new temporary folder and binds free ports on 127.0.0.1.
 * - A detached watchdog stops the JVM (and removes its folder) as soon as the owning process is gone, so a
 *   crashed or interrupted test run never leaves a broker behind.
 * - `kill()` and `restart()` crash the broker and bring it back on the same ports and data, for tests of
 *   a broker outage.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';

/**
 * The Kafka version of the local broker: the newest 4.x served on Maven Central. `npm test` also runs the
 * integration suite on {@link PREVIOUS_KAFKA_VERSION}; override either with KAFKA_VERSION.
 */
export const DEFAULT_KAFKA_VERSION = '4.4.0';

/** The last 3.x release, still run by many clusters: the integration suite runs on it too. */
export const PREVIOUS_KAFKA_VERSION = '3.9.1';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface LocalKafka {
  /** `host:port` to pass as bootstrap servers. */
  readonly bootstrap: string;
  /** `host:port` of the KRaft controller listener: not for clients (tests show what a client meets there). */
  readonly controllerBootstrap: string;
  readonly version: string;
  /** The broker's log4j output, useful when a test fails. */
  readonly logFile: string;
  stop(): Promise<void>;
  /** Kills the broker JVM (SIGKILL by default: a crash), keeping its data, ports and folder. */
  kill(signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** Starts the broker again on the same ports and data after kill(); resolves when it answers metadata. */
  restart(): Promise<void>;
}

export interface LocalKafkaOptions {
  version?: string;
  /** Heap of the broker JVM, default 512m. */
  heap?: string;
  /** The process whose death stops the broker; default this process. */
  ownerPid?: number;
  /** How long to wait for the broker to answer metadata requests. */
  startTimeoutMs?: number;
  log?: (line: string) => void;
}

/** Resolves the broker's jars into the cache (only when they are not there yet) and returns their folder. */
export function ensureKafkaLibs(version: string, log: (line: string) => void = () => {}): string {
  const versionDir = join(repoRoot, '.cache', 'kafka', version);
  const libs = join(versionDir, 'libs');
  const marker = join(versionDir, '.complete');
  if (existsSync(marker)) return libs;

  log(`resolving Apache Kafka ${version} from Maven Central into ${libs} (first run only)`);
  rmSync(libs, { recursive: true, force: true });
  mkdirSync(libs, { recursive: true });
  const mvn = spawnSync(
    'mvn',
    [
      '-B', '-q',
      '-f', join(repoRoot, 'scripts', 'kafka', 'pom.xml'),
      `-Dkafka.version=${version}`,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${libs}`,
      '-DincludeScope=runtime',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (mvn.error) {
    throw new Error(
      `Could not run Maven to fetch the Kafka broker (${mvn.error.message}). Install Java 17 and Maven, ` +
        'or point KAFKA_BROKERS at an existing cluster.',
    );
  }
  if (mvn.status !== 0) {
    throw new Error(
      `Maven failed to resolve org.apache.kafka:kafka_2.13:${version} (exit ${mvn.status}).\n` +
        `${mvn.stdout}\n${mvn.stderr}\nCheck that Maven Central is reachable, or set KAFKA_BROKERS.`,
    );
  }
  if (!readdirSync(libs).some((f) => f.startsWith(`kafka_2.13-${version}`))) {
    throw new Error(`Maven finished but ${libs} holds no kafka_2.13-${version} jar.`);
  }
  writeFileSync(marker, new Date().toISOString());
  return libs;
}

/** A port on 127.0.0.1 that nothing listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('no port'));
        return;
      }
      server.close(() => resolvePort(address.port));
    });
  });
}

function brokerProperties(dataDir: string, port: number, controllerPort: number): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${join(dataDir, 'data')}`,
    // Fast, single-node settings: internal topics with one replica and few partitions.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=6',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=6',
    'group.initial.rebalance.delay.ms=0',
    'num.partitions=1',
    // Source topics must exist: a typo in a topic name is an error, not a new topic.
    'auto.create.topics.enable=false',
    'delete.topic.enable=true',
    'log.segment.bytes=67108864',
    'num.network.threads=2',
    'num.io.threads=4',
    '',
  ].join('\n');
}

function log4jProperties(logFile: string): string {
  return [
    'log4j.rootLogger=INFO, file',
    'log4j.appender.file=org.apache.log4j.FileAppender',
    `log4j.appender.file.File=${logFile}`,
    'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
    'log4j.logger.kafka.request.logger=WARN',
    'log4j.logger.state.change.logger=WARN',
    '',
  ].join('\n');
}

/** True while a process of that pid exists (one we may not signal counts: it exists). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Where running brokers are registered, so that a later start can stop one whose owner died. */
const runDir = join(repoRoot, '.cache', 'kafka', 'run');

interface RunEntry {
  jvmPid: number;
  ownerPid: number;
  dir: string;
}

/** Stops brokers left behind by owners that are gone (belt and braces next to the watchdog). */
function reapOrphans(): void {
  if (!existsSync(runDir)) return;
  for (const file of readdirSync(runDir)) {
    const path = join(runDir, file);
    try {
      const entry = JSON.parse(readFileSync(path, 'utf8')) as RunEntry;
      if (isAlive(entry.ownerPid)) continue;
      // A restarted broker has a new JVM: its pid file is the current one.
      const pidFile = join(entry.dir, 'jvm.pid');
      const jvmPid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : entry.jvmPid;
      if (isAlive(jvmPid)) process.kill(jvmPid, 'SIGKILL');
      rmSync(entry.dir, { recursive: true, force: true });
    } catch {
      // unreadable entry: drop it
    }
    rmSync(path, { force: true });
  }
}

async function waitForMetadata(bootstrap: string, timeoutMs: number, jvmAlive: () => boolean): Promise<void> {
  const kafka = new Kafka({
    clientId: 'local-kafka-probe',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 1000,
  });
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (!jvmAlive()) throw new Error('the broker JVM exited during start-up');
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length > 0 && cluster.controller !== null) return;
    } catch (err) {
      lastError = err;
    } finally {
      await admin.disconnect().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`broker did not answer metadata requests within ${timeoutMs} ms: ${String(lastError)}`);
}

export async function startLocalKafka(options: LocalKafkaOptions = {}): Promise<LocalKafka> {
  const version = options.version ?? process.env.KAFKA_VERSION ?? DEFAULT_KAFKA_VERSION;
  const log = options.log ?? (() => {});
  const ownerPid = options.ownerPid ?? process.pid;
  reapOrphans();
  const libs = ensureKafkaLibs(version, log);

  const dir = mkdtempSync(join(tmpdir(), 'kstreams-kafka-'));
  const [port, controllerPort] = [await freePort(), await freePort()];
  const propsFile = join(dir, 'server.properties');
  const logFile = join(dir, 'server.log');
  const log4jFile = join(dir, 'log4j.properties');
  writeFileSync(propsFile, brokerProperties(dir, port, controllerPort));
  writeFileSync(log4jFile, log4jProperties(logFile));

  const classpath = `${libs}/*`;
  const jvmCommon = [`-Dlog4j.configuration=file:${log4jFile}`, '-cp', classpath];
  const clusterId = randomBytes(16).toString('base64url');
  const format = spawnSync(
    'java',
    // `--cluster-id=` form: a base64url id may start with '-', which the tool would take for an option.
    ['-Xmx256m', ...jvmCommon, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId}`, '-c', propsFile],
    { encoding: 'utf8' },
  );
  if (format.error || format.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `Formatting KRaft storage failed: ${format.error?.message ?? ''}${format.stdout ?? ''}${format.stderr ?? ''}` +
        '\nIs Java 17 installed (java -version)?',
    );
  }

  const heap = options.heap ?? '512m';
  const pidFile = join(dir, 'jvm.pid');
  let jvmPid = 0;
  let exited = false;
  const spawnJvm = (): void => {
    const jvm = spawn(
      'java',
      [
        `-Xmx${heap}`,
        '-Xms128m',
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        '-Djava.awt.headless=true',
        ...jvmCommon,
        'kafka.Kafka',
        propsFile,
      ],
      { stdio: ['ignore', 'ignore', 'ignore'], detached: true },
    );
    jvm.unref();
    if (jvm.pid === undefined) throw new Error('could not start java');
    jvmPid = jvm.pid;
    exited = false;
    jvm.on('exit', () => {
      if (jvm.pid === jvmPid) exited = true;
    });
    // The watchdog reads the pid here, so it follows a restarted JVM.
    writeFileSync(pidFile, String(jvmPid));
  };
  spawnJvm();
  const firstPid = jvmPid;
  const runEntry = join(runDir, `${firstPid}.json`);

  // The watchdog outlives us: it stops the JVM when the owner dies, however it dies.
  const watchdog = spawn(
    'bash',
    [
      '-c',
      `while kill -0 ${ownerPid} 2>/dev/null; do sleep 1; done
       pid=$(cat '${pidFile}' 2>/dev/null)
       if [ -n "$pid" ]; then
         kill -TERM $pid 2>/dev/null
         for i in $(seq 1 30); do kill -0 $pid 2>/dev/null || break; sleep 0.5; done
         kill -KILL $pid 2>/dev/null
       fi
       rm -rf '${dir}' '${runEntry}'`,
    ],
    { stdio: 'ignore', detached: true },
  );
  watchdog.unref();

  mkdirSync(runDir, { recursive: true });
  writeFileSync(runEntry, JSON.stringify({ jvmPid: firstPid, ownerPid, dir } satisfies RunEntry));

  const bootstrap = `127.0.0.1:${port}`;
  const waitForExit = async (timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (isAlive(jvmPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  };
  const stop = async (): Promise<void> => {
    if (!exited && isAlive(jvmPid)) {
      process.kill(jvmPid, 'SIGTERM');
      await waitForExit(15_000);
      if (isAlive(jvmPid)) process.kill(jvmPid, 'SIGKILL');
    }
    if (watchdog.pid !== undefined && isAlive(watchdog.pid)) process.kill(watchdog.pid, 'SIGKILL');
    rmSync(runEntry, { force: true });
    rmSync(dir, { recursive: true, force: true });
  };
  const kill = async (signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> => {
    if (!isAlive(jvmPid)) return;
    process.kill(jvmPid, signal);
    await waitForExit(signal === 'SIGKILL' ? 10_000 : 30_000);
    if (isAlive(jvmPid)) process.kill(jvmPid, 'SIGKILL');
    await waitForExit(10_000);
  };
  const waitUp = async (): Promise<void> => {
    try {
      await waitForMetadata(bootstrap, options.startTimeoutMs ?? 60_000, () => !exited);
    } catch (err) {
      const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n') : '';
      await stop();
      throw new Error(`${(err as Error).message}\n--- broker log tail ---\n${tail}`, { cause: err });
    }
  };
  // Same properties file: same ports, node id, cluster id and log dirs, so clients reconnect to it as to
  // a broker that came back.
  const restart = async (): Promise<void> => {
    if (isAlive(jvmPid)) throw new Error(`the broker (pid ${jvmPid}) is still running: kill() it first`);
    spawnJvm();
    await waitUp();
    log(`Kafka ${version} broker restarted at ${bootstrap} (pid ${jvmPid})`);
  };

  await waitUp();
  log(`Kafka ${version} broker up at ${bootstrap} (pid ${jvmPid})`);
  return { bootstrap, controllerBootstrap: `127.0.0.1:${controllerPort}`, version, logFile, stop, kill, restart };
}

/** True when this machine can run a local broker (Java, and the broker's jars cached or Maven to fetch them). */
export function canStartLocalKafka(version = process.env.KAFKA_VERSION ?? DEFAULT_KAFKA_VERSION): boolean {
  if (spawnSync('java', ['-version'], { stdio: 'ignore' }).status !== 0) return false;
  if (existsSync(join(repoRoot, '.cache', 'kafka', version, '.complete'))) return true;
  return spawnSync('mvn', ['-v'], { stdio: 'ignore' }).status === 0;
}
