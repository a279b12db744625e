/**
 * The Kafka Streams side of the differential suite: builds java/ (DifferentialRunner.java on
 * kafka-streams and kafka-streams-test-utils) and runs a batch of cases through it in one JVM.
 *
 * - The jars are resolved from Maven Central once, as scripts/local-kafka.ts resolves the broker's, into
 *   `.cache/differential/<version>/libs` (ignored by git); a later run finds the completion marker there and
 *   never calls Maven, so it needs no network.
 * - The class is compiled with javac into `.cache/differential/<version>/classes-by-source/<hash of the source>`, once
 *   per version of the source, so that worktrees sharing `.cache` never replace classes a running JVM loads.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaseOutcome, DifferentialCase, OutputRecord } from './cases.js';

/** The Kafka Streams version compared against: the broker's (scripts/local-kafka.ts). */
export const KAFKA_STREAMS_VERSION = '3.9.1';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..');
const JAVA_PROJECT = join(here, 'java');
const SOURCE = join(JAVA_PROJECT, 'src', 'main', 'java', 'differential', 'DifferentialRunner.java');
const MAIN_CLASS = 'differential.DifferentialRunner';

function run(command: string, args: string[], what: string): void {
  const result = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.error) {
    throw new Error(`Could not run ${command} (${result.error.message}): the differential suite needs Java 17 and Maven.`);
  }
  if (result.status !== 0) {
    throw new Error(`${what} failed (exit ${result.status}).\n${result.stdout}\n${result.stderr}`);
  }
}

/**
 * Resolves the jars (first run only) and compiles the runner (when its source changed); returns the
 * classpath. Synchronous: it runs once, before any case.
 */
export function ensureKafkaStreamsRunner(log: (line: string) => void = () => {}): string {
  const versionDir = join(repoRoot, '.cache', 'differential', KAFKA_STREAMS_VERSION);
  const libs = join(versionDir, 'libs');
  const marker = join(libs, '.complete');
  if (!existsSync(marker)) {
    log(`resolving kafka-streams ${KAFKA_STREAMS_VERSION} from Maven Central into ${libs} (first run only)`);
    rmSync(libs, { recursive: true, force: true });
    mkdirSync(libs, { recursive: true });
    run(
      'mvn',
      [
        '-B', '-q',
        '-f', join(JAVA_PROJECT, 'pom.xml'),
        `-Dkafka.version=${KAFKA_STREAMS_VERSION}`,
        'dependency:copy-dependencies',
        `-DoutputDirectory=${libs}`,
        '-DincludeScope=runtime',
      ],
      `Maven resolving org.apache.kafka:kafka-streams-test-utils:${KAFKA_STREAMS_VERSION}`,
    );
    if (!readdirSync(libs).some((f) => f.startsWith(`kafka-streams-test-utils-${KAFKA_STREAMS_VERSION}`))) {
      throw new Error(`Maven finished but ${libs} holds no kafka-streams-test-utils-${KAFKA_STREAMS_VERSION} jar.`);
    }
    writeFileSync(marker, new Date().toISOString());
  }
  // One folder per version of the source: worktrees that share .cache (and runs of other versions) never
  // recompile the classes a running JVM is loading.
  const hash = createHash('sha256').update(readFileSync(SOURCE)).digest('hex');
  const classes = join(versionDir, 'classes-by-source', hash.slice(0, 16));
  const stamp = join(classes, '.complete');
  if (!existsSync(stamp)) {
    log('compiling DifferentialRunner.java');
    const building = `${classes}.${process.pid}`;
    rmSync(building, { recursive: true, force: true });
    mkdirSync(building, { recursive: true });
    run('javac', ['--release', '17', '-d', building, '-cp', `${libs}/*`, SOURCE], 'javac DifferentialRunner.java');
    writeFileSync(join(building, '.complete'), hash);
    rmSync(classes, { recursive: true, force: true });
    renameSync(building, classes);
  }
  return `${classes}:${libs}/*`;
}

/**
 * Where the runner's drivers keep their (RocksDB) state: a memory file system when there is one. On disk,
 * RocksDB's file work makes the run three times slower, and its results are the same.
 */
function stateRoot(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

interface RunnerLine {
  id: string;
  records?: OutputRecord[];
  /** `topology.describe().toString()`. */
  description?: string;
  error?: string;
}

/**
 * Runs every case through Kafka Streams' TopologyTestDriver in one JVM (its start costs more than hundreds
 * of cases) and returns the outcome of each, by case id.
 */
export async function runKafkaStreams(
  cases: readonly DifferentialCase[],
  classpath: string,
): Promise<Map<string, CaseOutcome>> {
  const input = cases.map((c) => JSON.stringify(c)).join('\n') + '\n';
  const child = spawn(
    'java',
    // A short-lived batch: the client compiler and a small serial heap start fastest.
    [
      '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xmx512m', '-Dthreads=2',
      `-Djava.io.tmpdir=${stateRoot()}`,
      '-cp', classpath, MAIN_CLASS,
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => stdout.push(d));
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
  child.stdin.end(input);
  const code = await new Promise<number | null>((resolveExit, reject) => {
    child.on('error', reject);
    child.on('close', resolveExit);
  });
  if (code !== 0) throw new Error(`The Kafka Streams runner exited with ${code}:\n${stderr}`);
  const outcomes = new Map<string, CaseOutcome>();
  for (const line of Buffer.concat(stdout).toString('utf8').split('\n')) {
    if (line.trim() === '') continue;
    const parsed = JSON.parse(line) as RunnerLine;
    outcomes.set(
      parsed.id,
      parsed.error !== undefined
        ? { kind: 'error', message: parsed.error }
        : { kind: 'records', records: parsed.records ?? [], ...(parsed.description === undefined ? {} : { description: parsed.description }) },
    );
  }
  for (const c of cases) {
    if (!outcomes.has(c.id)) throw new Error(`The Kafka Streams runner printed nothing for case ${c.id}:\n${stderr}`);
  }
  return outcomes;
}
