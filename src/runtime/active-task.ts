import type { ThreadConfig } from './thread-config.js';
import { randomUUID } from 'node:crypto';
import type { TaskId } from '../processor/task-id.js';
import type { Topology } from '../processor/topology.js';
import type { ResolvedStreamsConfig } from '../config/streams-config.js';
import { ChangeLogging } from '../stores/change-logging.js';
import type { ChangelogSink } from '../stores/changelog-sink.js';
import { createStore } from '../stores/store-factory.js';
import type { ChangelogReader } from './changelog-reader.js';
import { StoreCommit } from './store-commit.js';
import { TaskStateManager } from './state/task-state-manager.js';
import type { Logger } from '../logging/logger.js';
import type { Producer } from '../client/producer.js';
import { TopicPartitionMap, type TopicPartition } from '../client/topic-partition.js';
import type { ProducerPipeline } from './producer-pipeline.js';
import type { StateRestoreListener } from './state-restore-listener.js';
import { StreamTask } from './stream-task.js';
import { upstreamTasksOf } from './event-time-clock.js';
import { refusingChangelogSink } from './production-exception-policy.js';
import type { TaskTransactions } from './task-transactions.js';

/** Offset-commit metadata: the task's stream time, its owner's token, and a handover flag. */
export interface CommitMetadata {
  readonly st?: number;
  readonly t?: string;
  readonly h?: boolean;
}

export interface CommitSnapshot {
  readonly offsets: Array<{ topic: string; partition: number; offset: string; metadata: string }>;
  /** The flushed stores, to write once the pipeline acknowledged their changelog records. */
  readonly local: StoreCommit;
}

export type TaskState = 'created' | 'restoring' | 'running' | 'closed';

/**
 * A task the instance runs actively: its StreamTask, its stores (LevelDB under
 * `<stateDir>/<applicationId>/<taskId>/<store>`), what it consumed, and the steps of its life:
 * open → restore → run (process, commit) → close.
 */
export class ActiveTask {
  readonly id: TaskId;
  /** Drawn anew each time this instance takes the task; the group sees it in our subscription. */
  readonly token = randomUUID();
  state: TaskState = 'created';
  /** Where the task's output goes: its own producer's pipeline, or under exactly-once its transaction's. */
  pipeline!: ProducerPipeline;
  /** The task's idempotent producer under at-least-once (closed with the task). */
  private producer: { producer: Producer; pipeline: ProducerPipeline } | undefined;
  /** Exactly-once only: the task's transactional producer (closed with the task). */
  private transactional: TaskTransactions | undefined;
  private stream!: StreamTask;
  /** The local write of a commit in progress (see completeCommit); close() waits for it. */
  private localWrite: Promise<void> | undefined;
  private readonly consumed = new TopicPartitionMap<bigint>();
  private readonly committed = new TopicPartitionMap<bigint>();
  /** The pipeline's enqueued total when the last commit had flushed (see wroteSinceCommit). */
  private enqueuedAtCommit = 0;
  private lastCommitTime = Date.now();
  /** The task's folder, stores and `.checkpoint`: opening, verifying, restoring, checkpointing. */
  private readonly stateManager: TaskStateManager;
  readonly directory: string;

  private constructor(
    private readonly topology: Topology,
    readonly subtopologyId: number,
    readonly partition: number,
    config: ResolvedStreamsConfig,
    logger: Logger,
  ) {
    this.stateManager = new TaskStateManager({ topology, subtopologyId, partition, config, logger, role: 'active' });
    this.id = this.stateManager.taskId;
    this.directory = this.stateManager.directory;
  }

  /** The input partitions of this task: partition `p` of every topic its sub-topology reads. */
  get inputPartitions(): TopicPartition[] {
    return this.topology.subtopologies[this.subtopologyId]!.sourceTopics.map((topic) => ({ topic, partition: this.partition }));
  }

  get streamTask(): StreamTask {
    return this.stream;
  }

