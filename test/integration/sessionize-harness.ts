/** Runs the sessionization example against the test broker, with unique topics and state folders. */
// First: kstreams-ts must load before kafkajs for its producer patch (see kafkajs-preload.ts).
import '../../src/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Partitioners } from 'kafkajs';
import { expect } from 'vitest';
import { KafkaStreams, type ProcessingGuarantee, type StreamsConfig, type Topology } from '../../src/index.js';
import type { RestoringPartition } from '../../src/runtime/state-restore-listener.js';
import { generatePageViews, oracleSessions, type GeneratedEvent } from '../../examples/sessionize/generator.js';
import { finalSessions, produceEvents, readTopic } from '../../examples/sessionize/kafka-io.js';
import { buildSessionizeTopology, type SessionizeOptions } from '../../examples/sessionize/topology.js';
import { brokers, createTopics, groupLag, kafkaClient, uniqueName } from './kafka-env.js';
import { KeptLogs } from './kept-logs.js';

export const PARTITIONS = 6;
export const REPLAY_GRACE_MS = 7 * 24 * 3600_000;

export interface Instance {
  readonly app: KafkaStreams;
  readonly stateDir: string;
  readonly restored: Array<{ partition: RestoringPartition; count: number }>;
  restoredTotal(): number;
}

export class SessionizeHarness {
  readonly applicationId = uniqueName('sessionize');
  readonly input = `${this.applicationId}-page-views`;
  readonly output = `${this.applicationId}-session-stats`;
  readonly produced: GeneratedEvent[] = [];
  private readonly dirs: string[] = [];
  private readonly instances: Instance[] = [];
  /** What every instance logged, kept as evidence when the test fails. */
  private readonly logs = new KeptLogs();

  constructor(readonly guarantee: ProcessingGuarantee = 'at_least_once') {}

  async createTopics(): Promise<void> {
    await createTopics([
      { topic: this.input, numPartitions: PARTITIONS },
      { topic: this.output, numPartitions: PARTITIONS },
    ]);
  }

  /**
   * The environment of a sessionize worker process (examples/sessionize/worker.ts) on this harness's topics:
   * brokers, application id, input and output, the guarantee and the grace; `extra` adds or overrides.
   */
  workerEnv(guarantee: ProcessingGuarantee, extra: Record<string, string> = {}, graceMs = REPLAY_GRACE_MS): Record<string, string> {
    return {
      KAFKA_BROKERS: brokers().join(','),
      APP_ID: this.applicationId,
      INPUT_TOPIC: this.input,
      OUTPUT_TOPIC: this.output,
      GUARANTEE: guarantee,
      GRACE_MS: String(graceMs),
      ...extra,
    };
  }

  newStateDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'kstreams-test-state-'));
    this.dirs.push(dir);
    return dir;
  }

  /** Writes events keyed by user, or (`byServer`) as six web servers log them, one per partition. */
  async produce(events: readonly GeneratedEvent[], byServer = false): Promise<void> {
    // Idempotent: kafkajs retries a whole request when one partition fails (a fresh topic's leader not known
    // yet), and without sequence numbers the partitions that had succeeded get the records twice.
    const producer = kafkaClient('harness-producer').producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      await produceEvents(producer, this.input, events, 5000, undefined, byServer ? PARTITIONS : undefined);
    } finally {
      await producer.disconnect();
    }
    this.produced.push(...events);
  }

  static events(count: number, seed: number, startTime?: number, malformedRate?: number): GeneratedEvent[] {
    return generatePageViews({ events: count, seed, users: Math.max(20, Math.round(count / 25)), startTime, malformedRate });
  }

  /**
   * Starts an instance. Most tests replay hours of event time in seconds and are about something else
   * than lateness: `graceMs` defaults to a grace that covers the whole data set, so that whatever order
   * the tasks run in the result is exact (comparable with the oracle); replay.test.ts passes 5 min.
   */
  async start(
    stateDir = this.newStateDir(),
    overrides: Partial<StreamsConfig> = {},
    build: (options: SessionizeOptions) => Topology = buildSessionizeTopology,
    graceMs = REPLAY_GRACE_MS,
  ): Promise<Instance> {
    const topology = build({
      applicationId: this.applicationId,
      inputTopic: this.input,
      outputTopic: this.output,
      graceMs,
    });
    const logger = this.logs.logger(`instance-${this.instances.length + 1}`, overrides.logger);
    const app = new KafkaStreams(topology, {
      applicationId: this.applicationId,
      bootstrapServers: brokers(),
      stateDir,
      commitIntervalMs: this.guarantee === 'exactly_once_v2' ? 100 : 300,
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 1000,
      handoverTimeoutMs: 15_000,
      deserializationExceptionHandler: 'logAndContinue',
      processingGuarantee: this.guarantee,
      ...overrides,
      logger,
    });
    const restored: Instance['restored'] = [];
    app.setGlobalStateRestoreListener({ onRestoreEnd: (partition, count) => restored.push({ partition, count }) });
    await app.start();
    const instance: Instance = { app, stateDir, restored, restoredTotal: () => restored.reduce((n, r) => n + r.count, 0) };
    this.instances.push(instance);
    return instance;
  }

  /** Waits until the group has committed everything in the input and repartition topics. */
  async waitForLagZero(timeoutMs = 90_000): Promise<void> {
    const topics = [this.input, `${this.applicationId}-session-stats-repartition`];
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      const lag = await groupLag(this.applicationId, topics);
      const total = lag.reduce((n, p) => n + p.lag, 0n);
      const uncommitted = lag.filter((p) => p.end > 0n && p.committed < 0n).length;
      if (total === 0n && uncommitted === 0 && lag.length === 2 * PARTITIONS) return;
      last = `lag ${total}, ${uncommitted} partitions without commits`;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`lag did not reach zero within ${timeoutMs} ms (${last})`);
  }

  async results() {
    return finalSessions(await readTopic(brokers(), this.output, PARTITIONS, true));
  }

  /** Asserts the output holds exactly the oracle's sessions, none missing, none extra, no count off. */
  async expectOracle(): Promise<void> {
    const expected = oracleSessions(this.produced);
    const { sessions } = await this.results();
    const missing = [...expected.keys()].filter((k) => !sessions.has(k));
    const extra = [...sessions.keys()].filter((k) => !expected.has(k));
    expect({ missing: missing.slice(0, 5), extra: extra.slice(0, 5) }).toEqual({ missing: [], extra: [] });
    for (const [id, session] of expected) expect(sessions.get(id), id).toEqual(session);
  }

  /** Records in a changelog partition range [beginning, end), summed over partitions. */
  async changelogSize(): Promise<number> {
    const records = await readTopic(brokers(), `${this.applicationId}-session-stats-changelog`, PARTITIONS, true);
    return records.length;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.instances.map((i) => i.app.close().catch(() => {})));
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }
}

export async function waitForState(app: KafkaStreams, state: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (app.state !== state) {
    if (Date.now() > deadline) throw new Error(`state ${app.state}, expected ${state}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until `check` holds, polling every 100 ms; throws naming `what` after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
