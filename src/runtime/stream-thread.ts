import type { Admin } from '../client/admin.js';
import type { EmptyFetch, FetchedBatch, FetchedRecord } from '../client/fetched-batch.js';
import type { GroupConsumer } from '../client/group-consumer.js';
import type { KafkaClient } from '../client/kafka-client.js';
import type { PartitionsByTopic } from '../client/topic-partitions.js';
import { addRecordCounts, emptyRecordCounts, type RecordCounts } from './record-counts.js';
import type { ResolvedStreamsConfig } from '../config/streams-config.js';
import type { Headers } from '../processor/record.js';
import type { Topology } from '../processor/topology.js';
import { DeserializationError, ProcessingError, StreamsRuntimeError } from '../errors/errors.js';
import type { ActiveTask, CommitSnapshot } from './active-task.js';
import { PartitionGroup } from './partition-group.js';
import { RecordQueue, type PreparedRecord } from './record-queue.js';
import type { PreparedInput } from './stream-task.js';
import { TaskScheduler } from './task-scheduler.js';
import { WriteOrderGate } from './write-order-gate.js';
import { ChangelogReader } from './changelog-reader.js';
import type { TopologyMetadata } from './internal-topic-manager.js';
import { describeGroup, describeGroupMembers, statefulTaskIds } from './group-members.js';
import { localTaskOffsets } from './local-state.js';
import { RecordErrorPolicy } from './record-error-policy.js';
import { RestoreProgress } from './restore-progress.js';
import { RepartitionPurger } from './repartition-purger.js';
import type { StateRestoreListener } from './state-restore-listener.js';
import { ASSIGNOR_NAME, computeStandbys, taskAssignor, topologySummary, type SubscriptionInfo } from './task-assignor.js';
import { BrokerOutage } from './broker-outage.js';
import { isBrokerUnavailable } from '../client/broker-unavailable.js';
import { StandbyManager } from './standby-manager.js';
import { formatTaskId } from './task-id.js';
import { TaskFencedError } from './task-transactions.js';
import { TaskCreator } from './task-creator.js';
import { logStartOffset } from './log-start-offset.js';
import { placeBatch, skippedBatchContinues } from './input-position.js';

/** Answers to a commit that mean the group is rebalancing, not that anything is wrong. */
const REBALANCE_ERRORS = new Set(['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS']);

function isRebalanceError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (REBALANCE_ERRORS.has((e as { type?: string }).type ?? '')) return true;
  }
  return false;
}

/** Failed transactions of one task in a row before the failure is taken as fatal. */
const MAX_TRANSACTION_RETRIES = 5;

export interface StreamThreadHooks {
  /** A fatal error: the thread has stopped processing. */
  onError(error: Error): void;
  /** The group is rebalancing (true) or every assigned task runs (false). */
  onRebalancing(rebalancing: boolean): void;
  restoreListener(): StateRestoreListener | undefined;
}

function toHeaders(headers: FetchedRecord['headers']): Headers {
  if (headers === undefined) return {};
  const out: Headers = {};
  for (const [key, value] of Object.entries(headers)) out[key] = Array.isArray(value) ? value[0] : value;
  return out;
}

/** A buffered record, deserialized and timestamped when it became the head of its queue. */
interface QueuedRecord extends PreparedRecord {
  readonly input: PreparedInput;
  readonly raw: FetchedRecord;
}

/** A task the processing loop runs: its input queues and the choice among them. */
interface RunningTask {
  readonly task: ActiveTask;
  readonly group: PartitionGroup<QueuedRecord>;
}

/** Totals an instance reports through metrics. */
export interface ThreadCounters {
  commits: number;
  commitLatencyTotalMs: number;
  restoredRecords: number;
}


const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The processing loop of an instance: one kafkajs consumer in the application's group (with our task
 * assignor), one producer pipeline, and the active tasks of the current assignment.
 *
 * Rebalances: kafkajs rejoins the group by itself and gives no callback before partitions move, so a
 * handover is made safe in the protocol instead. An owner that loses a task flushes and commits it with a
 * handover mark; the new owner, which sees the previous owner's token in the group's member metadata, waits
 * for that mark before it restores, so it never restores a changelog the previous owner is still writing.
 */
