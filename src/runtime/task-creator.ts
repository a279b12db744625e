import type { Admin } from '../client/admin.js';
import type { KafkaClient } from '../client/kafka-client.js';
import type { Producer } from '../client/producer.js';
import { TopicPartitionMap } from '../client/topic-partition.js';
import type { ThreadConfig } from './thread-config.js';
import { batchBytesOf } from './topic-write-limits.js';
import { StreamsRuntimeError } from '../errors/errors.js';
import { parseTaskId, type TaskId } from '../processor/task-id.js';
import type { Topology } from '../processor/topology.js';
import { ActiveTask, type CommitMetadata } from './active-task.js';
import type { ChangelogReader } from './changelog-reader.js';
import { describeGroupMembers } from './group-members.js';
import type { TopologyMetadata } from './internal-topic-manager.js';
import { logStartOffset } from './log-start-offset.js';
import { ProducerPipeline } from './producer-pipeline.js';
import type { RestoreProgress } from './restore-progress.js';
import type { StateRestoreListener } from './state-restore-listener.js';
import { TaskTransactions } from './task-transactions.js';

/** Thrown from the restore listener to stop a restoration when the thread stops (between two batches). */
class RestoreCancelled extends StreamsRuntimeError {}

/** What the creator asks of the thread it creates tasks for. */
export interface TaskCreatorHost {
  /** True once the thread closes or failed: from then on nothing is created and no file written. */
  stopped(): boolean;
  /** This member's id in the group, to tell the previous owners of a task from itself. */
  memberId(): string | undefined;
  /** Ids of the tasks that run here now (their stores share the cache budget with the new ones). */
  runningTaskIds(): Iterable<TaskId>;
  /** Moves the consumer's fetch position of an input partition to where the task starts. */
  seek(topic: string, partition: number, offset: bigint): void;
  restoreListener(): StateRestoreListener | undefined;
  /** Changelog records restored, for metrics. */
  restored(records: number): void;
}

/** One round of creations: the generation they belong to and when to give up. */
export interface TaskCreation {
  readonly generation: number;
  /** True once the assignment moved on, the thread stopped or the member lost its membership. */
  abandoned(): boolean;
  /** Asked when a task is restored: is it still ours to run? */
  wanted(taskId: TaskId): boolean;
  /** A task that is restored and started: the caller runs it from here. */
  started(task: ActiveTask): void;
}

/**
 * Creates active tasks, as Kafka Streams' ActiveTaskCreator does: for each, its producer (under exactly-once
 * a transactional one, which fences the previous owner), its start offsets and stream time from the group's
 * last commit, its stores, restored from their changelogs. Under at-least-once it first waits for the
 * previous owner's handover mark (see StreamThread).
 */
export class TaskCreator {
  private readonly eos: boolean;

  constructor(
    private readonly client: KafkaClient,
    private readonly admin: () => Admin,
    private readonly topology: Topology,
    private readonly config: ThreadConfig,
    private readonly metadata: TopologyMetadata,
    private readonly reader: ChangelogReader,
    private readonly restoreProgress: RestoreProgress,
    private readonly host: TaskCreatorHost,
  ) {
    this.eos = config.processingGuarantee === 'exactly_once_v2';
  }

  /**
   * Opens, restores and starts tasks side by side. Each creation checks after every step whether the thread
   * stopped (close or a fatal error) or the assignment moved on, and closes what it opened; the call returns
   * only when every creation has settled, so nothing keeps writing files after the caller gave up.
   */
  async create(taskIds: TaskId[], creation: TaskCreation): Promise<void> {
    if (this.host.stopped()) return;
    // Under exactly-once, fencing replaces the wait for a handover (below): no need to know the owners.
    const owners = this.eos ? new Map<string, string>() : await this.previousOwners();
    const topics = [...new Set(this.topology.subtopologies.flatMap((s) => s.sourceTopics))];
    const budget = Math.floor(this.config.cacheMaxBytes / Math.max(1, this.countStores(taskIds)));
    const results = await Promise.allSettled(taskIds.map((id) => this.createOne(id, owners.get(id), topics, budget, creation)));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
  }

