import { GlobalState } from './global-state.js';
import type { ThreadConfig } from './thread-config.js';
import type { Admin } from '../client/admin.js';
import type { KafkaClient } from '../client/kafka-client.js';
import { createKafkajsClient } from '../client/kafkajs/kafkajs-client.js';
import { addRecordCounts, emptyRecordCounts, type RecordCounts } from './record-counts.js';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { MetricsServer } from './metrics-server.js';
import { StoreSchemas } from './store-schemas.js';
import { partitionForKey } from './murmur2.js';
import { InvalidStateStoreError, type QueryableStoreType } from './queryable-stores.js';
import { describeGroupMembers, statefulTaskIds } from './group-members.js';
import { computeStandbys } from './task-assignor.js';
import { formatTaskId } from './task-id.js';
import type { ManagedStore } from '../stores/managed-store.js';
import type { Serde } from '../serdes/serde.js';
import { createPrometheusRegistry } from './prometheus-metrics.js';
import { resolveConfig, type ResolvedStreamsConfig, type StreamsConfig } from '../config/streams-config.js';
import type { Topology } from '../processor/topology.js';
import { ConfigError, StreamsError } from '../errors/errors.js';
import { ensureTopics, type TopologyMetadata } from './internal-topic-manager.js';
import type { StateRestoreListener } from './state-restore-listener.js';
import { StreamThread } from './stream-thread.js';
import { checkBootstrapServers } from '../client/broker-probe.js';
import { installShutdownHooks, type ShutdownHookOptions } from './shutdown-hooks.js';

/** Kafka Streams' client states. */
export type KafkaStreamsState = 'CREATED' | 'REBALANCING' | 'RUNNING' | 'PENDING_SHUTDOWN' | 'NOT_RUNNING' | 'ERROR';

/** What to do after a fatal processing error, as Kafka Streams' StreamsUncaughtExceptionHandler answers. */
export type StreamThreadExceptionResponse = 'SHUTDOWN_CLIENT' | 'REPLACE_THREAD' | 'SHUTDOWN_APPLICATION';

/** Called on every state change of an instance (see `KafkaStreams.on('stateChange', ...)`). */
export type StateListener = (next: KafkaStreamsState, previous: KafkaStreamsState) => void;

/** Where a key's state lives (see `metadataForKey`). */
export interface KeyQueryMetadata {
  /** The owner's `applicationServer` setting (host:port), undefined if it set none. */
  readonly applicationServer: string | undefined;
  /** The owner's client id. */
  readonly clientId: string;
  /** The task that holds the key (`<sub-topology>_<partition>`). */
  readonly taskId: string;
  /** The key's partition. */
  readonly partition: number;
}

/** One member of the application's group. */
export interface StreamsClientMetadata {
  /** Its member id in the consumer group. */
  readonly memberId: string;
  /** Its client id. */
  readonly clientId: string;
  /** Its `applicationServer` setting (host:port), undefined if it set none. */
  readonly applicationServer: string | undefined;
  /** Tasks it processes. */
  readonly activeTasks: readonly string[];
  /** Tasks it keeps warm replicas of (with `numStandbyReplicas`). */
  readonly standbyTasks: readonly string[];
}

/** Figures of one task. */
export interface TaskMetrics {
  /** `<sub-topology>_<partition>`. */
  readonly taskId: string;
  /** Records the task processed. */
  readonly processedTotal: number;
  /** Records behind the end of each input partition (`topic-partition`), as of the last fetch. */
  readonly recordsLag: Readonly<Record<string, number>>;
  /** Records the task dropped as late (their window had closed). */
  readonly droppedLateTotal: number;
  /** Punctuations the task ran. */
  readonly punctuateTotal: number;
  /** Their average duration. */
  readonly punctuateLatencyAvgMs: number;
  /** Reads answered by the write cache / all reads, per store (NaN before the first read). */
  readonly cacheHitRatio: Readonly<Record<string, number>>;
}

