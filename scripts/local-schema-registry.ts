/**
 * A real Schema Registry for the tests and examples: Apicurio Registry, serving the Confluent-compatible
 * REST API (`/apis/ccompat/v7`) that Confluent's clients speak, on a machine with Java 17 and Maven but no
 * Docker engine.
 *
 * - Apicurio publishes no runnable jar on Maven Central, only its modules: scripts/schema-registry/pom.xml
 *   packages them with Quarkus' own plugin. The build runs once into `.cache/schema-registry/<version>`
 *   (about a minute with Maven's cache warm, a few more when Maven downloads the ~250 jars); a later run
 *   finds the completion marker there and never calls Maven.
 * - Every start is a fresh registry (in-memory H2 storage: no schema, ids from 1) on a free port of
 *   127.0.0.1.
 * - As scripts/local-kafka.ts does for the broker, a detached watchdog stops the JVM as soon as the owning
 *   process is gone, so an interrupted test run never leaves a registry behind.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, isAlive } from './local-kafka.js';

/**
 * Apicurio Registry 2.4.2.Final: the newest release whose whole dependency tree Maven Central serves
 * (later 2.x and 3.x releases need modules that are published elsewhere or not at all).
 */
export const APICURIO_VERSION = '2.4.2.Final';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RUNNER_JAR = join('target', 'local-schema-registry-1-runner.jar');

export interface LocalSchemaRegistry {
  /** The base URL Confluent-compatible clients take, e.g. `http://127.0.0.1:41234/apis/ccompat/v7`. */
  readonly url: string;
  readonly version: string;
  /** The registry's console output, useful when a test fails. */
  readonly logFile: string;
  stop(): Promise<void>;
}

export interface LocalSchemaRegistryOptions {
  /** The process whose death stops the registry; default this process. */
  ownerPid?: number;
  /** How long to wait for the registry to answer, default 120 s (it starts in about 10 s). */
  startTimeoutMs?: number;
  log?: (line: string) => void;
}

/**
 * Builds the registry into the cache (only when it is not there yet) and returns the runnable jar. The
 * build happens in a folder of its own and is renamed into place, so two first runs at once each build
 * and one of them wins.
 */
