import { Kafka, logLevel as kafkaLogLevel, type Admin, type logCreator } from 'kafkajs';
import { installAbortedTransactionFilter } from './aborted-transaction-filter.js';
import { resolveConfig, type ResolvedStreamsConfig, type StreamsConfig } from '../config/streams-config.js';
import type { Topology } from '../dsl/topology.js';
import { ConfigError, StreamsError } from '../errors/errors.js';
import { ensureTopics } from './internal-topic-manager.js';
import type { Logger } from './logger.js';
import type { StateRestoreListener } from './state-restore-listener.js';
import { StreamThread } from './stream-thread.js';

/** Kafka Streams' client states. */
export type KafkaStreamsState = 'CREATED' | 'REBALANCING' | 'RUNNING' | 'PENDING_SHUTDOWN' | 'NOT_RUNNING' | 'ERROR';

/** What to do after a fatal processing error, as Kafka Streams' StreamsUncaughtExceptionHandler answers. */
export type StreamThreadExceptionResponse = 'SHUTDOWN_CLIENT' | 'REPLACE_THREAD' | 'SHUTDOWN_APPLICATION';

export type StateListener = (next: KafkaStreamsState, previous: KafkaStreamsState) => void;

/** Figures of one instance, for sizing and alerting. */
export interface StreamsMetrics {
  readonly state: KafkaStreamsState;
  readonly activeTasks: string[];
  readonly processedTotal: number;
  readonly droppedLateTotal: number;
  readonly droppedNullKeyTotal: number;
  /** Records skipped or dead-lettered by the deserialization and processing exception handlers. */
  readonly skippedRecordsTotal: number;
  /** Of those, records sent to a dead-letter topic. */
  readonly deadLetterRecordsTotal: number;
  readonly commitTotal: number;
  readonly commitLatencyAvgMs: number;
  readonly restoredRecordsTotal: number;
  readonly producedRecordsTotal: number;
  readonly produceRequestsTotal: number;
}

const TRANSITIONS: Record<KafkaStreamsState, KafkaStreamsState[]> = {
  CREATED: ['REBALANCING', 'PENDING_SHUTDOWN', 'ERROR'],
  REBALANCING: ['RUNNING', 'REBALANCING', 'PENDING_SHUTDOWN', 'ERROR'],
  RUNNING: ['REBALANCING', 'PENDING_SHUTDOWN', 'ERROR'],
  PENDING_SHUTDOWN: ['NOT_RUNNING', 'ERROR'],
  NOT_RUNNING: [],
  ERROR: ['PENDING_SHUTDOWN'],
};

function kafkajsLogCreator(logger: Logger): logCreator {
  return () =>
    ({ level, log }) => {
      const { message, ...fields } = log;
      const text = `kafkajs: ${message}`;
      // kafkajs logs retriable broker answers (coordinator loading, rebalancing) as errors; what is fatal
      // reaches us as an exception, so its log lines are warnings at most.
      const retriable =
        message.startsWith('Response ') || message.includes('rebalancing') || message.includes('concurrent operation');
      if (!retriable && (level === kafkaLogLevel.ERROR || level === kafkaLogLevel.WARN)) logger.warn(text, fields);
      else logger.debug(text, fields);
    };
}

/**
 * Runs a topology on Kafka. Any number of instances with one `applicationId` share the work: each takes
 * some tasks (a sub-topology for one partition), restores their state from the changelog topics, and
 * processes their partitions in offset order.
 *
 * ```ts
 * const app = new KafkaStreams(topology, { applicationId: 'clicks', bootstrapServers: ['127.0.0.1:9092'] });
 * app.on('stateChange', (next) => console.log(next));
 * await app.start();
 * process.on('SIGTERM', () => void app.close());
 * ```
 */