export class StreamThread {
  private consumer: GroupConsumer | undefined;
  private admin: Admin | undefined;
  private readonly reader: ChangelogReader;
  private readonly creator: TaskCreator;
  private readonly tasks = new Map<string, ActiveTask>();
  private readonly byPartition = new Map<string, ActiveTask>();
  private assignedTaskIds = new Set<string>();
  private reconciling: Promise<void> = Promise.resolve();
  private generation = 0;
  private commitChain: Promise<void> = Promise.resolve();
  private commitTimer: NodeJS.Timeout | undefined;
  private rebalancing = true;
  private closing = false;
  private failed = false;
  private memberId: string | undefined;
  private readonly eos: boolean;
  /** Tasks the loop processes, by id, with their input queues (also by `topic:partition`). */
  private readonly running = new Map<string, RunningTask>();
  private readonly queues = new Map<string, RecordQueue<QueuedRecord>>();
  /** Partitions paused because their queue is full (resumed by the loop once it is below the bound). */
  private readonly fullPartitions = new Set<string>();
  private readonly scheduler = new TaskScheduler<RunningTask>((r) => r.task.subtopologyId);
  /** The processing loop, from start until the thread stops. */
  private loop: Promise<void> | undefined;
  /** Ends the loop's wait for work. */
  private wakeUp: (() => void) | undefined;
  /** Keeps what tasks write to repartition topics close to event-time order; undefined when turned off. */
  private readonly gate: WriteOrderGate<ActiveTask> | undefined;
  /** Per sub-topology: true when it writes a repartition topic (its tasks pass the gate). */
  private readonly gated: boolean[];
  /** Per sub-topology, during a round: the largest timestamp its tasks may process (see WriteOrderGate). */
  private readonly limits: number[];
  /** A commit started because a cache is full; one at a time. */
  private flushing: Promise<void> | undefined;
  private readonly purger: RepartitionPurger;
  readonly restoreProgress: RestoreProgress;
  readonly standbys: StandbyManager | undefined;
  /** Records and requests sent by the producers of tasks this thread no longer runs (metrics never go back). */
  private readonly retiredProducerStats = { records: 0, batches: 0 };
  /** Consecutive failed transactions per task. */
  private readonly transactionFailures = new Map<string, number>();
  readonly counters: ThreadCounters = { commits: 0, commitLatencyTotalMs: 0, restoredRecords: 0 };
  /** Record counts of tasks this thread no longer runs (handed over, recovered, suspended, closed). */
  readonly retiredTaskCounters: RecordCounts = emptyRecordCounts();
  private readonly retired = new WeakSet<ActiveTask>();
  private readonly outage: BrokerOutage;
  /** The suspend-wait-resume cycle of a broker outage in progress. */
  private recovery: Promise<void> | undefined;
  /** The consumer crashed without restarting itself (kafkajs gives up on some errors): restart it after an outage. */
  private consumerDown = false;
  /**
   * The consumer crashed: kafkajs dropped its group membership (a restarted consumer joins as a new member),
   * so the last assignment no longer gives us anything. No task is (re)created until the next join.
   */
  private membershipLost = false;
  /** What the group compares to refuse members with another topology. */
  private readonly topologyLines: string[];
  readonly deserializationErrors: RecordErrorPolicy;
  readonly processingErrors: RecordErrorPolicy;

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
    this.creator = new TaskCreator(client, () => this.admin!, topology, config, metadata, this.reader, this.restoreProgress, {
      stopped: () => this.stopped,
      memberId: () => this.memberId,
      runningTaskIds: () => this.tasks.keys(),
      seek: (topic, partition, offset) => this.consumerOp((consumer) => consumer.seek(topic, partition, offset.toString())),
      restoreListener: () => this.hooks.restoreListener(),
      restored: (records) => {
        this.counters.restoredRecords += records;
      },
    });
    this.outage = new BrokerOutage(config.brokerUnavailableTimeoutMs, config.logger);
    this.topologyLines = topologySummary(topology);
    this.standbys = config.numStandbyReplicas > 0 ? new StandbyManager(topology, config, this.reader) : undefined;
    this.deserializationErrors = new RecordErrorPolicy(config.deserializationExceptionHandler, 'deserialization', config.logger);
    this.processingErrors = new RecordErrorPolicy(config.processingExceptionHandler, 'processing', config.logger);
    const repartitions = new Set(topology.internalTopics.filter((t) => t.kind === 'repartition').map((t) => t.name));
    this.gated = topology.subtopologies.map((s) => s.nodes.some((n) => n.kind === 'sink' && typeof n.topic !== 'function' && n.topic.internal));
    this.limits = this.gated.map(() => Number.POSITIVE_INFINITY);
    this.gate = config.maxRepartitionSkewMs >= 0 ? new WriteOrderGate(config.maxRepartitionSkewMs, (t) => t.pipeline) : undefined;
    this.purger = new RepartitionPurger(() => this.admin, repartitions, config.repartitionPurgeIntervalMs, config.logger);
  }

  get activeTasks(): ReadonlyMap<string, ActiveTask> {
    return this.tasks;
  }

  get producerStats(): { records: number; batches: number } {
    const total = { ...this.retiredProducerStats };
    for (const task of this.tasks.values()) {
      total.records += task.pipeline.stats.records;
      total.batches += task.pipeline.stats.batches;
    }
    return total;
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
        retry: config.kafka.retry,
        // The consumer restarts itself after retriable errors (a broker away); never once we stop.
        restartOnFailure: () => !this.stopped,
      },
      {
        onRebalancing: () => {
          this.rebalancing = true;
          this.hooks.onRebalancing(true);
        },
        onJoin: (memberId, assignment) => this.onJoin(memberId, assignment),
        onBatch: (batch, resolveOffset, isStale) => this.onBatch(batch, resolveOffset, isStale),
        onEmptyFetch: (fetch) => this.onEmptyFetch(fetch),
        onCrash: (error, restarting) => this.onCrash(error, restarting),
      },
    );
    this.consumer = consumer;
    await consumer.connect();
    const topics = [...new Set(this.topology.subtopologies.flatMap((s) => s.sourceTopics))];
    await consumer.subscribe(topics);
    await consumer.run();
    this.loop = this.runLoop().catch((err: unknown) => this.fail(err as Error));
    this.standbys?.start();
    this.commitTimer = setInterval(() => {
      void this.commitAll(false).catch((err: unknown) => this.handleError(err as Error));
    }, config.commitIntervalMs);
    this.commitTimer.unref();
  }

  private onJoin(memberId: string, assignment: PartitionsByTopic): void {
    // A consumer that rejoins after close (a restart the consumer began before) must not take tasks.
    if (this.stopped) {
      void this.consumer?.disconnect().catch(() => {});
      return;
    }
    this.membershipLost = false;
    this.onAssignment(memberId, assignment);
  }

  /** A fetch with no visible record: only transaction markers or aborted records were there (or nothing). */
  private onEmptyFetch(fetch: EmptyFetch): void {
    // No record at or past the fetch position came back: lastOffset is then a guess (the high watermark,
    // beyond the stable offset under read_committed), never a position to commit.
    if (fetch.firstOffset === null) return;
    // Queued behind the records fetched before it: the position passes it once they are processed. Only a
    // fetch that continues what the queue has fetched moves it (see input-position.ts).
    const key = `${fetch.topic}:${fetch.partition}`;
    const queue = this.queues.get(key);
    if (queue === undefined || this.stopped) return;
    const expected = queue.fetchPosition;
    if (expected === undefined || !skippedBatchContinues(expected, BigInt(fetch.firstOffset))) return;
    if (queue.add([], BigInt(fetch.lastOffset) + 1n, BigInt(fetch.highWatermark))) this.markPosition(key, queue);
  }

  private onCrash(error: Error, restarting: boolean): void {
    if (this.stopped) return;
    // The consumer has disconnected; it rejoins by itself when restarting, else we restart it after an outage.
    this.rebalancing = true;
    this.hooks.onRebalancing(true);
    this.membershipLost = true;
    if (!restarting) this.consumerDown = true;
    if (restarting && !isBrokerUnavailable(error)) return;
    this.handleError(new StreamsRuntimeError(`The consumer crashed: ${error.message}`, { cause: error }));
  }

  private subscriptionInfo(): SubscriptionInfo {
    const active: Record<string, string> = {};
    for (const task of this.tasks.values()) active[task.id] = task.token;
    const state = localTaskOffsets(this.config.stateDir, this.config.applicationId, new Set(this.tasks.keys()));
    return { active, server: this.config.applicationServer, state, topology: this.topologyLines };
  }

  /** As the group's leader: members with another topology get no task; if that is us, we leave. */
  private onRefused(refused: ReadonlyMap<string, string>, self: string | undefined): void {
    for (const reason of refused.values()) this.config.logger.error(`topology mismatch: ${reason}`);
    if (self !== undefined) setImmediate(() => this.fail(new StreamsRuntimeError(self)));
  }

  /** A member given no task looks up why: the leader may have refused its topology. */
  private async checkRefused(): Promise<void> {
    const me = (await describeGroupMembers(this.admin!, this.config.applicationId, this.topology)).find((m) => m.memberId === this.memberId);
    if (me?.refused !== undefined && !this.stopped) this.fail(new StreamsRuntimeError(`This instance (client ${this.config.clientId}): ${me.refused}`));
  }

  /** Synchronous part of a new assignment: pause what is not ready, then reconcile in order. */
  private onAssignment(memberId: string, assignment: Record<string, number[]>): void {
    if (this.stopped) return;
    this.memberId = memberId;
    const generation = ++this.generation;
    const taskIds = new Set<string>();
    for (const [topic, partitions] of Object.entries(assignment)) {
      const sub = this.topology.subtopologyOfTopic(topic);
      if (sub === undefined) continue;
      for (const p of partitions) taskIds.add(formatTaskId({ subtopology: sub.id, partition: p }));
    }
    this.assignedTaskIds = taskIds;
    // New tasks must not process before they are restored: pause their partitions before kafkajs fetches.
    const paused: Array<{ topic: string; partitions: number[] }> = [];
    for (const [topic, partitions] of Object.entries(assignment)) {
      const waiting = partitions.filter((p) => this.byPartition.get(`${topic}:${p}`)?.state !== 'running');
      if (waiting.length > 0) paused.push({ topic, partitions: waiting });
    }
    if (paused.length > 0) this.consumerOp((c) => c.pause(paused));
    // Tasks that stay keep their position: kafkajs would restart them from the last commit. Their queues
    // start again there too (what they held is fetched again), so nothing fetched before the rebalance is
    // processed after it out of order with what kafkajs delivers next.
    // A task that leaves stops processing now: what it processed is what its handover commit says.
    const unpaused: Array<{ topic: string; partitions: number[] }> = [];
    for (const task of this.tasks.values()) {
      if (!taskIds.has(task.id)) {
        this.running.delete(task.id);
        continue;
      }
      for (const { topic, partition } of task.inputPartitions) {
        const next = task.nextOffset(topic, partition);
        if (this.fullPartitions.delete(`${topic}:${partition}`)) unpaused.push({ topic, partitions: [partition] });
        if (next !== undefined) this.consumerOp((c) => c.seek(topic, partition, next.toString()));
      }
      if (task.state === 'running') this.addRunning(task);
    }
    if (unpaused.length > 0) this.consumerOp((c) => c.resume(unpaused));
    this.reconciling = this.reconciling
      .then(() => this.reconcile(generation, taskIds))
      .catch((err: unknown) => this.handleError(err as Error));
  }

  /** True once the thread closes or failed: from then on it creates no task and writes no file. */
  private get stopped(): boolean {
    return this.closing || this.failed;
  }

  /**
   * pause/resume/seek on the consumer. kafkajs throws while it re-creates a crashed consumer's group state;
   * nothing is lost then: the rejoin that follows pauses, seeks and resumes every partition again.
   */
  private consumerOp(op: (consumer: GroupConsumer) => void): void {
    if (this.consumer === undefined) return;
    try {
      op(this.consumer);
    } catch (err) {
      this.config.logger.debug(`consumer not ready (${(err as Error).message}); the next join repeats this`);
    }
  }

  private async reconcile(generation: number, assigned: Set<string>): Promise<void> {
    if (this.stopped) return;
    if (assigned.size === 0) await this.checkRefused();
    if (this.stopped) return;
    this.config.logger.info(`assignment of generation ${generation}: ${[...assigned].sort().join(', ') || 'no tasks'}`);
    const revoked = [...this.tasks.values()].filter((t) => !assigned.has(t.id));
    if (revoked.length > 0) {
      await this.ensurePositions(revoked);
      await this.commitTasks(revoked, true).catch((err: unknown) =>
        this.config.logger.warn(`handover commit of ${revoked.map((t) => t.id).join(', ')} failed: ${(err as Error).message}`),
      );
      for (const task of revoked) {
        this.removeTask(task);
        await task.close();
      }
      if (this.stopped) return;
      this.config.logger.info(`handed over tasks ${revoked.map((t) => t.id).join(', ')}`);
    }
    const fresh = [...assigned].filter((id) => !this.tasks.has(id)).sort();
    // A replica kept here becomes the task's stores: close it first, the active task restores only the rest.
    if (fresh.length > 0) await this.standbys?.release(fresh);
    if (fresh.length > 0) await this.createTasks(generation, fresh);
    if (generation !== this.generation || this.stopped) return;
    const resume: Array<{ topic: string; partitions: number[] }> = [];
    for (const task of this.tasks.values()) {
      for (const { topic, partition } of task.inputPartitions) {
        if (!this.fullPartitions.has(`${topic}:${partition}`)) resume.push({ topic, partitions: [partition] });
      }
    }
    if (resume.length > 0) this.consumerOp((c) => c.resume(resume));
    this.rebalancing = false;
    this.hooks.onRebalancing(false);
    if (this.standbys !== undefined) {
      await this.assignStandbys(generation, assigned).catch((err: unknown) =>
        this.config.logger.warn(`standby replicas not updated (next rebalance retries): ${(err as Error).message}`),
      );
    }
  }

  /**
   * Standby replicas for this member, computed from the group's description as every member computes them
   * (see computeStandbys): the leader's assignment carries only active tasks, since kafkajs hands members
   * the partitions of their assignment and nothing else.
   */
  private async assignStandbys(generation: number, active: ReadonlySet<string>): Promise<void> {
    const described = await describeGroupMembers(this.admin!, this.config.applicationId, this.topology);
    if (generation !== this.generation || this.stopped) return;
    const members = described.filter((m) => m.assigned).map((m) => ({ memberId: m.memberId, active: m.activeTasks, state: m.subscription.state ?? {} }));
    const stateful = statefulTaskIds(this.topology, this.metadata.partitionsBySubtopology);
    const mine = computeStandbys(members, stateful, this.config.numStandbyReplicas).get(this.memberId ?? '') ?? [];
    await this.standbys!.assign(new Set(mine.filter((t) => !active.has(t))));
  }

  /**
   * A handover is a commit, and a commit needs an offset: for input partitions a task never consumed and
   * the group never committed, that is the log's start (where the next owner would begin anyway).
   */
  private async ensurePositions(tasks: ActiveTask[]): Promise<void> {
    const unknown = tasks.flatMap((t) => t.inputPartitions.filter((p) => !t.hasPosition(p.topic, p.partition)).map((p) => ({ task: t, ...p })));
    for (const topic of new Set(unknown.map((u) => u.topic))) {
      const offsets = await this.admin!.fetchTopicOffsets(topic);
      for (const u of unknown.filter((x) => x.topic === topic)) {
        const low = offsets.find((o) => o.partition === u.partition)?.low;
        if (low !== undefined) u.task.setCommitted(topic, u.partition, BigInt(low));
      }
    }
  }

  /** Forgets a task (only this instance of it: a re-created task of the same id stays) and keeps its counters. */
  private removeTask(task: ActiveTask): void {
    if (this.tasks.get(task.id) === task) this.tasks.delete(task.id);
    if (this.running.get(task.id)?.task === task) this.running.delete(task.id);
    this.gate?.remove(task);
    for (const { topic, partition } of task.inputPartitions) {
      const key = `${topic}:${partition}`;
      if (this.byPartition.get(key) === task) {
        this.byPartition.delete(key);
        this.queues.delete(key);
        this.fullPartitions.delete(key);
      }
    }
    this.retireCounters(task);
  }

  private retireCounters(task: ActiveTask): void {
    if (this.retired.has(task) || task.state === 'created' || task.state === 'restoring') return;
    this.retired.add(task);
    addRecordCounts(this.retiredTaskCounters, task.streamTask.counters);
    const sent = task.pipeline.stats;
    this.retiredProducerStats.records += sent.records;
    this.retiredProducerStats.batches += sent.batches;
  }

  /** Creates the tasks (see TaskCreator) and runs those that are still assigned here once restored. */
  private async createTasks(generation: number, taskIds: string[]): Promise<void> {
    if (this.stopped) return;
    await this.creator.create(taskIds, {
      generation,
      abandoned: () => generation !== this.generation || this.stopped || this.membershipLost,
      wanted: (id) => this.assignedTaskIds.has(id) && !this.tasks.has(id),
      started: (task) => {
        this.tasks.set(task.id, task);
        for (const { topic, partition } of task.inputPartitions) this.byPartition.set(`${topic}:${partition}`, task);
        this.addRunning(task);
      },
    });
  }

  /** Gives a task that starts running its input queues; the loop takes it from here. */
  private addRunning(task: ActiveTask): void {
    const stream = task.streamTask;
    const queues = task.inputPartitions.map(({ topic, partition }) => {
      const queue = new RecordQueue<QueuedRecord>(topic, partition, (raw) => {
        const headers = toHeaders(raw.headers);
        const input = stream.prepare(topic, partition, raw.offset, raw.key, raw.value, Number(raw.timestamp), headers);
        return input === undefined ? undefined : { timestamp: input.timestamp, input, raw };
      });
      queue.reset(task.nextOffset(topic, partition));
      this.queues.set(`${topic}:${partition}`, queue);
      return queue;
    });
    this.running.set(task.id, { task, group: new PartitionGroup(queues, this.config.maxTaskIdleMs) });
    this.wake();
  }

  /**
   * kafkajs' fetch loop hands each fetched batch here and waits for the call to return before it fetches
   * again; so this only queues the records and returns. A queue that is full pauses its partition.
   * kafkajs' resolved offset is nothing but its next fetch position (autoCommit is off: kafkajs never
   * commits on its own); commits carry each queue's position, which covers processed records only.
   */
  private onBatch(batch: FetchedBatch, resolveOffset: (offset: string) => void, isStale: () => boolean): Promise<void> {
    const key = `${batch.topic}:${batch.partition}`;
    const queue = this.queues.get(key);
    // Not resolved: a task that is not running yet fetches these again from its start position.
    if (queue === undefined || this.stopped || isStale()) return Promise.resolve();
    // A fetch that began past what the queue has seen carries no proof that the records in between were
    // processed (kafkajs' position can outlive a task): never queue it, seek back (see input-position.ts).
    const expected = queue.fetchPosition;
    const fetched = BigInt(batch.fetchedOffset);
    if (expected === undefined) {
      this.handleError(new StreamsRuntimeError(`the task reading ${key} has no position in it`));
      return Promise.resolve();
    }
    if (placeBatch(expected, fetched, []).kind === 'ahead') {
      void this.realign(key, queue, expected, fetched, BigInt(batch.highWatermark));
      return Promise.resolve();
    }
    if (batch.messages.length > 0) {
      if (queue.add(batch.messages, BigInt(batch.lastOffset()) + 1n, BigInt(batch.highWatermark))) this.markPosition(key, queue);
      resolveOffset(batch.lastOffset());
    }
    if (queue.size >= this.config.bufferedRecordsPerPartition && !this.fullPartitions.has(key)) {
      this.fullPartitions.add(key);
      this.consumerOp((c) => c.pause([{ topic: batch.topic, partitions: [batch.partition] }]));
    }
    this.wake();
    return Promise.resolve();
  }

  /** The task commits its queue's position: every record before it was processed or skipped. */
  private markPosition(key: string, queue: RecordQueue<QueuedRecord>): void {
    const task = this.byPartition.get(key);
    const position = queue.position;
    if (task?.state !== 'running' || position === undefined) return;
    task.markConsumed(queue.topic, queue.partition, position);
    const lag = queue.recordsLag;
    if (lag !== undefined) task.recordsLag.set(key, lag);
  }

  private wake(): void {
    const wakeUp = this.wakeUp;
    this.wakeUp = undefined;
    wakeUp?.();
  }

  /** Records waiting in a task's producer beyond which the task waits (the instance's bound, shared). */
  private get producerBound(): number {
    return Math.max(500, Math.floor(this.config.maxBufferedRecords / Math.max(1, this.tasks.size)));
  }

  /**
   * The processing loop: rounds of at most `maxPollRecords` records, each synchronous (no promise per
   * record), with the async work between rounds: producer back-pressure, a commit when a cache is full,
   * and waiting for records when there is nothing to do.
   */
  private async runLoop(): Promise<void> {
    while (!this.stopped) {
      const processed = this.processRound();
      if (this.stopped) return;
      if (this.flushing === undefined && [...this.running.values()].some((r) => r.task.needsFlush())) {
        this.flushing = this.commitAll(false)
          .catch((err: unknown) => this.handleError(err as Error))
          .finally(() => {
            this.flushing = undefined;
            this.wake();
          });
      }
      if (processed > 0) await new Promise((resolve) => setImmediate(resolve));
      else await this.waitForWork();
    }
  }

  /** One round; returns how many records it took. Errors end in the record error policies or fail(). */
  private processRound(): number {
    const now = Date.now();
    const budget = this.config.maxPollRecords;
    const touched = new Set<RunningTask>();
    let done = 0;
    while (done < budget && !this.stopped) {
      this.updateLimits();
      const slice = this.scheduler.next(this.running.values(), (r) => this.headOf(r, now));
      if (slice === undefined) break;
      touched.add(slice.task);
      const sub = slice.task.task.subtopologyId;
      done += this.processSlice(slice.task, Math.min(slice.until, this.limits[sub]!), budget - done, now);
    }
    // From here the producers send what the round enqueued.
    this.gate?.sealed();
    // Before the loop yields (commits run only then): positions, lag, wall-clock punctuation, sends.
    for (const r of this.running.values()) {
      for (const q of r.group.queues) this.markPosition(`${q.topic}:${q.partition}`, q);
    }
    for (const key of this.fullPartitions) {
      const queue = this.queues.get(key);
      if (queue !== undefined && queue.size >= this.config.bufferedRecordsPerPartition) continue;
      this.fullPartitions.delete(key);
      if (queue !== undefined) this.consumerOp((c) => c.resume([{ topic: queue.topic, partitions: [queue.partition] }]));
    }
    for (const r of touched) {
      if (this.stopped || r.task.state !== 'running') continue;
      try {
        r.task.streamTask.punctuateWallClock(now);
      } catch (err) {
        this.fail(err as Error);
        return done;
      }
      r.task.pipeline.kick();
    }
    return done;
  }

  /** Per gated sub-topology: the oldest output not acknowledged yet, plus the skew allowed. */
  private updateLimits(): void {
    const gate = this.gate;
    if (gate === undefined) return;
    this.limits.fill(Number.POSITIVE_INFINITY);
    for (const { task } of this.running.values()) {
      const sub = task.subtopologyId;
      if (this.gated[sub] === true) this.limits[sub] = Math.min(this.limits[sub]!, gate.oldest(task) + gate.skew);
    }
  }

  /** The timestamp of the record a task would process next, or undefined when it cannot process now. */
  private headOf(r: RunningTask, now: number): number | undefined {
    const { task } = r;
    if (task.state !== 'running' || task.commitInFlight !== undefined) return undefined;
    if (task.pipeline.pending > this.producerBound) return undefined;
    const head = this.nextQueue(r, now)?.peek()?.timestamp;
    return head === undefined || head > this.limits[task.subtopologyId]! ? undefined : head;
  }

  /** The task's next queue; a head that cannot be prepared goes to the error policy (or fails the thread). */
  private nextQueue(r: RunningTask, now: number): RecordQueue<QueuedRecord> | undefined {
    for (;;) {
      try {
        return r.group.next(now);
      } catch (err) {
        const queue = r.group.failed;
        const raw = queue?.rawHead;
        if (queue === undefined || raw === undefined || !this.recordFailed(r.task, queue, raw, err)) return undefined;
        queue.skipHead();
      }
    }
  }

  /** Applies the record error policy; false when the thread failed instead. */
  private recordFailed(task: ActiveTask, queue: RecordQueue<QueuedRecord>, raw: FetchedRecord, err: unknown): boolean {
    const policy = err instanceof DeserializationError ? this.deserializationErrors : err instanceof ProcessingError ? this.processingErrors : undefined;
    const headers = toHeaders(raw.headers);
    const failed = { topic: queue.topic, partition: queue.partition, offset: raw.offset, key: raw.key, value: raw.value, timestamp: Number(raw.timestamp), headers };
    if (policy?.handle(err as Error, failed, task.pipeline) === true) return true;
    this.fail(err as Error);
    return false;
  }

  /** Processes a task's records while they are due before `until`; returns how many it took. */
  private processSlice(r: RunningTask, until: number, max: number, now: number): number {
    const stream = r.task.streamTask;
    const enqueuedBefore = r.task.pipeline.enqueuedTotal;
    let from = Number.NaN;
    let n = 0;
    while (n < max) {
      const queue = this.nextQueue(r, now);
      const head = queue?.peek();
      if (queue === undefined || head === undefined || head.timestamp > until) break;
      queue.take();
      if (n === 0) from = head.timestamp;
      n++;
      try {
        stream.processPrepared(head.input);
      } catch (err) {
        if (!this.recordFailed(r.task, queue, head.raw, err)) break;
      }
      if (this.stopped || r.task.state !== 'running') break;
    }
    if (n > 0 && this.gated[r.task.subtopologyId] === true) this.gate?.slice(r.task, from, enqueuedBefore);
    return n;
  }

  /**
   * Waits for a fetch, a task, a finished commit, a producer below its bound, the end of a task's idle
   * wait, or the thread's end. A re-check after a second at most guards against a missed wake-up.
   */
  private waitForWork(): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        clearTimeout(timer);
        if (this.wakeUp === done) this.wakeUp = undefined;
        resolve();
      };
      this.wakeUp = done;
      const now = Date.now();
      let delay = 1000;
      for (const r of this.running.values()) {
        const deadline = r.group.nextIdleDeadline;
        if (deadline !== undefined && deadline > now) delay = Math.min(delay, deadline - now);
        const pipeline = r.task.pipeline;
        // Acknowledgements move the gate; a failed pipeline is handled by its commit, not here.
        if (this.gate?.waiting(r.task) === true) pipeline.flush().then(done, () => {});
        if (r.task.state === 'running' && pipeline.pending > this.producerBound) {
          pipeline.drainBelow(this.producerBound >> 1).then(done, (err: unknown) => {
            // Thrown into the loop this would stop it for good; a broker outage is survivable.
            this.handleError(err as Error);
            done();
          });
        }
      }
      timer = setTimeout(done, delay);
    });
  }

  /**
   * kafkajs fetched a partition from past the task's position: seek back to it, so the task sees every
   * record in between. Records below the log start were deleted (retention) before the task read them: the
   * task moves on to the log start, as a consumer reset to the earliest offset would.
   */
  /**
   * A batch was fetched from `fetched`, past `expected`, the offset the queue must see next: seek back to it.
   * If retention deleted the records in between, the queue moves on to the log start instead, with a warning
   * (those records cannot be processed by anyone).
   */
  private async realign(key: string, queue: RecordQueue<QueuedRecord>, expected: bigint, fetched: bigint, highWatermark: bigint): Promise<void> {
    const { topic, partition } = queue;
    let target = expected;
    try {
      const start = await logStartOffset(this.admin!, topic, partition);
      if (start > expected) target = start;
    } catch (err) {
      this.config.logger.debug(`log start of ${key} unknown (${(err as Error).message}); seeking back to ${expected}`);
    }
    if (this.queues.get(key) !== queue || this.stopped) return;
    if (target > expected) {
      this.config.logger.warn(`${topic}-${partition}: records [${expected}, ${target}) were deleted before they were read`);
      if (queue.add([], target, highWatermark)) this.markPosition(key, queue);
    } else {
      this.config.logger.debug(`${topic}-${partition} was fetched from ${fetched}, past the position ${expected}; seeking back`);
    }
    this.consumerOp((c) => c.seek(topic, partition, target.toString()));
  }

  /** Commits every running task (under a lock: commits never overlap). */
  commitAll(handover: boolean): Promise<void> {
    if (this.rebalancing && !handover) return Promise.resolve();
    return this.commitTasks([...this.tasks.values()].filter((t) => t.state === 'running'), handover);
  }

  private commitTasks(tasks: ActiveTask[], handover: boolean): Promise<void> {
    if (this.eos) return Promise.all(tasks.map((t) => this.commitTransaction(t, handover))).then(() => {});
    const run = async (): Promise<void> => {
      const live = tasks.filter((t) => t.state === 'running');
      if (live.length === 0 || this.failed) return;
      if (!handover && !live.some((t) => t.hasUncommitted || t.needsFlush())) return;
      const began = Date.now();
      // Synchronous: flush caches and capture offsets at one point of the record stream.
      const snapshots: Array<[ActiveTask, CommitSnapshot]> = live.map((t) => [t, t.snapshot(t.pipeline, handover)]);
      await Promise.all(live.map((t) => t.pipeline.flush()));
      await Promise.all(snapshots.map(([task, snapshot]) => task.writeLocal(snapshot, task.pipeline)));
      const offsets = snapshots.flatMap(([, s]) => s.offsets);
      try {
        if (offsets.length > 0) await this.consumer!.commitOffsets(offsets);
      } catch (err) {
        // The group moved on under us (a member died or joined): the offsets are committed by the handover
        // or the next commit after the rebalance; what was processed meanwhile may be processed again.
        if (!isRebalanceError(err)) throw err;
        this.config.logger.warn(`commit skipped while the group rebalances (${(err as Error).message}); it is retried after the rebalance`);
        return;
      }
      for (const [task, snapshot] of snapshots) task.committedSnapshot(snapshot);
      this.purger.committed(offsets);
      this.counters.commits++;
      this.counters.commitLatencyTotalMs += Date.now() - began;
    };
    const next = this.commitChain.then(run, run);
    this.commitChain = next.catch(() => {});
    return next;
  }

  /**
   * Exactly-once commit of one task: its changelog records join its open transaction, then the input
   * offsets, then the transaction commits. Only then does LevelDB receive the data and the position, so a
   * store never holds writes of a transaction that aborted. Each task commits on its own; while it does, it
   * does not process.
   */
  private commitTransaction(task: ActiveTask, handover: boolean): Promise<void> {
    const run = async (): Promise<void> => {
      if (task.state !== 'running' || this.failed) return;
      if (!handover && !task.hasUncommitted && !task.needsFlush()) return;
      const began = Date.now();
      const snapshot = task.snapshot(task.pipeline, handover);
      try {
        await task.transactions!.commit(snapshot.offsets);
      } catch (err) {
        await this.recoverTask(task, err as Error);
        return;
      }
      await task.writeLocal(snapshot, task.pipeline);
      task.committedSnapshot(snapshot);
      this.transactionFailures.delete(task.id);
      this.purger.committed(snapshot.offsets);
      this.counters.commits++;
      this.counters.commitLatencyTotalMs += Date.now() - began;
    };
    const previous = task.commitInFlight ?? Promise.resolve();
    const next = previous.then(run);
    const tracked = next.finally(() => {
      if (task.commitInFlight === tracked) task.commitInFlight = undefined;
      this.wake();
    });
    task.commitInFlight = tracked;
    return next;
  }

  /**
   * A transaction failed: abort it, throw away the task's uncommitted state, and rebuild the task from its
   * changelog at the committed offsets. A broker that cannot be reached suspends every task instead (see
   * brokerUnavailable). A fenced task is re-created if the group still gives it to us (a broker restart
   * fences a producer whose transaction timed out), else left to its new owner.
   */
  private async recoverTask(task: ActiveTask, error: Error): Promise<void> {
    // Suspended or replaced meanwhile: whoever did that re-creates it.
    const current = this.tasks.get(task.id) === task;
    this.removeTask(task);
    const partitions = task.inputPartitions;
    this.consumerOp((c) => c.pause(partitions.map(({ topic, partition }) => ({ topic, partitions: [partition] }))));
    await task.close();
    if (this.stopped || !current) return;
    const fenced = error instanceof TaskFencedError;
    if (!fenced && isBrokerUnavailable(error)) {
      this.handleError(error);
      return;
    }
    // A transaction that fails the same way again and again (a record the broker always rejects) is fatal.
    const failures = (this.transactionFailures.get(task.id) ?? 0) + 1;
    this.transactionFailures.set(task.id, failures);
    if (failures > MAX_TRANSACTION_RETRIES) {
      this.fail(new StreamsRuntimeError(`The transaction of task ${task.id} failed ${failures} times in a row; last: ${error.message}`, { cause: error }));
      return;
    }
    if (fenced) {
      this.config.logger.warn(`task ${task.id} was fenced by another producer of its transactional id; re-creating it if the group still assigns it here`);
    } else {
      this.config.logger.warn(`the transaction of task ${task.id} failed (${error.message}); rebuilding it from its changelog`);
    }
    this.reconciling = this.reconciling
      .then(async () => {
        if (this.stopped || this.membershipLost || !this.assignedTaskIds.has(task.id) || this.tasks.has(task.id)) return;
        if (fenced) {
          // Re-created only if the group, settled, gives it to us: during a rebalance the description still
          // shows the previous assignment, and re-creating the task would fence its new owner in turn.
          const { stable, owner } = await this.groupOwnerOf(task.id);
          if (!stable || owner !== this.memberId) {
            // We are behind the group: the rebalance our consumer is about to see gives us a new assignment.
            this.config.logger.warn(
              `task ${task.id} ${stable ? `now belongs to ${owner === undefined ? 'no member' : `member ${owner}`}` : 'is being reassigned (the group rebalances)'}; dropped here`,
            );
            return;
          }
        }
        // The task's new producer fences the failed one; it restarts at the committed offsets.
        await this.createTasks(this.generation, [task.id]);
        const restarted = this.tasks.get(task.id);
        if (restarted !== undefined) {
          this.consumerOp((c) => c.resume(restarted.inputPartitions.map(({ topic, partition }) => ({ topic, partitions: [partition] }))));
        }
      })
      .catch((err: unknown) => this.handleError(err as Error));
  }

  /** The member the group's current assignment gives a task to, and whether that assignment is settled. */
  private async groupOwnerOf(taskId: string): Promise<{ stable: boolean; owner: string | undefined }> {
    const { state, members } = await describeGroup(this.admin!, this.config.applicationId, this.topology);
    return { stable: state === 'Stable', owner: members.find((m) => m.assigned && m.activeTasks.includes(taskId))?.memberId };
  }

  /**
   * Every error of the thread ends here: a broker that cannot be reached is ridden out (for up to
   * brokerUnavailableTimeoutMs); anything else is fatal.
   */
  private handleError(error: Error): void {
    if (this.stopped) return;
    if (this.config.brokerUnavailableTimeoutMs > 0 && isBrokerUnavailable(error)) this.brokerUnavailable(error);
    else this.fail(error);
  }

  /**
   * The broker cannot be reached: suspend every task (close it without committing; under exactly-once its
   * open transaction is aborted by the next producer of its id), wait until the broker answers, then
   * re-create the assigned tasks from their last commit, as after a rebalance. Meanwhile the instance is
   * REBALANCING and kafkajs' consumer rejoins the group by itself.
   */
  private brokerUnavailable(error: Error): void {
    const fatal = this.outage.report(error);
    if (fatal !== undefined) {
      this.fail(fatal);
      return;
    }
    this.rebalancing = true;
    this.hooks.onRebalancing(true);
    if (this.recovery !== undefined) return;
    // Fatal on time even while a kafkajs call is still retrying.
    const deadline = setTimeout(() => {
      const expired = this.outage.expired(error);
      if (expired !== undefined) this.fail(expired);
    }, Math.max(0, this.config.brokerUnavailableTimeoutMs - this.outage.elapsedMs) + 10);
    deadline.unref();
    this.recovery = this.rideOutOutage(error).finally(() => {
      clearTimeout(deadline);
      this.recovery = undefined;
    });
  }

  private async rideOutOutage(first: Error): Promise<void> {
    let last = first;
    for (;;) {
      await this.suspendTasks();
      if (!(await this.waitForBroker(last))) return;
      if (this.consumerDown) {
        try {
          await this.consumer!.connect();
          await this.consumer!.run();
          this.consumerDown = false;
        } catch (err) {
          last = err as Error;
          continue;
        }
      }
      if (this.membershipLost) {
        // Crashed for good meanwhile (after the check above): restart it first.
        if (this.consumerDown) continue;
        // The last assignment is void: the join of the restarted consumer re-creates the tasks.
        if (!this.stopped) this.outage.ended();
        return;
      }
      const attempt = this.reconciling.then(() => this.reconcile(this.generation, this.assignedTaskIds));
      this.reconciling = attempt.catch(() => {});
      try {
        await attempt;
      } catch (err) {
        if (this.stopped) return;
        if (!isBrokerUnavailable(err)) {
          this.fail(err as Error);
          return;
        }
        last = err as Error;
        const fatal = this.outage.report(last);
        if (fatal !== undefined) {
          this.fail(fatal);
          return;
        }
        continue;
      }
      if (!this.stopped) this.outage.ended();
      return;
    }
  }

  /** Closes every task without a commit (nothing can be committed while the broker is away). */
  private async suspendTasks(): Promise<void> {
    const tasks = [...this.tasks.values()];
    if (tasks.length === 0) return;
    for (const task of tasks) this.removeTask(task);
    this.consumerOp((c) => c.pause(tasks.flatMap((t) => t.inputPartitions.map(({ topic, partition }) => ({ topic, partitions: [partition] })))));
    // Abandoned, not aborted: an abort would only retry against the missing broker.
    await Promise.all(tasks.map(async (task) => {
      await task.transactions?.abandon();
      await task.close();
    }));
    this.config.logger.info(`suspended tasks ${tasks.map((t) => t.id).sort().join(', ')} until the broker answers`);
  }

  /** Polls the group coordinator until it answers; false when the thread stopped or the outage became fatal. */
  private async waitForBroker(first: Error): Promise<boolean> {
    let last = first;
    for (let delay = 200; ; delay = Math.min(delay * 2, 3000)) {
      if (this.stopped) return false;
      const fatal = this.outage.expired(last);
      if (fatal !== undefined) {
        this.fail(fatal);
        return false;
      }
      try {
        await this.admin!.fetchOffsets({ groupId: this.config.applicationId, topics: this.topology.subtopologies[0]!.sourceTopics.slice(0, 1) });
        return !this.stopped;
      } catch (err) {
        last = err as Error;
      }
      await sleep(delay);
    }
  }

  private fail(error: Error): void {
    if (this.failed || this.closing) return;
    this.failed = true;
    this.wake();
    this.hooks.onError(error);
  }

  /**
   * Stops processing: finishes the batches in progress, commits (unless the thread failed: then nothing
   * after the last commit is trusted), closes the tasks, and leaves the group.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.commitTimer !== undefined) clearInterval(this.commitTimer);
    const consumer = this.consumer;
    const paused = [...this.byPartition.keys()].map((k) => {
      const split = k.lastIndexOf(':');
      return { topic: k.slice(0, split), partitions: [Number(k.slice(split + 1))] };
    });
    if (paused.length > 0) this.consumerOp((c) => c.pause(paused));
    // The loop stops at the end of its round (rounds are synchronous: none is half done now).
    this.wake();
    await this.loop;
    // Task creations in progress see `closing` at their next step, close what they opened and settle.
    await this.recovery?.catch(() => {});
    await this.reconciling.catch(() => {});
    if (!this.failed) {
      try {
        await this.commitTasks([...this.tasks.values()], true);
      } catch (err) {
        this.config.logger.warn(`final commit failed: ${(err as Error).message}`);
      }
    }
    for (const task of [...this.tasks.values()]) {
      this.removeTask(task);
      await task.close();
    }
    this.tasks.clear();
    this.byPartition.clear();
    this.deserializationErrors.flushLog();
    this.processingErrors.flushLog();
    await this.standbys?.close();
    await consumer?.disconnect().catch(() => {});
    await this.admin?.disconnect().catch(() => {});
    await this.reader.close().catch(() => {});
  }

  get assignorName(): string {
    return ASSIGNOR_NAME;
  }
}
