import type { Admin } from '../client/admin.js';
import type { EmptyFetch, FetchedBatch, FetchedRecord } from '../client/fetched-batch.js';
import type { GroupConsumer } from '../client/group-consumer.js';
import type { KafkaClient } from '../client/kafka-client.js';
import type { PartitionsByTopic } from '../client/topic-partitions.js';
import type { RecordCounts } from './record-counts.js';
import type { ResolvedStreamsConfig } from '../config/streams-config.js';
import type { Headers } from '../processor/record.js';
import type { Topology } from '../processor/topology.js';
import { DeserializationError, ProcessingError, StreamsRuntimeError } from '../errors/errors.js';
import type { ActiveTask } from './active-task.js';
import { PartitionGroup } from './partition-group.js';
import { RecordQueue, type PreparedRecord } from './record-queue.js';
import type { PreparedInput } from './stream-task.js';
import { TaskScheduler } from './task-scheduler.js';
import { WriteOrderGate } from './write-order-gate.js';
import { ChangelogReader } from './changelog-reader.js';
import type { TopologyMetadata } from './internal-topic-manager.js';
import { localTaskOffsets } from './local-state.js';
import { RecordErrorPolicy } from './record-error-policy.js';
import { RestoreProgress } from './restore-progress.js';
import type { StateRestoreListener } from './state-restore-listener.js';
import { ASSIGNOR_NAME, taskAssignor, topologySummary, type SubscriptionInfo } from './task-assignor.js';
import { BrokerOutage } from './broker-outage.js';
import { isClientError } from '../client/client-error.js';
import type { StandbyManager } from './standby-manager.js';
import { formatTaskId } from './task-id.js';
import { TaskManager, type ThreadCounters } from './task-manager.js';
import { logStartOffset } from './log-start-offset.js';
import { placeBatch, skippedBatchContinues } from './input-position.js';

export interface StreamThreadHooks {
  /** A fatal error: the thread has stopped processing. */
  onError(error: Error): void;
  /** The group is rebalancing (true) or every assigned task runs (false). */
  onRebalancing(rebalancing: boolean): void;
  restoreListener(): StateRestoreListener | undefined;
}

/**
 * The headers of records that have none (most): one shared object, not one per record. Frozen, because
 * processors never mutate a record they did not create (see StreamRecord).
 */
const NO_HEADERS: Headers = Object.freeze({});

