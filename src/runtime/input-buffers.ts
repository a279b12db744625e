import type { Admin } from '../client/admin.js';
import type { EmptyFetch, FetchedBatch, FetchedRecord } from '../client/fetched-batch.js';
import type { GroupConsumer } from '../client/group-consumer.js';
import { topicPartitionKey, type TopicPartition } from '../client/topic-partition.js';
import type { PartitionsByTopic, TopicPartitions } from '../client/topic-partitions.js';
import type { ResolvedStreamsConfig } from '../config/streams-config.js';
import { asError } from '../errors/as-error.js';
import { StreamsRuntimeError } from '../errors/errors.js';
import type { Headers } from '../processor/record.js';
import type { TaskId } from '../processor/task-id.js';
import type { ActiveTask } from './active-task.js';
import { placeBatch, skippedBatchContinues } from './input-position.js';
import { logStartOffset } from './log-start-offset.js';
import { PartitionGroup } from './partition-group.js';
import { RecordQueue, type PreparedRecord } from './record-queue.js';
import type { PreparedInput } from './prepared-input.js';
import type { ThreadState } from './thread-state.js';

/**
 * The headers of records that have none (most): one shared object, not one per record. Frozen, because
 * processors never mutate a record they did not create (see StreamRecord).
 */
const NO_HEADERS: Headers = Object.freeze({});

export function toHeaders(headers: FetchedRecord['headers']): Headers {
  let out: Headers | undefined;
  for (const key in headers) {
    const value = headers[key];
    (out ??= {})[key] = Array.isArray(value) ? value[0] : value;
  }
  return out ?? NO_HEADERS;
}

/** A buffered record, deserialized and timestamped when it became the head of its queue. */
export interface QueuedRecord extends PreparedRecord {
  readonly input: PreparedInput;
  readonly raw: FetchedRecord;
}

/** A task the processing loop runs: its input queues and the choice among them. */
export interface RunningTask {
  readonly task: ActiveTask;
  readonly group: PartitionGroup<QueuedRecord>;
}

/** The queue of one input partition and the task that reads it. */
interface BufferedPartition {
  readonly task: ActiveTask;
  readonly queue: RecordQueue<QueuedRecord>;
}

/** What the task manager does with the input of its tasks: the consumer's positions and the tasks' queues. */
export interface TaskInputs {
  /** Stops fetching these partitions (a task that is not running must not be fed). */
  pause(partitions: TopicPartitions[]): void;
  resume(partitions: TopicPartitions[]): void;
  /** Moves the consumer's fetch position of an input partition to where its task starts. */
  seek(topic: string, partition: number, offset: bigint): void;
  /** A partition whose fetched records fill its buffer stays paused when the others resume. */
  isFull(topic: string, partition: number): boolean;
  /** A task that starts running: it gets its input queues, and the loop takes it from here. */
  add(task: ActiveTask): void;
  /** A task that stops: the loop forgets it, and the buffers of the partitions it owned. */
  remove(task: ActiveTask, ownedPartitions: readonly TopicPartition[]): void;
}

/** The task manager's tasks, as an assignment reads them (the manager already knows the new assignment). */
export interface ThreadTasks {
  readonly tasks: ReadonlyMap<TaskId, ActiveTask>;
  /** The task that reads a partition. */
  taskOf(topic: string, partition: number): ActiveTask | undefined;
}

/** What the buffers tell the thread. */
export interface InputEvents {
  /** Records arrived or a task started: the loop may have work. */
  wake(): void;
  /** A task's buffers are gone: the loop forgets what it kept of the task. */
  removed(task: ActiveTask): void;
  /** A fetch that cannot be placed in its queue. */
  handleError(error: Error): void;
}

/**
 * The input side of a thread: a record queue per input partition of the running tasks, filled by the
 * consumer's fetches, and every pause, resume and seek of the consumer. A partition whose queue holds
 * `bufferedRecordsPerPartition` records is paused until the loop has drained it below that bound.
 *
 * Contract: single-threaded. The queue of a partition always belongs to the task the task manager has for
 * that partition: `add` runs when a task starts, `remove` when the manager forgets it.
 */
export class InputBuffers implements TaskInputs {
  /** Tasks the loop processes, by id, with their input queues. */
  private readonly runningTasks = new Map<TaskId, RunningTask>();
  /** The queue of each input partition of the running tasks, by topicPartitionKey. */
  private readonly partitions = new Map<string, BufferedPartition>();
  /** Partitions paused because their queue is full (resumed by the loop once it is below the bound). */
  private readonly fullPartitions = new Set<string>();
  private maxQueuedPerPartition = 0;

  constructor(
    private readonly config: ResolvedStreamsConfig,
    private readonly state: ThreadState,
    private readonly consumer: () => GroupConsumer | undefined,
    private readonly admin: () => Admin,
    private readonly events: InputEvents,
  ) {}

  /** The tasks the loop processes, with their queues. */
  get running(): ReadonlyMap<TaskId, RunningTask> {
    return this.runningTasks;
  }