export function ensureSchemaRegistryBuild(log: (line: string) => void = () => {}): string {
  const versionDir = join(repoRoot, '.cache', 'schema-registry', APICURIO_VERSION);
  const jar = join(versionDir, RUNNER_JAR);
  if (existsSync(join(versionDir, '.complete'))) return jar;

  log(`building Apicurio Registry ${APICURIO_VERSION} from Maven Central into ${versionDir} (first run only, about a minute)`);
  mkdirSync(dirname(versionDir), { recursive: true });
  const buildDir = `${versionDir}.building-${process.pid}`;
  rmSync(buildDir, { recursive: true, force: true });
  cpSync(join(repoRoot, 'scripts', 'schema-registry'), buildDir, {
    recursive: true,
    filter: (source) => !source.includes(`${join('schema-registry', 'target')}`),
  });
  const buildLog = join(buildDir, 'build.log');
  const out = openSync(buildLog, 'w');
  const started = Date.now();
  // -DskipDefault turns off the Apicurio POMs' profile that adds repositories other than Maven Central.
  const mvn = spawnSync('mvn', ['-B', '-DskipDefault', `-Dapicurio.version=${APICURIO_VERSION}`, '-f', join(buildDir, 'pom.xml'), 'package'], {
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  if (mvn.error) {
    rmSync(buildDir, { recursive: true, force: true });
    throw new Error(`Could not run Maven to build the schema registry (${mvn.error.message}). Install Java 17 and Maven, or set SCHEMA_REGISTRY_URL.`);
  }
  if (mvn.status !== 0 || !existsSync(join(buildDir, RUNNER_JAR))) {
    const tail = readFileSync(buildLog, 'utf8').split('\n').filter((l) => l.includes('ERROR')).slice(0, 20).join('\n');
    throw new Error(
      `Maven failed to build Apicurio Registry ${APICURIO_VERSION} (exit ${mvn.status}); the whole log is ${buildLog}.\n${tail}\n` +
        'Check that Maven Central is reachable, or set SCHEMA_REGISTRY_URL to a running registry.',
    );
  }
  writeFileSync(join(buildDir, '.complete'), `${new Date().toISOString()} built in ${Math.round((Date.now() - started) / 1000)} s\n`);
  try {
    renameSync(buildDir, versionDir);
  } catch {
    // Another run finished first: its build serves.
    rmSync(buildDir, { recursive: true, force: true });
  }
  log(`schema registry built in ${Math.round((Date.now() - started) / 1000)} s`);
  return jar;
}

async function waitForApi(url: string, timeoutMs: number, jvmAlive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (!jvmAlive()) throw new Error('the registry JVM exited during start-up');
    try {
      const response = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
      lastError = `HTTP ${response.status}`;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the schema registry did not answer ${url}/subjects within ${timeoutMs} ms: ${String(lastError)}`);
}

/** Starts a fresh registry; resolves when its Confluent-compatible API answers. */
export async function startLocalSchemaRegistry(options: LocalSchemaRegistryOptions = {}): Promise<LocalSchemaRegistry> {
  const log = options.log ?? (() => {});
  const ownerPid = options.ownerPid ?? process.pid;
  const jar = ensureSchemaRegistryBuild(log);
  const dir = mkdtempSync(join(tmpdir(), 'kstreams-registry-'));
  const logFile = join(dir, 'registry.log');
  const port = await freePort();
  const out = openSync(logFile, 'w');
  const jvm = spawn(
    'java',
    [
      '-Xmx384m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      `-Dquarkus.http.port=${port}`,
      '-Dquarkus.http.host=127.0.0.1',
      // A test registry: a small connection pool to its in-memory database, no usage reporting.
      '-Dquarkus.datasource.jdbc.initial-size=2',
      '-Dquarkus.datasource.jdbc.min-size=2',
      '-Dquarkus.log.category."io.sentry".level=ERROR',
      '-jar',
      jar,
    ],
    // Its own process group, so that stop() and the watchdog end the JVM and nothing else.
    { stdio: ['ignore', out, out], detached: true, cwd: dir },
  );
  closeSync(out);
  jvm.unref();
  if (jvm.pid === undefined) throw new Error('could not start java');
  const jvmPid = jvm.pid;
  let exited = false;
  jvm.on('exit', () => (exited = true));

  // The watchdog outlives us: it stops the JVM when the owner dies, however it dies.
  const watchdog = spawn(
    'bash',
    [
      '-c',
      `while kill -0 ${ownerPid} 2>/dev/null; do sleep 1; done
       kill -TERM -${jvmPid} 2>/dev/null
       for i in $(seq 1 20); do kill -0 ${jvmPid} 2>/dev/null || break; sleep 0.5; done
       kill -KILL -${jvmPid} 2>/dev/null
       rm -rf '${dir}'`,
    ],
    { stdio: 'ignore', detached: true },
  );
  watchdog.unref();

  const url = `http://127.0.0.1:${port}/apis/ccompat/v7`;
  const stop = async (): Promise<void> => {
    if (!exited && isAlive(jvmPid)) {
      process.kill(-jvmPid, 'SIGTERM');
      const deadline = Date.now() + 10_000;
      while (isAlive(jvmPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      if (isAlive(jvmPid)) process.kill(-jvmPid, 'SIGKILL');
    }
    if (watchdog.pid !== undefined && isAlive(watchdog.pid)) process.kill(watchdog.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForApi(url, options.startTimeoutMs ?? 120_000, () => !exited);
  } catch (err) {
    const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n') : '';
    await stop();
    throw new Error(`${(err as Error).message}\n--- registry log tail ---\n${tail}`, { cause: err });
  }
  log(`Apicurio Registry ${APICURIO_VERSION} up at ${url} (pid ${jvmPid})`);
  return { url, version: APICURIO_VERSION, logFile, stop };
}

/** True when this machine can run a local registry (Java, and the build cached or Maven to make it). */
export function canStartLocalSchemaRegistry(): boolean {
  if (spawnSync('java', ['-version'], { stdio: 'ignore' }).status !== 0) return false;
  if (existsSync(join(repoRoot, '.cache', 'schema-registry', APICURIO_VERSION, '.complete'))) return true;
  return spawnSync('mvn', ['-v'], { stdio: 'ignore' }).status === 0;
}