function toHeaders(headers: FetchedRecord['headers']): Headers {
  let out: Headers | undefined;
  for (const key in headers) {
    const value = headers[key];
    (out ??= {})[key] = Array.isArray(value) ? value[0] : value;
  }
  return out ?? NO_HEADERS;
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

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The loop of an instance, as Kafka Streams' StreamThread: one group consumer (with our task assignor)
 * that fetches into a queue per input partition, the processing of those queues in event-time order,
 * periodic commits, and riding out broker outages and consumer crashes. Which tasks run, their handover,
 * commits and recovery are the TaskManager's; their creation is the TaskCreator's.
 */
export class StreamThread {
  private consumer: GroupConsumer | undefined;
  private admin: Admin | undefined;
  private readonly reader: ChangelogReader;
  private readonly manager: TaskManager;
  private commitTimer: NodeJS.Timeout | undefined;
  private rebalancing = true;
  private closing = false;
  private failed = false;
  private readonly eos: boolean;
  /** Tasks the loop processes, by id, with their input queues (also by `topic:partition`). */
  private readonly running = new Map<string, RunningTask>();
  private readonly queues = new Map<string, RecordQueue<QueuedRecord>>();
  /** Partitions paused because their queue is full (resumed by the loop once it is below the bound). */
  private readonly fullPartitions = new Set<string>();
  private maxQueuedPerPartition = 0;
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
  readonly restoreProgress: RestoreProgress;
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
    this.outage = new BrokerOutage(config.brokerUnavailableTimeoutMs, config.logger);
    this.topologyLines = topologySummary(topology);
    this.deserializationErrors = new RecordErrorPolicy(config.deserializationExceptionHandler, 'deserialization', config.logger);
    this.processingErrors = new RecordErrorPolicy(config.processingExceptionHandler, 'processing', config.logger);
    this.gated = topology.subtopologies.map((s) => s.nodes.some((n) => n.kind === 'sink' && typeof n.topic !== 'function' && n.topic.internal));
    this.limits = this.gated.map(() => Number.POSITIVE_INFINITY);
    this.gate = config.maxRepartitionSkewMs >= 0 ? new WriteOrderGate(config.maxRepartitionSkewMs, (t) => t.pipeline) : undefined;
    this.manager = new TaskManager(client, () => this.admin!, topology, config, metadata, this.reader, this.restoreProgress, {
      stopped: () => this.stopped,
      failed: () => this.failed,
      membershipLost: () => this.membershipLost,
      rebalancing: () => this.rebalancing,
      pause: (partitions) => this.consumerOp((c) => c.pause(partitions)),
      resume: (partitions) => this.consumerOp((c) => c.resume(partitions)),
      seek: (topic, partition, offset) => this.consumerOp((c) => c.seek(topic, partition, offset.toString())),
      commitOffsets: (offsets) => this.consumer!.commitOffsets(offsets),
      bufferFull: (topic, partition) => this.fullPartitions.has(`${topic}:${partition}`),
      taskRunning: (task) => this.addRunning(task),
      taskRemoved: (task, owned) => this.removeRunning(task, owned),
      assignmentApplied: () => {
        this.rebalancing = false;
        this.hooks.onRebalancing(false);
      },
      commitFinished: () => this.wake(),
      handleError: (error) => this.handleError(error),
      fail: (error) => this.fail(error),
      restoreListener: () => this.hooks.restoreListener(),
    });
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
    let n = 0;
    for (const queue of this.queues.values()) n += queue.size;
    return n;
  }

  /**
   * The most records one partition's queue has held: at most `bufferedRecordsPerPartition` plus one fetch,
   * whatever the backlog (a full queue pauses its partition).
   */
  get maxBufferedRecordsPerPartition(): number {
    return this.maxQueuedPerPartition;
  }

  /** Record counts of tasks this thread no longer runs (handed over, recovered, suspended, closed). */
  get retiredTaskCounters(): RecordCounts {
    return this.manager.retiredTaskCounters;
  }

  get standbys(): StandbyManager | undefined {
    return this.manager.standbys;
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
      void this.manager.commitAll(false).catch((err: unknown) => this.handleError(err as Error));
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

  /** Synchronous part of a new assignment: pause what is not ready, then reconcile in order. */
  private onAssignment(memberId: string, assignment: Record<string, number[]>): void {
    if (this.stopped) return;
    const taskIds = new Set<string>();
    for (const [topic, partitions] of Object.entries(assignment)) {
      const sub = this.topology.subtopologyOfTopic(topic);
      if (sub === undefined) continue;
      for (const p of partitions) taskIds.add(formatTaskId({ subtopology: sub.id, partition: p }));
    }
    const generation = this.manager.assign(memberId, taskIds);
    // New tasks must not process before they are restored: pause their partitions before kafkajs fetches.
    const paused: Array<{ topic: string; partitions: number[] }> = [];
    for (const [topic, partitions] of Object.entries(assignment)) {
      const waiting = partitions.filter((p) => this.manager.taskOf(`${topic}:${p}`)?.state !== 'running');
      if (waiting.length > 0) paused.push({ topic, partitions: waiting });
    }
    if (paused.length > 0) this.consumerOp((c) => c.pause(paused));
    // Tasks that stay keep their position: kafkajs would restart them from the last commit. Their queues
    // start again there too (what they held is fetched again), so nothing fetched before the rebalance is
    // processed after it out of order with what kafkajs delivers next.
    // A task that leaves stops processing now: what it processed is what its handover commit says.
    const unpaused: Array<{ topic: string; partitions: number[] }> = [];
    for (const task of this.manager.tasks.values()) {
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
    this.manager.reconcileLater(generation, taskIds);
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

  /** A task stops: the loop forgets it and the buffers of the partitions it owned. */
  private removeRunning(task: ActiveTask, ownedPartitions: readonly string[]): void {
    if (this.running.get(task.id)?.task === task) this.running.delete(task.id);
    this.gate?.remove(task);
    for (const key of ownedPartitions) {
      this.queues.delete(key);
      this.fullPartitions.delete(key);
    }
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
      if (queue.size > this.maxQueuedPerPartition) this.maxQueuedPerPartition = queue.size;
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
    const task = this.manager.taskOf(key);
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
    return Math.max(500, Math.floor(this.config.maxBufferedRecords / Math.max(1, this.manager.tasks.size)));
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
        this.flushing = this.manager.commitAll(false)
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

  /**
   * Every error of the thread ends here: a broker that cannot be reached is ridden out (for up to
   * brokerUnavailableTimeoutMs); anything else is fatal.
   */
  private handleError(error: Error): void {
    if (this.stopped) return;
    if (this.config.brokerUnavailableTimeoutMs > 0 && isClientError(error, 'unavailable')) this.brokerUnavailable(error);
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
      await this.manager.suspendAll();
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
      try {
        await this.manager.reconcileAgain();
      } catch (err) {
        if (this.stopped) return;
        if (!isClientError(err, 'unavailable')) {
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
    const paused = [...this.manager.tasks.values()].flatMap((t) => t.inputPartitions.map(({ topic, partition }) => ({ topic, partitions: [partition] })));
    if (paused.length > 0) this.consumerOp((c) => c.pause(paused));
    // The loop stops at the end of its round (rounds are synchronous: none is half done now).
    this.wake();
    await this.loop;
    // Task creations in progress see `closing` at their next step, close what they opened and settle.
    await this.recovery?.catch(() => {});
    await this.manager.settled();
    await this.manager.closeAll(!this.failed);
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
