import { GlobalState } from './global-state.js';
import type { ThreadConfig } from './thread-config.js';
import type { Admin } from '../client/admin.js';
import type { KafkaClient } from '../client/kafka-client.js';
import { createKafkajsClient } from '../client/kafkajs/kafkajs-client.js';
import { addRecordCounts, emptyRecordCounts, type RecordCounts } from './record-counts.js';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { MetricsServer } from './metrics-server.js';
import { QueryServer } from './query/query-server.js';
import { StreamsQueryBackend } from './query/streams-query-backend.js';
import { StoreSchemas } from './store-schemas.js';
import { InvalidStateStoreError, type QueryableStoreType } from './queryable-stores.js';
import type { ManagedStore } from '../stores/managed-store.js';
import type { Serde } from '../serdes/serde.js';
import { createPrometheusRegistry } from './prometheus-metrics.js';
import { resolveConfig, type ResolvedStreamsConfig, type StreamsConfig } from '../config/streams-config.js';
import type { Topology } from '../processor/topology.js';
import { asError } from '../errors/as-error.js';
import { ConfigError, StreamsError } from '../errors/errors.js';
import { ensureTopics, type TopologyMetadata } from './internal-topic-manager.js';
import { readTopicWriteLimits, type WriteLimitsByTopic } from './topic-write-limits.js';
import type { StateRestoreListener } from './state-restore-listener.js';
import { initializeSerdes } from './serde-initializer.js';
import { StreamThread } from './stream-thread.js';
import { checkBootstrapServers } from '../client/broker-probe.js';
import { installShutdownHooks, type ShutdownHookOptions } from './shutdown-hooks.js';
import { TRANSITIONS, type KafkaStreamsState, type StateListener, type StreamThreadExceptionResponse } from './kafka-streams-state.js';
import { activeTaskIds, collectStreamsMetrics, type StreamsMetrics } from './streams-metrics.js';
import { describeStreamsClients, taskOfKey, type KeyQueryMetadata, type StreamsClientMetadata } from './streams-metadata.js';
import { checkLateRecordsTopic, checkLateRecordsTopicExists } from './late-records.js';

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
  private queryServer: QueryServer | undefined;
  private queryBackend: StreamsQueryBackend | undefined;
  private queryAt: AddressInfo | undefined;
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
    checkLateRecordsTopic(topology, this.config.lateRecords);
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
    this.queryBackend?.invalidate();
    for (const listener of this.listeners) {
      try {
        listener(next, previous);
      } catch (err) {
        this.config.logger.warn(`a state listener threw: ${asError(err).message}`);
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
      await initializeSerdes(this.topology);
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
      // The dead-letter and late-records checks both ask which topics exist: one listing serves both.
      let listed: Promise<ReadonlySet<string>> | undefined;
      const existingTopics = (): Promise<ReadonlySet<string>> => (listed ??= admin.listTopics().then((names) => new Set(names)));
      const deadLetterTopics = await this.checkDeadLetterTopics(existingTopics);
      const lateTopics = await checkLateRecordsTopicExists(existingTopics, this.topology, this.config.lateRecords);
      const writeLimits = await this.readWriteLimits(admin, [...deadLetterTopics, ...lateTopics]);
      if (this.config.metricsPort !== undefined) {
        this.metricsServer = new MetricsServer(this.prometheusRegistry, () => this.current);
        this.metricsAt = await this.metricsServer.listen(this.config.metricsPort, this.config.metricsHost);
        this.config.logger.info(`metrics on http://${this.metricsAt.address}:${this.metricsAt.port}/metrics`);
      }
      if (this.config.queryServer !== undefined) await this.startQueryServer();
      // As Kafka Streams: the global stores are restored before any task processes.
      const global = new GlobalState(this.client, this.topology, this.config, metadata.partitionsByTopic, () => this.restoreListener);
      this.global = global;
      await global.restore();
      this.threadConfig = { ...this.config, globalStores: global.stores, writeLimits };
      this.thread = this.newThread(metadata);
      global.run((error) => void this.handleGlobalFatal(error));
      await this.thread.start();
    } catch (err) {
      this.transition('ERROR');
      await this.thread?.close().catch(() => {});
      await this.global?.close().catch(() => {});
      await this.metricsServer?.close();
      await this.queryServer?.close();
      throw err;
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }

  /** The query server (`queryServer`) on `applicationServer`'s port: see QueryServer. */
  private async startQueryServer(): Promise<void> {
    const backend = new StreamsQueryBackend({
      topology: this.topology,
      config: this.config,
      state: () => this.current,
      thread: () => this.thread,
      globalStores: () => this.global?.stores,
      metadata: () => this.metadata,
      members: () => this.metadataForAllStreamsClients(),
      metrics: () => this.metrics(),
    });
    this.queryBackend = backend;
    this.queryServer = new QueryServer(backend, this.config.queryServer!, this.config.logger);
    this.queryAt = await this.queryServer.listen();
    this.config.logger.info(`queries and status on http://${this.queryAt.address}:${this.queryAt.port}/status`);
  }

  /** Checks that the handlers' dead-letter topics exist; returns them. */
  private async checkDeadLetterTopics(existingTopics: () => Promise<ReadonlySet<string>>): Promise<string[]> {
    const wanted = [this.config.deserializationExceptionHandler, this.config.processingExceptionHandler, this.config.productionExceptionHandler]
      .map((h) => (typeof h === 'object' ? h.deadLetterTopic : undefined))
      .filter((t): t is string => t !== undefined);
    if (wanted.length === 0) return [];
    const existing = await existingTopics();
    const missing = [...new Set(wanted)].filter((t) => !existing.has(t));
    if (missing.length > 0) {
      throw new ConfigError(`The dead-letter topic(s) ${missing.join(', ')} do not exist: create them (any partition count) before starting.`);
    }
    return wanted;
  }

  /**
   * What every topic the application writes by name accepts (sink, repartition, changelog and dead-letter
   * topics), so that tasks check output records before they are sent: a record the broker refuses would
   * fail its whole batch, and under exactly-once its task's transaction, again after every restart.
   */
  private async readWriteLimits(admin: Admin, deadLetterTopics: readonly string[]): Promise<WriteLimitsByTopic> {
    const written = [...this.topology.subtopologies.flatMap((s) => s.sinkTopics), ...this.topology.internalTopics.map((t) => t.name), ...deadLetterTopics];
    try {
      return await readTopicWriteLimits(admin, written);
    } catch (err) {
      // E.g. no DescribeConfigs permission on a sink topic: run as before, checking against maxRecordBytes only.
      this.config.logger.warn(`could not read the configs of the topics the application writes (${(err as Error).message}): output records are checked against maxRecordBytes only`);
      return new Map();
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
      this.config.logger.error(`the uncaught exception handler threw: ${asError(err).message}`);
    }
    if (response === 'REPLACE_THREAD' && this.closing === undefined) {
      await thread.close();
      if (this.closing !== undefined) return;
      this.config.logger.warn('replacing the stream thread; its tasks restore from their last commit');
      // Closing moved every task's counters into the thread's retired totals: keep them across the swap.
      this.retire(thread);
      this.thread = this.newThread(metadata);
      this.transition('REBALANCING');
      await this.thread.start().catch((err: unknown) => void this.handleFatal(this.thread!, asError(err), metadata));
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
      this.config.logger.error(`the uncaught exception handler threw: ${asError(err).message}`);
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
    const { taskId, partition } = taskOfKey(this.topology, this.metadata, storeName, key, keySerde);
    const owner = (await this.metadataForAllStreamsClients()).find((c) => c.activeTasks.includes(taskId));
    if (owner === undefined) return undefined;
    return { applicationServer: owner.applicationServer, clientId: owner.clientId, taskId, partition };
  }

  /** Every member of the application's group: its `applicationServer`, client id and active tasks. */
  async metadataForAllStreamsClients(): Promise<StreamsClientMetadata[]> {
    return describeStreamsClients(this.client, this.topology, this.config, this.metadata);
  }

  /** The active tasks of this instance, by id. */
  localTaskIds(): string[] {
    return activeTaskIds(this.thread);
  }

  /** This instance's figures now (counters since start); `prometheusRegistry` exports them. */
  metrics(): StreamsMetrics {
    return collectStreamsMetrics(this.current, this.thread, this.retiredProcessed);
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

  /** Where the query server listens (with `queryServer`), once started. */
  get queryServerAddress():
    | {
        /** The interface's address. */
        host: string;
        /** The port. */
        port: number;
      }
    | undefined {
    return this.queryAt === undefined ? undefined : { host: this.queryAt.address, port: this.queryAt.port };
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
        await this.queryServer?.close();
        this.transition(wasError ? 'ERROR' : 'NOT_RUNNING');
        if (wasError) this.current = 'ERROR';
      })();
    }
    if (options.timeoutMs === undefined) return this.closing;
    return Promise.race([this.closing, new Promise<void>((r) => setTimeout(r, options.timeoutMs).unref())]);
  }
}