  private async createOne(id: TaskId, token: string | undefined, topics: string[], budget: number, creation: TaskCreation): Promise<void> {
    const { abandoned } = creation;
    const { subtopology: sub, partition } = parseTaskId(id);
    const subtopology = this.topology.subtopologies[sub]!;
    // Under exactly-once the fencing below makes waiting unnecessary: a previous owner still writing is
    // fenced, its open transaction aborted, and it drops the task.
    if (token !== undefined && !this.eos) await this.waitForHandover(id, token, subtopology.sourceTopics[0]!, partition, abandoned);
    if (abandoned()) return;
    // Under exactly-once the task's producer starts first: it fences a previous owner and completes its
    // last transaction (commit or abort), so the offsets read below and the changelog restored below are
    // final: nobody else writes them any more.
    let transactions: TaskTransactions | undefined;
    let producer: { producer: Producer; pipeline: ProducerPipeline } | undefined;
    let task: ActiveTask | undefined;
    try {
      if (this.eos) {
        transactions = new TaskTransactions(this.client, `${this.config.applicationId}-${id}`, this.config.applicationId, batchBytesOf(this.config.writeLimits));
        await transactions.start();
        if (abandoned()) return;
      }
      const committed = await this.committedOffsets(topics, partition);
      // Where the group has committed nothing, the task starts at the log start (subscribed fromBeginning).
      const starts = new Map<string, bigint>();
      for (const topic of subtopology.sourceTopics) {
        const c = committed.get(topic, partition);
        starts.set(topic, c !== undefined && c.offset >= 0n ? c.offset : await logStartOffset(this.admin(), topic, partition));
      }
      let streamTime = Number.NEGATIVE_INFINITY;
      for (const topic of subtopology.sourceTopics) {
        const st = committed.get(topic, partition)?.metadata.st;
        if (st !== undefined && st > streamTime) streamTime = st;
      }
      // Under at-least-once too, each task has its own idempotent producer: the client allows an idempotent
      // producer one request in flight, so one producer per instance would serialize all its output.
      // Per-key order holds: all records of a key come from one task.
      if (transactions === undefined) producer = await this.taskProducer();
      if (abandoned()) return;
      task = await ActiveTask.open(
        this.topology,
        sub,
        partition,
        this.config,
        this.config.logger,
        transactions?.pipeline ?? producer!.pipeline,
        (topic) => this.metadata.partitionsByTopic.get(topic),
        budget,
        streamTime,
      );
      task.ownProducer(transactions !== undefined ? { transactions } : producer!);
      if (abandoned()) return;
      for (const [topic, start] of starts) {
        task.setCommitted(topic, partition, start);
        // The consumer's position is not the task's: it was resolved when the group assigned the partition
        // (possibly before the previous owner's last commit), or it is where an earlier incarnation of the
        // task in this member stopped (its transaction aborted). Start exactly where the restored state ends.
        this.host.seek(topic, partition, start);
      }
      this.host.restored(await task.restore(this.reader, this.cancellable(this.restoreProgress.listener(this.host.restoreListener()))));
      if (abandoned() || !creation.wanted(id)) return;
      task.start();
      this.config.logger.info(`task ${id} is running (generation ${creation.generation})`);
      creation.started(task);
      task = undefined;
      transactions = undefined;
      producer = undefined;
    } catch (err) {
      if (err instanceof RestoreCancelled) return;
      throw err;
    } finally {
      // Whatever was opened and did not become a running task is closed before this creation settles.
      if (task !== undefined) await task.close();
      else {
        await transactions?.close();
        await producer?.producer.disconnect().catch(() => {});
      }
    }
  }

  /** Committed offsets (with metadata) of the application's group for the given topics. */
  /** The group's committed offsets of one partition of these topics (the task's), stable (KIP-447). */
  private async committedOffsets(topics: string[], partition: number): Promise<TopicPartitionMap<{ offset: bigint; metadata: CommitMetadata }>> {
    const result = new TopicPartitionMap<{ offset: bigint; metadata: CommitMetadata }>();
    const fetched = await this.admin().fetchCommittedOffsets({ groupId: this.config.applicationId, topics, partition, requireStable: true });
    for (const t of fetched) {
      for (const p of t.partitions) {
        let metadata: CommitMetadata;
        try {
          metadata = p.metadata ? (JSON.parse(p.metadata) as CommitMetadata) : {};
        } catch {
          metadata = {};
        }
        result.set(t.topic, p.partition, { offset: BigInt(p.offset), metadata });
      }
    }
    return result;
  }

  /** Tokens of tasks that other live members of the group still report as theirs. */
  private async previousOwners(): Promise<Map<string, string>> {
    const owners = new Map<string, string>();
    const self = this.host.memberId();
    for (const member of await describeGroupMembers(this.admin(), this.config.applicationId, this.topology)) {
      if (member.memberId === self) continue;
      for (const [task, token] of Object.entries(member.subscription.active)) owners.set(task, token);
    }
    return owners;
  }

  /** Waits (bounded) for the previous owner's handover commit: its mark carries the owner's token. */
  private async waitForHandover(taskId: TaskId, token: string, firstTopic: string, partition: number, abandoned: () => boolean): Promise<void> {
    const deadline = Date.now() + this.config.handoverTimeoutMs;
    while (Date.now() < deadline && !abandoned()) {
      const committed = await this.committedOffsets([firstTopic], partition);
      const mark = committed.get(firstTopic, partition)?.metadata;
      if (mark?.t === token && mark.h === true) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!abandoned()) {
      this.config.logger.warn(`task ${taskId}: no handover from its previous owner within ${this.config.handoverTimeoutMs} ms; taking it over`);
    }
  }

  /** A restore listener that stops a restoration between two batches once the thread stops. */
  private cancellable(listener: StateRestoreListener): StateRestoreListener {
    return {
      onRestoreStart: (p, start, end) => listener.onRestoreStart?.(p, start, end),
      onBatchRestored: (p, next, count) => {
        listener.onBatchRestored?.(p, next, count);
        if (this.host.stopped()) throw new RestoreCancelled(`restoration of ${p.taskId} stopped: the instance is closing`);
      },
      onRestoreEnd: (p, total) => listener.onRestoreEnd?.(p, total),
    };
  }

  private async taskProducer(): Promise<{ producer: Producer; pipeline: ProducerPipeline }> {
    const producer = this.client.producer();
    await producer.connect();
    return { producer, pipeline: new ProducerPipeline(producer, undefined, undefined, batchBytesOf(this.config.writeLimits)) };
  }

  private countStores(taskIds: TaskId[]): number {
    let n = 0;
    for (const id of [...taskIds, ...this.host.runningTaskIds()]) n += this.topology.subtopologies[parseTaskId(id).subtopology]!.stores.length;
    return n;
  }
}