export class KafkaStreams {
  private readonly config: ResolvedStreamsConfig;
  private readonly kafka: Kafka;
  private current: KafkaStreamsState = 'CREATED';
  private readonly listeners: StateListener[] = [];
  private exceptionHandler: (error: Error) => StreamThreadExceptionResponse = () => 'SHUTDOWN_CLIENT';
  private restoreListener: StateRestoreListener | undefined;
  private thread: StreamThread | undefined;
  private closing: Promise<void> | undefined;
  private retiredProcessed = { processed: 0, droppedLate: 0, droppedNullKey: 0 };

  constructor(
    private readonly topology: Topology,
    config: StreamsConfig,
  ) {
    installAbortedTransactionFilter();
    this.config = resolveConfig(config);
    if (topology.applicationId !== this.config.applicationId) {
      throw new ConfigError(
        `The topology was built for applicationId '${topology.applicationId}' but the config says ` +
          `'${this.config.applicationId}': build it with the same id (it names the internal topics).`,
      );
    }
    this.kafka = new Kafka({
      ...this.config.kafka,
      clientId: this.config.clientId,
      brokers: this.config.bootstrapServers,
      logLevel: kafkaLogLevel.WARN,
      logCreator: this.config.kafka.logCreator ?? kafkajsLogCreator(this.config.logger),
    });
  }

  get state(): KafkaStreamsState {
    return this.current;
  }

  on(event: 'stateChange', listener: StateListener): this {
    if (event !== 'stateChange') throw new StreamsError(`unknown event ${String(event)}`);
    this.listeners.push(listener);
    return this;
  }

  setUncaughtExceptionHandler(handler: (error: Error) => StreamThreadExceptionResponse): void {
    this.exceptionHandler = handler;
  }

  setGlobalStateRestoreListener(listener: StateRestoreListener): void {
    this.restoreListener = listener;
  }

  private transition(next: KafkaStreamsState): void {
    const previous = this.current;
    if (previous === next && next !== 'REBALANCING') return;
    if (!TRANSITIONS[previous].includes(next)) return;
    this.current = next;
    if (previous === next) return;
    this.config.logger.info(`state ${previous} -> ${next}`);
    for (const listener of this.listeners) {
      try {
        listener(next, previous);
      } catch (err) {
        this.config.logger.warn(`a state listener threw: ${(err as Error).message}`);
      }
    }
  }

  /**
   * Checks topics (source topics must exist; internal topics are created or validated), then joins the
   * group. Resolves once the instance is part of the group; tasks restore and start in the background
   * (watch for RUNNING).
   */
  async start(): Promise<void> {
    if (this.current !== 'CREATED') throw new StreamsError(`start() can be called once, in state CREATED (now ${this.current})`);
    this.transition('REBALANCING');
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      const metadata = await ensureTopics(admin, this.topology, this.config.replicationFactor, this.config.logger);
      await this.checkDeadLetterTopics(admin);
      this.thread = this.newThread(metadata);
      await this.thread.start();
    } catch (err) {
      this.transition('ERROR');
      await this.thread?.close().catch(() => {});
      throw err;
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }

  private async checkDeadLetterTopics(admin: Admin): Promise<void> {
    const wanted = [this.config.deserializationExceptionHandler, this.config.processingExceptionHandler]
      .map((h) => (typeof h === 'object' ? h.deadLetterTopic : undefined))
      .filter((t): t is string => t !== undefined);
    if (wanted.length === 0) return;
    const existing = new Set(await admin.listTopics());
    const missing = [...new Set(wanted)].filter((t) => !existing.has(t));
    if (missing.length > 0) {
      throw new ConfigError(`The dead-letter topic(s) ${missing.join(', ')} do not exist: create them (any partition count) before starting.`);
    }
  }

  private newThread(metadata: Awaited<ReturnType<typeof ensureTopics>>): StreamThread {
    const thread: StreamThread = new StreamThread(this.kafka, this.topology, this.config, metadata, {
      onError: (error) => void this.handleFatal(thread, error, metadata),
      onRebalancing: (rebalancing) => {
        if (this.current === 'PENDING_SHUTDOWN' || this.current === 'ERROR') return;
        this.transition(rebalancing ? 'REBALANCING' : 'RUNNING');
      },
      restoreListener: () => this.restoreListener,
    });
    return thread;
  }