/** Figures of one instance, for sizing and alerting. */
export interface StreamsMetrics {
  /** The instance's state. */
  readonly state: KafkaStreamsState;
  /** The tasks this instance processes. */
  readonly activeTasks: string[];
  /** Tasks this instance keeps warm replicas of (`numStandbyReplicas`). */
  readonly standbyTasks: string[];
  /** Changelog records the replicas applied. */
  readonly standbyRecordsTotal: number;
  /** Records processed, over every task this instance ran. */
  readonly processedTotal: number;
  /** Records dropped as late (their window had closed). */
  readonly droppedLateTotal: number;
  /** Records dropped because an aggregation met a null key. */
  readonly droppedNullKeyTotal: number;
  /** Input records whose extracted timestamp was negative (dropped by the timestamp extractor's choice). */
  readonly droppedInvalidTimestampTotal: number;
  /** Output records the production exception handler dropped ('continue'). */
  readonly droppedProductionTotal: number;
  /** Records skipped or dead-lettered by the deserialization and processing exception handlers. */
  readonly skippedRecordsTotal: number;
  /** Of those, records sent to a dead-letter topic. */
  readonly deadLetterRecordsTotal: number;
  /** Commits done. */
  readonly commitTotal: number;
  /** Their average duration. */
  readonly commitLatencyAvgMs: number;
  /** Changelog records restored into stores. */
  readonly restoredRecordsTotal: number;
  /** Changelog records still to restore, over the restorations in progress. */
  readonly restoreRemainingRecords: number;
  /** Records behind the end of the input, over this instance's tasks. */
  readonly recordsLag: number;
  /**
   * Fetched records waiting to be processed, over this instance's partitions: each partition's queue holds up
   * to `bufferedRecordsPerPartition` before its partition is paused, plus what one fetch brought.
   */
  readonly bufferedRecords: number;
  /** The most records one partition's queue has held since the start: what the fetch bounds allowed. */
  readonly maxBufferedRecordsPerPartition: number;
  /** Records written (output, repartition, changelog, dead letters). */
  readonly producedRecordsTotal: number;
  /** Produce requests those records were sent in. */
  readonly produceRequestsTotal: number;
  /** Figures per active task. */
  readonly tasks: readonly TaskMetrics[];
}

const TRANSITIONS: Record<KafkaStreamsState, KafkaStreamsState[]> = {
  CREATED: ['REBALANCING', 'PENDING_SHUTDOWN', 'ERROR'],
  REBALANCING: ['RUNNING', 'REBALANCING', 'PENDING_SHUTDOWN', 'ERROR'],
  RUNNING: ['REBALANCING', 'PENDING_SHUTDOWN', 'ERROR'],
  PENDING_SHUTDOWN: ['NOT_RUNNING', 'ERROR'],
  NOT_RUNNING: [],
  ERROR: ['PENDING_SHUTDOWN'],
};

/**
 * Runs a topology on Kafka. Any number of instances with one `applicationId` share the work: each takes
 * some tasks (a sub-topology for one partition), restores their state from the changelog topics, and
 * processes their partitions in offset order.
 *
 * ```ts
 * const app = new KafkaStreams(topology, { applicationId: 'clicks', bootstrapServers: ['127.0.0.1:9092'] });
 * app.on('stateChange', (next) => console.log(next));
 * await app.start();
 * app.closeOnSignals(); // SIGINT and SIGTERM: commit, leave the group, exit
 * ```
 */
export class KafkaStreams {
  private readonly config: ResolvedStreamsConfig;
  /** The config the stream thread runs with: `config` and, once restored, the global stores. */
  private threadConfig: ThreadConfig;
  private global?: GlobalState;
  private readonly client: KafkaClient;
  private current: KafkaStreamsState = 'CREATED';
  private readonly listeners: StateListener[] = [];
  private exceptionHandler: (error: Error) => StreamThreadExceptionResponse = () => 'SHUTDOWN_CLIENT';
  private restoreListener: StateRestoreListener | undefined;
  private thread: StreamThread | undefined;
  private closing: Promise<void> | undefined;
  private registry: Registry | undefined;
  private metadata: TopologyMetadata | undefined;
  private metricsServer: MetricsServer | undefined;
  private metricsAt: AddressInfo | undefined;
  private readonly retiredProcessed: RecordCounts = emptyRecordCounts();

  constructor(
    private readonly topology: Topology,
    config: StreamsConfig,
  ) {
    this.config = resolveConfig(config);
    this.threadConfig = this.config;
    if (topology.applicationId !== this.config.applicationId) {
      throw new ConfigError(
        `The topology was built for applicationId '${topology.applicationId}' but the config says ` +
          `'${this.config.applicationId}': build it with the same id (it names the internal topics).`,
      );
    }
    this.client = createKafkajsClient({
      brokers: this.config.bootstrapServers,
      clientId: this.config.clientId,
      connection: this.config.kafka,
      logger: this.config.logger,
    });
  }

  /** The current state: CREATED, then REBALANCING and RUNNING in turn, then PENDING_SHUTDOWN and NOT_RUNNING (or ERROR). */
  get state(): KafkaStreamsState {
    return this.current;
  }