  /**
   * Opens the task's stores. A store found damaged, or missing where the task's `.checkpoint` says one was,
   * is wiped with a WARN and opened empty (restore() then rebuilds it from its changelog).
   */
  static async open(
    topology: Topology,
    subtopologyId: number,
    partition: number,
    config: ThreadConfig,
    logger: Logger,
    pipeline: ProducerPipeline,
    partitionsFor: (topic: string) => number | undefined,
    storeBudgetBytes: number,
    initialStreamTime: number,
  ): Promise<ActiveTask> {
    const task = new ActiveTask(topology, subtopologyId, partition, config, logger);
    task.pipeline = pipeline;
    const subtopology = topology.subtopologies[subtopologyId]!;
    const bytesStores = await task.stateManager.openStores(subtopology.stores);
    // Changelog records join the task's output, on the task's partition of each changelog topic.
    // A changelog record its topic would refuse stops the task before it is sent (see refusingChangelogSink).
    const wallClock = (): number => Date.now();
    const enqueue: ChangelogSink = { send: (record) => pipeline.enqueue({ ...record, timestamp: record.timestamp ?? Date.now(), partition }) };
    const changelog = refusingChangelogSink(enqueue, topology, config.writeLimits, config.maxRecordBytes, wallClock);
    task.stream = new StreamTask({
      topology,
      subtopology,
      partition,
      sink: { send: (record) => pipeline.enqueue(record), partitionsFor },
      createStore: (definition) =>
        createStore(definition, bytesStores.get(definition.name)!, storeBudgetBytes, ChangeLogging.of(definition, config.applicationId, changelog), subtopology.sourceTopics),
      wallClock,
      logger,
      initialStreamTime,
      productionExceptionHandler: config.productionExceptionHandler,
      maxRecordBytes: config.maxRecordBytes,
      writeLimits: config.writeLimits,
      // Only worth a header per repartitioned record when failed (or late) records are routed.
      traceInputOrigins:
        typeof config.processingExceptionHandler === 'object' || typeof config.productionExceptionHandler === 'object' || config.lateRecords !== undefined,
      globalStores: config.globalStores,
      lateRecords: config.lateRecords,
      eventTime: config.eventTime === undefined ? undefined : { config: config.eventTime, upstreamTasks: upstreamTasksOf(topology, subtopologyId, partitionsFor) },
    });
    return task;
  }

  /**
   * Brings every logged store up to the end of its changelog (a store restored from its table's input, up
   * to the offset the task starts processing at: see TaskStateManager.restore); returns the records restored.
   */
  async restore(reader: ChangelogReader, listener: StateRestoreListener | undefined): Promise<number> {
    this.state = 'restoring';
    return this.stateManager.restore(this.stream.stores.values(), reader, (topic) => this.committed.get(topic, this.partition), listener);
  }

  /** Creates the processors; after restoration, before the first record. */
  start(): void {
    this.stream.init();
    this.state = 'running';
  }

  /** Records behind the end of each input partition, as of the last fetch. */
  readonly recordsLag = new TopicPartitionMap<bigint>();

  markConsumed(topic: string, partition: number, nextOffset: bigint): void {
    const current = this.consumed.get(topic, partition);
    if (current === undefined || nextOffset > current) this.consumed.set(topic, partition, nextOffset);
  }

  /** True when there is something to commit: consumed input or dirty stores. */
  get hasUncommitted(): boolean {
    for (const { topic, partition, value } of this.consumed) if (this.committed.get(topic, partition) !== value) return true;
    // Event-time mode: a stream time moved by idle advance or markers alone is published at a commit too.
    return this.stream.hasProgressToPublish;
  }

  needsFlush(): boolean {
    for (const store of this.stream.stores.values()) if (store.needsFlush()) return true;
    return false;
  }

  /** True when the task sent output or changelog records since its last commit took its snapshot. */
  get wroteSinceCommit(): boolean {
    return this.pipeline.enqueuedTotal !== this.enqueuedAtCommit;
  }

  /** When the last commit took its snapshot (or the task was created). */
  get lastCommitAt(): number {
    return this.lastCommitTime;
  }

  /** Records behind the end of the task's input partitions, as of the last fetch (see FlushDeferral). */
  recordsBehind(): number {
    let behind = 0;
    for (const { value } of this.recordsLag) behind += Number(value);
    return behind;
  }

  /** Exactly-once only: the task's transactional producer. */
  get transactions(): TaskTransactions | undefined {
    return this.transactional;
  }

  /** The producer behind the task's pipeline, given once when the task is created; the task closes it. */
  ownProducer(owner: { transactions: TaskTransactions } | { producer: Producer; pipeline: ProducerPipeline }): void {
    if ('transactions' in owner) this.transactional = owner.transactions;
    else this.producer = owner;
  }