  /** Fetched records waiting in the record queues of the running tasks. */
  get bufferedRecords(): number {
    let n = 0;
    for (const { queue } of this.partitions.values()) n += queue.size;
    return n;
  }

  /**
   * The most records one partition's queue has held: at most `bufferedRecordsPerPartition` plus one fetch,
   * whatever the backlog (a full queue pauses its partition).
   */
  get maxBufferedRecordsPerPartition(): number {
    return this.maxQueuedPerPartition;
  }

  pause(partitions: TopicPartitions[]): void {
    this.consumerOp((c) => c.pause(partitions));
  }

  resume(partitions: TopicPartitions[]): void {
    this.consumerOp((c) => c.resume(partitions));
  }

  seek(topic: string, partition: number, offset: bigint): void {
    this.consumerOp((c) => c.seek(topic, partition, offset.toString()));
  }

  isFull(topic: string, partition: number): boolean {
    return this.fullPartitions.has(topicPartitionKey(topic, partition));
  }

  /** Stops fetching the input partitions of these tasks. */
  pauseTasks(tasks: Iterable<ActiveTask>): void {
    const paused = [...tasks].flatMap((t) => t.inputPartitions.map(({ topic, partition }) => ({ topic, partitions: [partition] })));
    if (paused.length > 0) this.pause(paused);
  }

  /**
   * pause/resume/seek on the consumer. kafkajs throws while it re-creates a crashed consumer's group state;
   * nothing is lost then: the rejoin that follows pauses, seeks and resumes every partition again.
   */
  private consumerOp(op: (consumer: GroupConsumer) => void): void {
    const consumer = this.consumer();
    if (consumer === undefined) return;
    try {
      op(consumer);
    } catch (err) {
      this.config.logger.debug(`consumer not ready (${asError(err).message}); the next join repeats this`);
    }
  }

  /** Gives a task that starts running its input queues; the loop takes it from here. */
  add(task: ActiveTask): void {
    const stream = task.streamTask;
    const queues = task.inputPartitions.map(({ topic, partition }) => {
      const queue = new RecordQueue<QueuedRecord>(topic, partition, (raw) => {
        const headers = toHeaders(raw.headers);
        const input = stream.prepare(topic, partition, raw.offset, raw.key, raw.value, Number(raw.timestamp), headers);
        return input === undefined ? undefined : { timestamp: input.timestamp, input, raw };
      });
      queue.reset(task.nextOffset(topic, partition));
      this.partitions.set(topicPartitionKey(topic, partition), { task, queue });
      return queue;
    });
    this.runningTasks.set(task.id, { task, group: new PartitionGroup(queues, this.config.maxTaskIdleMs) });
    this.events.wake();
  }

  /** A task stops: the loop forgets it and the buffers of the partitions it owned. */
  remove(task: ActiveTask, ownedPartitions: readonly TopicPartition[]): void {
    if (this.runningTasks.get(task.id)?.task === task) this.runningTasks.delete(task.id);
    this.events.removed(task);
    for (const { topic, partition } of ownedPartitions) {
      const key = topicPartitionKey(topic, partition);
      this.partitions.delete(key);
      this.fullPartitions.delete(key);
    }
  }

  /**
   * The synchronous part of a new assignment, before kafkajs fetches for it: pause what is not ready, put
   * the tasks that stay back at their own positions, and stop processing the tasks that leave.
   */
  assigned(assignment: PartitionsByTopic, taskIds: ReadonlySet<TaskId>, manager: ThreadTasks): void {
    // New tasks must not process before they are restored: pause their partitions before kafkajs fetches.
    const paused: Array<{ topic: string; partitions: number[] }> = [];
    for (const [topic, partitions] of Object.entries(assignment)) {
      const waiting = partitions.filter((p) => manager.taskOf(topic, p)?.state !== 'running');
      if (waiting.length > 0) paused.push({ topic, partitions: waiting });
    }
    if (paused.length > 0) this.pause(paused);
    // Tasks that stay keep their position: kafkajs would restart them from the last commit. Their queues
    // start again there too (what they held is fetched again), so nothing fetched before the rebalance is
    // processed after it out of order with what kafkajs delivers next.
    // A task that leaves stops processing now: what it processed is what its handover commit says.
    const unpaused: Array<{ topic: string; partitions: number[] }> = [];
    for (const task of manager.tasks.values()) {
      if (!taskIds.has(task.id)) {
        this.runningTasks.delete(task.id);
        continue;
      }
      for (const { topic, partition } of task.inputPartitions) {
        const next = task.nextOffset(topic, partition);
        if (this.fullPartitions.delete(topicPartitionKey(topic, partition))) unpaused.push({ topic, partitions: [partition] });
        if (next !== undefined) this.seek(topic, partition, next);
      }
      if (task.state === 'running') this.add(task);
    }
    if (unpaused.length > 0) this.resume(unpaused);
  }

