import type { Admin } from '../client/admin.js';
import { isClientError } from '../client/client-error.js';
import type { GroupConsumer } from '../client/group-consumer.js';
import type { KafkaClient } from '../client/kafka-client.js';
import type { PartitionsByTopic } from '../client/topic-partitions.js';
import type { ResolvedStreamsConfig } from '../config/streams-config.js';
import { asError } from '../errors/as-error.js';
import { StreamsRuntimeError } from '../errors/errors.js';
import type { Topology } from '../processor/topology.js';
import type { ActiveTask } from './active-task.js';
import { BrokerOutageHandler } from './broker-outage-handler.js';
import { ChangelogReader } from './changelog-reader.js';
import { InputBuffers } from './input-buffers.js';
import type { TopologyMetadata } from './internal-topic-manager.js';
import { localTaskOffsets } from './local-state.js';
import type { RecordCounts } from './record-counts.js';
import type { RecordAccounting } from './record-accounting.js';
import { RestoreProgress } from './restore-progress.js';
import { withSchemaPrefetch } from './serde-initializer.js';
import type { StandbyManager } from './standby-manager.js';
import type { StateRestoreListener } from './state-restore-listener.js';
import { taskAssignor, topologySummary, type SubscriptionInfo } from './task-assignor.js';
import { TaskExecutor } from './task-executor.js';
import { formatTaskId, type TaskId } from '../processor/task-id.js';
import { TaskManager, type ThreadCounters } from './task-manager.js';
import { ThreadState, type ThreadErrors } from './thread-state.js';

export interface StreamThreadHooks {
  /** A fatal error: the thread has stopped processing. */
  onError(error: Error): void;
  /** The group is rebalancing (true) or every assigned task runs (false). */
  onRebalancing(rebalancing: boolean): void;
  restoreListener(): StateRestoreListener | undefined;
}

/**
 * The loop of an instance, as Kafka Streams' StreamThread: one group consumer (with our task assignor)
 * that fetches into a queue per input partition, the processing of those queues in event-time order,
 * periodic commits, and riding out broker outages and consumer crashes. The thread starts, runs the loop
 * as phases and closes; each concern is a part it wires together:
 * - ThreadState: stopped, failed, rebalancing, membership lost, consumer down;
 * - InputBuffers: the record queues and every pause, resume and seek of the consumer;
 * - TaskManager: which tasks run, their handover, commits and recovery (their creation is the TaskCreator's);
 * - TaskExecutor: the processing rounds, and the wait for work between them;
 * - BrokerOutageHandler: the suspend-wait-resume cycle of a broker outage.
 * Calls go thread → manager → tasks; the parts report back only errors, finished commits and wake-ups.
 */
export class StreamThread {
  private consumer: GroupConsumer | undefined;
  private admin: Admin | undefined;
  private readonly eos: boolean;
  private readonly reader: ChangelogReader;
  private readonly state: ThreadState;
  private readonly inputs: InputBuffers;
  private readonly manager: TaskManager;
  private readonly executor: TaskExecutor;
  private readonly outages: BrokerOutageHandler;
  private commitTimer: NodeJS.Timeout | undefined;
  /** The processing loop, from start until the thread stops. */
  private loop: Promise<void> | undefined;
  /** A commit started because a cache is full; one at a time. */
  private flushing: Promise<void> | undefined;
  readonly restoreProgress: RestoreProgress;
  /** What the group compares to refuse members with another topology. */
  private readonly topologyLines: string[];

  constructor(
    private readonly client: KafkaClient,
    private readonly topology: Topology,
    private readonly config: ResolvedStreamsConfig,
    private readonly metadata: TopologyMetadata,
    private readonly hooks: StreamThreadHooks,
  ) {
    this.eos = config.processingGuarantee === 'exactly_once_v2';
    this.reader = new ChangelogReader(client.partitionReader(this.eos));
    this.restoreProgress = new RestoreProgress(config.logger);
    this.topologyLines = topologySummary(topology);
    const errors: ThreadErrors = { handleError: (error) => this.handleError(error), fail: (error) => this.fail(error) };
    this.state = new ThreadState((rebalancing) => this.hooks.onRebalancing(rebalancing));
    this.inputs = new InputBuffers(config, this.state, () => this.consumer, () => this.admin!, {
      wake: () => this.executor.wake(),
      removed: (task) => this.executor.forget(task),
      handleError: errors.handleError,
    });
    this.manager = new TaskManager(client, () => this.admin!, topology, config, metadata, this.reader, this.restoreProgress, () => this.hooks.restoreListener(), {
      state: this.state,
      inputs: this.inputs,
      commitOffsets: (offsets) => this.consumer!.commitOffsets(offsets),
      commitFinished: () => this.executor.wake(),
      handleError: errors.handleError,
      fail: errors.fail,
    });
    this.executor = new TaskExecutor(topology, config, this.inputs, this.state, this.manager.tasks, this.manager.committer, errors);
    this.outages = new BrokerOutageHandler(config, topology, this.state, this.manager, () => this.consumer!, () => this.admin!, errors.fail);
  }