  private async handleFatal(thread: StreamThread, error: Error, metadata: Awaited<ReturnType<typeof ensureTopics>>): Promise<void> {
    this.config.logger.error(`processing failed: ${error.message}`, { stack: error.stack });
    let response: StreamThreadExceptionResponse = 'SHUTDOWN_CLIENT';
    try {
      response = this.exceptionHandler(error);
    } catch (err) {
      this.config.logger.error(`the uncaught exception handler threw: ${(err as Error).message}`);
    }
    if (response === 'REPLACE_THREAD' && this.closing === undefined) {
      this.retire(thread);
      await thread.close();
      if (this.closing !== undefined) return;
      this.config.logger.warn('replacing the stream thread; its tasks restore from their last commit');
      this.thread = this.newThread(metadata);
      this.transition('REBALANCING');
      await this.thread.start().catch((err: unknown) => void this.handleFatal(this.thread!, err as Error, metadata));
      return;
    }
    // SHUTDOWN_APPLICATION would ask every instance to stop; kafkajs cannot send that signal, so it stops this one.
    this.transition('ERROR');
    await this.close();
  }

  private retire(thread: StreamThread): void {
    for (const task of thread.activeTasks.values()) {
      this.retiredProcessed.processed += task.streamTask.counters.processed;
      this.retiredProcessed.droppedLate += task.streamTask.counters.droppedLate;
      this.retiredProcessed.droppedNullKey += task.streamTask.counters.droppedNullKey;
    }
  }

  /** The active tasks of this instance, by id. */
  localTaskIds(): string[] {
    return [...(this.thread?.activeTasks.keys() ?? [])].sort();
  }

  metrics(): StreamsMetrics {
    const thread = this.thread;
    let processed = this.retiredProcessed.processed;
    let droppedLate = this.retiredProcessed.droppedLate;
    let droppedNullKey = this.retiredProcessed.droppedNullKey;
    for (const task of thread?.activeTasks.values() ?? []) {
      processed += task.streamTask.counters.processed;
      droppedLate += task.streamTask.counters.droppedLate;
      droppedNullKey += task.streamTask.counters.droppedNullKey;
    }
    const counters = thread?.counters ?? { commits: 0, commitLatencyTotalMs: 0, restoredRecords: 0 };
    const deserialization = thread?.deserializationErrors;
    const processing = thread?.processingErrors;
    const produced = thread?.producerStats ?? { records: 0, batches: 0 };
    return {
      state: this.current,
      activeTasks: this.localTaskIds(),
      processedTotal: processed,
      droppedLateTotal: droppedLate,
      droppedNullKeyTotal: droppedNullKey,
      skippedRecordsTotal: (deserialization?.skipped ?? 0) + (processing?.skipped ?? 0),
      deadLetterRecordsTotal: (deserialization?.deadLettered ?? 0) + (processing?.deadLettered ?? 0),
      commitTotal: counters.commits,
      commitLatencyAvgMs: counters.commits === 0 ? 0 : counters.commitLatencyTotalMs / counters.commits,
      restoredRecordsTotal: counters.restoredRecords,
      producedRecordsTotal: produced.records,
      produceRequestsTotal: produced.batches,
    };
  }

  /**
   * Finishes the batches in progress, commits, writes checkpoints and leaves the group. Nothing is lost or
   * processed twice by a clean close. Resolves when done, or after `timeoutMs` (default: wait).
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.closing === undefined) {
      const wasError = this.current === 'ERROR';
      this.transition('PENDING_SHUTDOWN');
      this.closing = (async () => {
        await this.thread?.close();
        this.transition(wasError ? 'ERROR' : 'NOT_RUNNING');
        if (wasError) this.current = 'ERROR';
      })();
    }
    if (options.timeoutMs === undefined) return this.closing;
    return Promise.race([this.closing, new Promise<void>((r) => setTimeout(r, options.timeoutMs).unref())]);
  }
}