  /** Calls `listener` on every state change, e.g. `app.on('stateChange', (next) => next === 'ERROR' && alert())`. */
  on(event: 'stateChange', listener: StateListener): this {
    if (event !== 'stateChange') throw new StreamsError(`unknown event ${String(event)}`);
    this.listeners.push(listener);
    return this;
  }

  /** Decides what a fatal processing error does: stop this instance (`'SHUTDOWN_CLIENT'`, the default) or restart processing from the last commit (`'REPLACE_THREAD'`). */
  setUncaughtExceptionHandler(handler: (error: Error) => StreamThreadExceptionResponse): void {
    this.exceptionHandler = handler;
  }

  /** Is told when stores start, progress and finish restoring from their changelogs. */
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
   * Checks that a Kafka broker answers at `bootstrapServers` (else a StreamsRuntimeError within
   * `kafka.connectionTimeout`) and the topics (source and sink topics must exist, or `createTopics` creates
   * them; internal topics are created or validated), then joins the group. Resolves once the instance is part of the group; tasks restore and start in the background
   * (watch for RUNNING).
   */
  async start(): Promise<void> {
    if (this.current !== 'CREATED') throw new StreamsError(`start() can be called once, in state CREATED (now ${this.current})`);
    this.transition('REBALANCING');
    const admin = this.client.admin();
    try {
      await StoreSchemas.checkStateDir(this.topology, this.config.stateDir, this.config.applicationId);
      await checkBootstrapServers(this.config.bootstrapServers, { timeoutMs: this.config.kafka.connectionTimeout ?? 3000, ssl: this.config.kafka.ssl });
      await admin.connect();
      const metadata = await ensureTopics(
        admin,
        this.topology,
        this.config.replicationFactor,
        this.config.logger,
        this.config.windowStoreChangelogAdditionalRetentionMs,
        this.config.createTopics,
      );
      this.metadata = metadata;
      await this.checkDeadLetterTopics(admin);
      if (this.config.metricsPort !== undefined) {
        this.metricsServer = new MetricsServer(this.prometheusRegistry, () => this.current);
        this.metricsAt = await this.metricsServer.listen(this.config.metricsPort, this.config.metricsHost);
        this.config.logger.info(`metrics on http://${this.metricsAt.address}:${this.metricsAt.port}/metrics`);
      }
      // As Kafka Streams: the global stores are restored before any task processes.
      const global = new GlobalState(this.client, this.topology, this.config, metadata.partitionsByTopic, () => this.restoreListener);
      this.global = global;
      await global.restore();
      this.threadConfig = { ...this.config, globalStores: global.stores };
      this.thread = this.newThread(metadata);
      global.run((error) => void this.handleGlobalFatal(error));
      await this.thread.start();
    } catch (err) {
      this.transition('ERROR');
      await this.thread?.close().catch(() => {});
      await this.global?.close().catch(() => {});
      await this.metricsServer?.close();
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
    const thread: StreamThread = new StreamThread(this.client, this.topology, this.threadConfig, metadata, {
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
      await thread.close();
      if (this.closing !== undefined) return;
      this.config.logger.warn('replacing the stream thread; its tasks restore from their last commit');
      // Closing moved every task's counters into the thread's retired totals: keep them across the swap.
      this.retire(thread);
      this.thread = this.newThread(metadata);
      this.transition('REBALANCING');
      await this.thread.start().catch((err: unknown) => void this.handleFatal(this.thread!, err as Error, metadata));
      return;
    }
    // SHUTDOWN_APPLICATION would ask every instance to stop; kafkajs cannot send that signal, so it stops this one.
    this.transition('ERROR');
    await this.close();
  }

  /**
   * The global updater failed: the handler is told, but as in Kafka Streams the global thread cannot be
   * replaced, so the instance stops (ERROR) whatever it answers.
   */
  private async handleGlobalFatal(error: Error): Promise<void> {
    this.config.logger.error(`the global table updater failed: ${error.message}`, { stack: error.stack });
    try {
      this.exceptionHandler(error);
    } catch (err) {
      this.config.logger.error(`the uncaught exception handler threw: ${(err as Error).message}`);
    }
    this.transition('ERROR');
    await this.close();
  }

  /** Keeps a replaced thread's record counters (its live tasks' and those it retired), so metrics never go back. */
  private retire(thread: StreamThread): void {
    addRecordCounts(this.retiredProcessed, thread.retiredTaskCounters);
    for (const task of thread.activeTasks.values()) addRecordCounts(this.retiredProcessed, task.streamTask.counters);
  }

  /**
   * A read-only view of a state store over this instance's tasks (interactive queries), e.g.
   * `app.store('session-stats', QueryableStoreTypes.sessionStore<string, Stats>()).fetch('user-1')`.
   * A key's state is on the instance that owns its partition: find it with {@link metadataForKey}.
   * Throws InvalidStateStoreError for an unknown store or type, and while the instance is not RUNNING.
   */
  store<T>(storeName: string, type: QueryableStoreType<T>): T {
    const definition = this.topology.stores.get(storeName);
    if (definition === undefined) {
      throw new InvalidStateStoreError(`The topology has no store '${storeName}' (it has: ${[...this.topology.stores.keys()].join(', ') || 'none'})`);
    }
    if (definition.type !== type.storeType) {
      throw new InvalidStateStoreError(`Store '${storeName}' is a ${definition.type} store, not a ${type.storeType} store`);
    }
    if (this.current !== 'RUNNING') {
      throw new InvalidStateStoreError(`Store '${storeName}' cannot be queried while the instance is ${this.current}: retry when it is RUNNING`);
    }
    const global = this.global?.stores.get(storeName);
    if (global !== undefined) return type.view(() => [global]);
    return type.view(() => {
      const stores: ManagedStore[] = [];
      for (const task of this.thread?.activeTasks.values() ?? []) {
        const store = task.streamTask.stores.get(storeName);
        if (store !== undefined) stores.push(store);
      }
      return stores;
    });
  }

  /**
   * Which instance holds a key's state in a store: its `applicationServer`, the task and partition. The key
   * is serialized with `keySerde` (default: the store's key serde) and partitioned as the default
   * partitioner does (murmur2), as Kafka Streams' metadataForKey does. Undefined while the group has no
   * owner for that task (a rebalance).
   */
  async metadataForKey<K>(storeName: string, key: K, keySerde?: Serde<K>): Promise<KeyQueryMetadata | undefined> {
    const definition = this.topology.stores.get(storeName);
    const sub = this.topology.subtopologies.find((s) => s.stores.some((d) => d.name === storeName));
    if (definition === undefined || sub === undefined) throw new InvalidStateStoreError(`The topology has no store '${storeName}'`);
    const partitions = this.metadata?.partitionsBySubtopology.get(sub.id);
    if (partitions === undefined) throw new InvalidStateStoreError('metadataForKey() needs a started instance');
    const serde = keySerde ?? (definition.keySerde as Serde<K>);
    const bytes = serde.serialize(key, sub.sourceTopics[0] ?? storeName);
    if (bytes === null) throw new InvalidStateStoreError('A null key has no partition');
    const partition = partitionForKey(bytes, partitions);
    const taskId = formatTaskId({ subtopology: sub.id, partition });
    const owner = (await this.metadataForAllStreamsClients()).find((c) => c.activeTasks.includes(taskId));
    if (owner === undefined) return undefined;
    return { applicationServer: owner.applicationServer, clientId: owner.clientId, taskId, partition };
  }

  /** Every member of the application's group: its `applicationServer`, client id and active tasks. */
  async metadataForAllStreamsClients(): Promise<StreamsClientMetadata[]> {
    const admin = this.client.admin();
    await admin.connect();
    try {
      const members = (await describeGroupMembers(admin, this.config.applicationId, this.topology)).filter((m) => m.assigned);
      // Standby placement is computed by every member alike (see computeStandbys): do the same here.
      const standbys =
        this.config.numStandbyReplicas > 0 && this.metadata !== undefined
          ? computeStandbys(
              members.map((m) => ({ memberId: m.memberId, active: m.activeTasks, state: m.subscription.state })),
              statefulTaskIds(this.topology, this.metadata.partitionsBySubtopology),
              this.config.numStandbyReplicas,
            )
          : new Map<string, string[]>();
      const clients: StreamsClientMetadata[] = members.map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        applicationServer: m.subscription.server,
        activeTasks: m.activeTasks,
        standbyTasks: (standbys.get(m.memberId) ?? []).filter((t) => !m.activeTasks.includes(t)).sort(),
      }));
      return clients.sort((a, b) => (a.memberId < b.memberId ? -1 : 1));
    } finally {
      await admin.disconnect();
    }
  }

  /** The active tasks of this instance, by id. */
  localTaskIds(): string[] {
    return [...(this.thread?.activeTasks.keys() ?? [])].sort();
  }

  /** This instance's figures now (counters since start); `prometheusRegistry` exports them. */
  metrics(): StreamsMetrics {
    const thread = this.thread;
    // Counters of tasks the thread no longer runs (handed over, recovered, closed) stay in the totals.
    const totals = addRecordCounts(emptyRecordCounts(), this.retiredProcessed);
    if (thread !== undefined) addRecordCounts(totals, thread.retiredTaskCounters);
    let recordsLag = 0;
    const tasks: TaskMetrics[] = [];
    for (const task of thread?.activeTasks.values() ?? []) {
      const c = task.streamTask.counters;
      addRecordCounts(totals, c);
      const lag: Record<string, number> = {};
      for (const [key, value] of task.recordsLag) {
        lag[key.replace(/:(\d+)$/, '-$1')] = Number(value);
        recordsLag += Number(value);
      }
      const cacheHitRatio: Record<string, number> = {};
      for (const [name, store] of task.streamTask.stores) {
        const { hits, misses } = store.hitRatio();
        cacheHitRatio[name] = hits / (hits + misses);
      }
      tasks.push({
        taskId: task.id,
        processedTotal: c.processed,
        recordsLag: lag,
        droppedLateTotal: c.droppedLate,
        punctuateTotal: c.punctuations,
        punctuateLatencyAvgMs: c.punctuations === 0 ? 0 : c.punctuateMsTotal / c.punctuations,
        cacheHitRatio,
      });
    }
    const counters = thread?.counters ?? { commits: 0, commitLatencyTotalMs: 0, restoredRecords: 0 };
    const deserialization = thread?.deserializationErrors;
    const processing = thread?.processingErrors;
    const produced = thread?.producerStats ?? { records: 0, batches: 0 };
    let restoreRemaining = 0;
    for (const r of thread?.restoreProgress.inProgress.values() ?? []) restoreRemaining += Number(r.remaining);
    return {
      state: this.current,
      activeTasks: this.localTaskIds(),
      standbyTasks: thread?.standbys?.taskIds ?? [],
      standbyRecordsTotal: thread?.standbys?.appliedRecords ?? 0,
      processedTotal: totals.processed,
      droppedLateTotal: totals.droppedLate,
      droppedNullKeyTotal: totals.droppedNullKey,
      droppedInvalidTimestampTotal: totals.droppedInvalidTimestamp,
      droppedProductionTotal: totals.droppedProduction,
      skippedRecordsTotal: (deserialization?.skipped ?? 0) + (processing?.skipped ?? 0),
      deadLetterRecordsTotal: (deserialization?.deadLettered ?? 0) + (processing?.deadLettered ?? 0),
      commitTotal: counters.commits,
      commitLatencyAvgMs: counters.commits === 0 ? 0 : counters.commitLatencyTotalMs / counters.commits,
      restoredRecordsTotal: counters.restoredRecords,
      restoreRemainingRecords: restoreRemaining,
      recordsLag,
      bufferedRecords: thread?.bufferedRecords ?? 0,
      maxBufferedRecordsPerPartition: thread?.maxBufferedRecordsPerPartition ?? 0,
      producedRecordsTotal: produced.records,
      produceRequestsTotal: produced.batches,
      tasks: tasks.sort((a, b) => (a.taskId < b.taskId ? -1 : 1)),
    };
  }

  /**
   * A Prometheus registry (prom-client) over `metrics()` and the process' own figures, labelled with the
   * application and client id: register it with your own server, or set `metricsPort`.
   */
  get prometheusRegistry(): Registry {
    this.registry ??= createPrometheusRegistry(() => this.metrics(), { application_id: this.config.applicationId, client_id: this.config.clientId });
    return this.registry;
  }

  /** Where the metrics server listens (with `metricsPort`), once started. */
  get metricsAddress():
    | {
        /** The interface's address. */
        host: string;
        /** The port (chosen by the system with `metricsPort: 0`). */
        port: number;
      }
    | undefined {
    return this.metricsAt === undefined ? undefined : { host: this.metricsAt.address, port: this.metricsAt.port };
  }

  /** Closes this instance cleanly on SIGINT and SIGTERM, then exits: see {@link installShutdownHooks}. */
  closeOnSignals(options: ShutdownHookOptions = {}): () => void {
    return installShutdownHooks(this, options);
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
        await this.global?.close();
        await this.metricsServer?.close();
        this.transition(wasError ? 'ERROR' : 'NOT_RUNNING');
        if (wasError) this.current = 'ERROR';
      })();
    }
    if (options.timeoutMs === undefined) return this.closing;
    return Promise.race([this.closing, new Promise<void>((r) => setTimeout(r, options.timeoutMs).unref())]);
  }
}