  /**
   * kafkajs' fetch loop hands each fetched batch here and waits for the call to return before it fetches
   * again; so this only queues the records and returns. A queue that is full pauses its partition.
   * kafkajs' resolved offset is nothing but its next fetch position (autoCommit is off: kafkajs never
   * commits on its own); commits carry each queue's position, which covers processed records only.
   */
  onBatch(batch: FetchedBatch, resolveOffset: (offset: string) => void, isStale: () => boolean): Promise<void> {
    const key = topicPartitionKey(batch.topic, batch.partition);
    const buffered = this.partitions.get(key);
    // Not resolved: a task that is not running yet fetches these again from its start position.
    if (buffered === undefined || this.state.stopped || isStale()) return Promise.resolve();
    const { task, queue } = buffered;
    // A fetch that began past what the queue has seen carries no proof that the records in between were
    // processed (kafkajs' position can outlive a task): never queue it, seek back (see input-position.ts).
    const expected = queue.fetchPosition;
    const fetched = BigInt(batch.fetchedOffset);
    if (expected === undefined) {
      this.events.handleError(new StreamsRuntimeError(`the task reading ${key} has no position in it`));
      return Promise.resolve();
    }
    if (placeBatch(expected, fetched, []).kind === 'ahead') {
      void this.realign(key, buffered, expected, fetched, BigInt(batch.highWatermark));
      return Promise.resolve();
    }
    if (batch.messages.length > 0) {
      if (queue.add(batch.messages, BigInt(batch.lastOffset()) + 1n, BigInt(batch.highWatermark))) this.markPosition(task, queue);
      resolveOffset(batch.lastOffset());
      if (queue.size > this.maxQueuedPerPartition) this.maxQueuedPerPartition = queue.size;
    }
    if (queue.size >= this.config.bufferedRecordsPerPartition && !this.fullPartitions.has(key)) {
      this.fullPartitions.add(key);
      this.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
    }
    this.events.wake();
    return Promise.resolve();
  }

  /** A fetch with no visible record: only transaction markers or aborted records were there (or nothing). */
  onEmptyFetch(fetch: EmptyFetch): void {
    // No record at or past the fetch position came back: lastOffset is then a guess (the high watermark,
    // beyond the stable offset under read_committed), never a position to commit.
    if (fetch.firstOffset === null) return;
    // Queued behind the records fetched before it: the position passes it once they are processed. Only a
    // fetch that continues what the queue has fetched moves it (see input-position.ts).
    const key = topicPartitionKey(fetch.topic, fetch.partition);
    const buffered = this.partitions.get(key);
    if (buffered === undefined || this.state.stopped) return;
    const { task, queue } = buffered;
    const expected = queue.fetchPosition;
    if (expected === undefined || !skippedBatchContinues(expected, BigInt(fetch.firstOffset))) return;
    if (queue.add([], BigInt(fetch.lastOffset) + 1n, BigInt(fetch.highWatermark))) this.markPosition(task, queue);
  }

  /**
   * kafkajs fetched a partition from `fetched`, past `expected`, the offset the queue must see next: seek
   * back to it, so the task sees every record in between. Records below the log start were deleted
   * (retention) before the task read them: the queue moves on to the log start instead, as a consumer reset
   * to the earliest offset would, with a warning (those records cannot be processed by anyone).
   */
  private async realign(key: string, buffered: BufferedPartition, expected: bigint, fetched: bigint, highWatermark: bigint): Promise<void> {
    const { task, queue } = buffered;
    const { topic, partition } = queue;
    let target = expected;
    try {
      const start = await logStartOffset(this.admin(), topic, partition);
      if (start > expected) target = start;
    } catch (err) {
      this.config.logger.debug(`log start of ${key} unknown (${asError(err).message}); seeking back to ${expected}`);
    }
    if (this.partitions.get(key)?.queue !== queue || this.state.stopped) return;
    if (target > expected) {
      this.config.logger.warn(`${topic}-${partition}: records [${expected}, ${target}) were deleted before they were read`);
      if (queue.add([], target, highWatermark)) this.markPosition(task, queue);
    } else {
      this.config.logger.debug(`${topic}-${partition} was fetched from ${fetched}, past the position ${expected}; seeking back`);
    }
    this.seek(topic, partition, target);
  }

  /**
   * The end of a processing round, before the loop yields (commits run only then): each running task marks
   * its queues' positions and lag, and full partitions whose queue drained below the bound resume.
   */
  roundEnded(): void {
    for (const r of this.runningTasks.values()) {
      for (const q of r.group.queues) this.markPosition(r.task, q);
    }
    for (const key of this.fullPartitions) {
      const buffered = this.partitions.get(key);
      if (buffered !== undefined && buffered.queue.size >= this.config.bufferedRecordsPerPartition) continue;
      this.fullPartitions.delete(key);
      if (buffered !== undefined) this.resume([{ topic: buffered.queue.topic, partitions: [buffered.queue.partition] }]);
    }
  }

  /** The task commits its queue's position: every record before it was processed or skipped. */
  private markPosition(task: ActiveTask, queue: RecordQueue<QueuedRecord>): void {
    const position = queue.position;
    if (task.state !== 'running' || position === undefined) return;
    task.markConsumed(queue.topic, queue.partition, position);
    const lag = queue.recordsLag;
    if (lag !== undefined) task.recordsLag.set(queue.topic, queue.partition, lag);
  }
}