  get activeTasks(): ReadonlyMap<string, ActiveTask> {
    return this.manager.tasks;
  }

  get producerStats(): { records: number; batches: number } {
    return this.manager.producerStats;
  }

  get counters(): ThreadCounters {
    return this.manager.counters;
  }

  /** Fetched records waiting in the record queues of the running tasks. */
  get bufferedRecords(): number {
    return this.inputs.bufferedRecords;
  }

  /** The most records one partition's queue has held (see InputBuffers). */
  get maxBufferedRecordsPerPartition(): number {
    return this.inputs.maxBufferedRecordsPerPartition;
  }

  /** Record counts of tasks this thread no longer runs (handed over, recovered, suspended, closed). */
  get retiredTaskCounters(): RecordCounts {
    return this.manager.retiredTaskCounters;
  }

  get standbys(): StandbyManager | undefined {
    return this.manager.standbys;
  }

  /** Records the exception handlers skipped or dead-lettered. */
  get failedRecords(): RecordAccounting {
    return this.executor.failedRecords;
  }

  async start(): Promise<void> {
    const { config } = this;
    this.admin = this.client.admin();
    await this.admin.connect();
    const consumer = this.client.groupConsumer(
      {
        groupId: config.applicationId,
        assignor: taskAssignor(this.topology, () => this.metadata, () => this.subscriptionInfo(), (refused, self) => this.onRefused(refused, self)),
        sessionTimeoutMs: config.sessionTimeoutMs,
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        rebalanceTimeoutMs: Math.max(60_000, config.handoverTimeoutMs * 2),
        readCommitted: this.eos,
        partitionsConsumedConcurrently: config.partitionsConsumedConcurrently,
        maxPartitionFetchBytes: config.maxPartitionFetchBytes,
        fetchMaxBytes: config.fetchMaxBytes,
        groupInstanceId: config.groupInstanceId,
        retry: config.kafka.retry,
        // The consumer restarts itself after retriable errors (a broker away); never once we stop.
        restartOnFailure: () => !this.state.stopped,
      },
      {
        onRebalancing: () => this.state.rebalanceStarted(),
        onJoin: (memberId, assignment) => this.onJoin(memberId, assignment),
        onBatch: withSchemaPrefetch(this.topology, (batch, resolveOffset, isStale) => this.inputs.onBatch(batch, resolveOffset, isStale)),
        onEmptyFetch: (fetch) => this.inputs.onEmptyFetch(fetch),
        onCrash: (error, restarting) => this.onCrash(error, restarting),
      },
    );
    this.consumer = consumer;
    await consumer.connect();
    const topics = [...new Set(this.topology.subtopologies.flatMap((s) => s.sourceTopics))];
    await consumer.subscribe(topics);
    await consumer.run();
    this.loop = this.runLoop().catch((err: unknown) => this.fail(asError(err)));
    this.standbys?.start();
    this.commitTimer = setInterval(() => {
      void this.manager.commitAll(false).catch((err: unknown) => this.handleError(asError(err)));
    }, config.commitIntervalMs);
    this.commitTimer.unref();
  }

  /**
   * The processing loop, as phases (Kafka Streams' runOnce): (1) process a round of at most
   * `maxPollRecords` records, synchronous (no promise per record); (2) mark the queues' positions and lag,
   * and resume partitions that drained; (3) punctuate on wall-clock time, and the producers send; (4) commit
   * if a cache is full; (5) yield to I/O, or wait for work when the round found none. Fetching runs beside
   * it (the consumer hands batches to the input buffers), and so do periodic commits (a timer).
   */
  private async runLoop(): Promise<void> {
    while (!this.state.stopped) {
      const now = Date.now();
      const processed = this.executor.process(now);
      this.inputs.roundEnded();
      this.executor.punctuate(now);
      if (this.state.stopped) return;
      this.maybeCommit();
      if (processed > 0) await new Promise((resolve) => setImmediate(resolve));
      else await this.executor.waitForWork();
    }
  }