  /**
   * The synchronous half of a commit: flushes the stores (changelog records go to the task's pipeline now)
   * and records the offsets consumed so far. Everything processed after this call belongs to the next commit.
   */
  prepareCommit(handover: boolean): CommitSnapshot {
    const local = StoreCommit.flush(this.stream, (store) => {
      const input = store.definition.sourceChangelogTopic;
      if (input === undefined) return undefined;
      return this.consumed.get(input, this.partition) ?? this.committed.get(input, this.partition);
    });
    // After everything the flush forwarded: a marker covers every record the task wrote before it.
    this.stream.publishProgress();
    const metadata: CommitMetadata = {
      st: Number.isFinite(this.stream.streamTime) ? this.stream.streamTime : undefined,
      t: this.token,
      ...(handover ? { h: true } : {}),
    };
    const text = JSON.stringify(metadata);
    const offsets = [...this.consumed].map(({ topic, partition, value }) => ({ topic, partition, offset: value.toString(), metadata: text }));
    if (handover && offsets.length === 0) {
      // Nothing consumed yet, but the next owner waits for our handover mark: commit where we started.
      for (const { topic, partition, value } of this.committed) offsets.push({ topic, partition, offset: value.toString(), metadata: text });
    }
    this.enqueuedAtCommit = this.pipeline.enqueuedTotal;
    this.lastCommitTime = Date.now();
    return { offsets, local };
  }

  /**
   * A full cache's relief between commits (at-least-once; see StoreCommit.evict): a snapshot without
   * offsets, completed like a commit's. Its records count as committed output for the deferral: they are
   * acknowledged and written before the next commit (the committer runs one after the other).
   */
  prepareEviction(): CommitSnapshot {
    const local = StoreCommit.evict(this.stream);
    this.enqueuedAtCommit = this.pipeline.enqueuedTotal;
    return { offsets: [], local };
  }

  /**
   * The second half, once the task's pipeline acknowledged everything of the snapshot (or its transaction
   * committed): LevelDB gets the data and the changelog position in one batch each, then the checkpoint file
   * is rewritten.
   */
  async completeCommit(snapshot: CommitSnapshot): Promise<void> {
    // A task closed meanwhile (suspended in a broker outage while its commit finished) writes nothing: its
    // stores are closed. The changelog holds what was committed, and the next task of this id restores it.
    if (this.state === 'closed') return;
    const write = this.writeLocal(snapshot);
    this.localWrite = write;
    try {
      await write;
    } finally {
      if (this.localWrite === write) this.localWrite = undefined;
    }
  }

  private async writeLocal(snapshot: CommitSnapshot): Promise<void> {
    await snapshot.local.write((changelogTopic) => this.pipeline.lastOffset(changelogTopic, this.partition));
    await this.stateManager.writeCheckpoint(this.stream.stores.values());
  }

  /** Marks the snapshot's offsets as committed (after the group accepted them, or with the transaction). */
  markCommitted(snapshot: CommitSnapshot): void {
    for (const o of snapshot.offsets) this.committed.set(o.topic, o.partition, BigInt(o.offset));
  }

  /** True when the task knows an offset to commit for the partition (consumed, or committed before). */
  hasPosition(topic: string, partition: number): boolean {
    return this.consumed.has(topic, partition) || this.committed.has(topic, partition);
  }

  /**
   * The offset of the next record this task expects from a partition: what it consumed, else where it
   * started. Records below it were processed already (kafkajs rewinds every partition to the group's
   * committed offset after a rebalance, even a partition that stays); processing them again would count
   * them twice, inside one transaction under exactly-once.
   */
  nextOffset(topic: string, partition: number): bigint | undefined {
    return this.consumed.get(topic, partition) ?? this.committed.get(topic, partition);
  }

  /** Where this task starts reading, as committed before it was assigned here. */
  setCommitted(topic: string, partition: number, offset: bigint): void {
    this.committed.set(topic, partition, offset);
  }

  /** Drops changes since the last commit (they were never logged) and closes processors and stores. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    await this.transactions?.close();
    await this.producer?.producer.disconnect().catch(() => {});
    if (this.stream === undefined) return;
    // A commit's local write in progress finishes first: LevelDB refuses a batch on a closing database,
    // and that refusal would fail the thread (seen when an outage suspended a task mid-commit).
    await this.localWrite?.catch(() => {});
    this.stream.close();
    for (const store of this.stream.stores.values()) {
      store.discardChanges();
      await store.bytes.close();
    }
  }
}
