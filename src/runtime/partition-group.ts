import type { PreparedRecord, RecordQueue } from './record-queue.js';

/** `maxTaskIdleMs` value that turns waiting off: a task processes whatever it has (Kafka Streams' -1). */
export const TASK_IDLE_DISABLED = -1;

/**
 * The input partitions of one task, and the choice of its next record (Kafka Streams' PartitionGroup):
 * always the head with the smallest timestamp, so a task reading several partitions processes them in
 * event-time order. A task is ready when every partition has a record buffered; a partition that is empty
 * holds the task back while records are known to wait on the broker for it (until they are fetched), and
 * for `maxTaskIdleMs` when it is caught up, in case more arrive. `TASK_IDLE_DISABLED` never waits.
 *
 * kafkajs reports nothing for a fetch that returned no record, so a partition never fetched (lag unknown)
 * counts as caught up here, where Kafka Streams would wait for its first fetch.
 */
export class PartitionGroup<P extends PreparedRecord> {
  /** Per empty, caught-up partition: until when the task waits for it (wall clock). */
  private readonly idleDeadlines = new Map<RecordQueue<P>, number>();
  /** The queue whose head was being prepared when `next` threw. */
  failed: RecordQueue<P> | undefined;

  constructor(
    readonly queues: readonly RecordQueue<P>[],
    private readonly maxTaskIdleMs: number,
  ) {}

  /** Records buffered over all partitions. */
  get size(): number {
    let n = 0;
    for (const q of this.queues) n += q.size;
    return n;
  }

  /**
   * The queue to take the next record from, or undefined when the task must wait (nothing buffered, or an
   * empty partition it waits for). Throws what preparing a head throws; `failed` then names its queue.
   */
  next(now: number): RecordQueue<P> | undefined {
    let best: RecordQueue<P> | undefined;
    let bestTime = Number.POSITIVE_INFINITY;
    let waiting = false;
    for (let i = 0; i < this.queues.length; i++) {
      const q = this.queues[i]!;
      this.failed = q;
      const ts = q.headTimestamp();
      this.failed = undefined;
      if (ts !== undefined) {
        this.idleDeadlines.delete(q);
        if (best === undefined || ts < bestTime) {
          best = q;
          bestTime = ts;
        }
        continue;
      }
      if (this.maxTaskIdleMs === TASK_IDLE_DISABLED) continue;
      const lag = q.fetchedLag;
      if (lag !== undefined && lag > 0n) {
        // Records are on the broker: wait for the fetch that brings them.
        this.idleDeadlines.delete(q);
        waiting = true;
        continue;
      }
      let deadline = this.idleDeadlines.get(q);
      if (deadline === undefined) this.idleDeadlines.set(q, (deadline = now + this.maxTaskIdleMs));
      if (now < deadline) waiting = true;
    }
    return waiting ? undefined : best;
  }

  /** The earliest wall-clock time at which waiting for an idle partition ends; undefined when none waits. */
  get nextIdleDeadline(): number | undefined {
    let min: number | undefined;
    for (const d of this.idleDeadlines.values()) if (min === undefined || d < min) min = d;
    return min;
  }

  /** The timestamp of the record `next` would choose (without waiting rules); undefined when empty. */
  headTimestamp(): number | undefined {
    let min: number | undefined;
    for (const q of this.queues) {
      this.failed = q;
      const ts = q.headTimestamp();
      this.failed = undefined;
      if (ts !== undefined && (min === undefined || ts < min)) min = ts;
    }
    return min;
  }
}