  /**
   * A commit (or an eviction, see TaskManager.relieveCaches) when a task's cache is full, one at a time;
   * periodic commits run on their timer. None while the group rebalances: no commit runs then (see
   * TaskManager.commitAll), so the relief would end at once and wake the loop, which would start it again
   * at once (issue 31); the first round after the rebalance relieves the full caches.
   */
  private maybeCommit(): void {
    if (this.flushing !== undefined || this.state.rebalancing) return;
    if (![...this.inputs.running.values()].some((r) => r.task.needsFlush())) return;
    this.flushing = this.manager
      .relieveCaches()
      .catch((err: unknown) => this.handleError(asError(err)))
      .finally(() => {
        this.flushing = undefined;
        this.executor.wake();
      });
  }

  private onJoin(memberId: string, assignment: PartitionsByTopic): void {
    // A consumer that rejoins after close (a restart the consumer began before) must not take tasks.
    if (this.state.stopped) {
      void this.consumer?.disconnect().catch(() => {});
      return;
    }
    this.state.joined();
    this.onAssignment(memberId, assignment);
  }

  /** Synchronous part of a new assignment: pause what is not ready, then reconcile in order. */
  private onAssignment(memberId: string, assignment: PartitionsByTopic): void {
    if (this.state.stopped) return;
    const taskIds = new Set<TaskId>();
    for (const [topic, partitions] of Object.entries(assignment)) {
      const sub = this.topology.subtopologyOfTopic(topic);
      if (sub === undefined) continue;
      for (const p of partitions) taskIds.add(formatTaskId({ subtopology: sub.id, partition: p }));
    }
    const generation = this.manager.assign(memberId, taskIds);
    this.inputs.assigned(assignment, taskIds, this.manager);
    this.manager.reconcileLater(generation, taskIds);
  }

  private onCrash(error: Error, restarting: boolean): void {
    if (this.state.stopped) return;
    // The consumer has disconnected; it rejoins by itself when restarting, else we restart it after an outage.
    this.state.rebalanceStarted();
    this.state.consumerCrashed(restarting);
    if (restarting && !isClientError(error, 'unavailable')) return;
    this.handleError(new StreamsRuntimeError(`The consumer crashed: ${error.message}`, { cause: error }));
  }

  private subscriptionInfo(): SubscriptionInfo {
    const active: Record<string, string> = {};
    for (const task of this.manager.tasks.values()) active[task.id] = task.token;
    const state = localTaskOffsets(this.config.stateDir, this.config.applicationId, new Set(this.manager.tasks.keys()));
    return { active, server: this.config.applicationServer, state, topology: this.topologyLines };
  }

  /** As the group's leader: members with another topology get no task; if that is us, we leave. */
  private onRefused(refused: ReadonlyMap<string, string>, self: string | undefined): void {
    for (const reason of refused.values()) this.config.logger.error(`topology mismatch: ${reason}`);
    if (self !== undefined) setImmediate(() => this.fail(new StreamsRuntimeError(self)));
  }

  /**
   * Every error of the thread ends here: a broker that cannot be reached is ridden out (for up to
   * brokerUnavailableTimeoutMs, see BrokerOutageHandler); anything else is fatal.
   */
  private handleError(error: Error): void {
    if (this.state.stopped) return;
    if (this.config.brokerUnavailableTimeoutMs > 0 && isClientError(error, 'unavailable')) this.outages.brokerUnavailable(error);
    else this.fail(error);
  }

  private fail(error: Error): void {
    if (!this.state.markFailed()) return;
    this.executor.wake();
    this.hooks.onError(error);
  }

  /**
   * Stops processing: finishes the batches in progress, commits (unless the thread failed: then nothing
   * after the last commit is trusted), closes the tasks, and leaves the group.
   */
  async close(): Promise<void> {
    if (!this.state.markClosing()) return;
    if (this.commitTimer !== undefined) clearInterval(this.commitTimer);
    const consumer = this.consumer;
    this.inputs.pauseTasks(this.manager.tasks.values());
    // The loop stops at the end of its round (rounds are synchronous: none is half done now).
    this.executor.wake();
    await this.loop;
    // Task creations in progress see `closing` at their next step, close what they opened and settle.
    await this.outages.settled();
    await this.manager.settled();
    await this.manager.closeAll(!this.state.failed);
    this.failedRecords.flushLog();
    await this.standbys?.close();
    await consumer?.disconnect().catch(() => {});
    await this.admin?.disconnect().catch(() => {});
    await this.reader.close().catch(() => {});
  }
}
