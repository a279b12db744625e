/** What the gate reads of a task's producer. */
export interface OutputCounter {
  readonly enqueuedTotal: number;
  readonly acknowledgedTotal: number;
}

interface Mark {
  /** The output of the slice ends at this enqueued count. */
  upTo: number;
  /** The timestamp of the slice's first record. */
  readonly from: number;
}

/**
 * Keeps what the tasks of one sub-topology write to a repartition topic in event-time order, within
 * `skewMs`, as the broker appends it. Each task has its own producer, so the order in which their
 * requests reach the broker is not the order in which records were processed: while one producer's
 * request is in flight, the others' can land records of later event time, and with a backlog that is
 * processed much faster than real time a few round trips hold hours of event time. Downstream those
 * records look late. So a task may process a record only while its timestamp is at most `skewMs` past the
 * oldest record whose output any task of the group has not had acknowledged yet.
 *
 * Contract: single-threaded; `slice` is called after every slice of processing with the producer's count
 * before it; `limit` is read before choosing records.
 */
export class WriteOrderGate<T> {
  private readonly marks = new Map<T, Mark[]>();
  /** A task whose last mark may still grow (its records are not handed to the producer yet). */
  private readonly open = new Set<T>();

  constructor(
    private readonly skewMs: number,
    private readonly counter: (task: T) => OutputCounter,
  ) {}

  /** After a slice of `task` that started with a record at `from`, when its producer had `enqueuedBefore`. */
  slice(task: T, from: number, enqueuedBefore: number): void {
    const upTo = this.counter(task).enqueuedTotal;
    if (upTo === enqueuedBefore) return;
    let marks = this.marks.get(task);
    if (marks === undefined) this.marks.set(task, (marks = []));
    const last = marks[marks.length - 1];
    if (last !== undefined && this.open.has(task)) last.upTo = upTo;
    else {
      marks.push({ upTo, from });
      this.open.add(task);
    }
  }

  /** The producers may send now (the end of a round): later output starts new marks. */
  sealed(): void {
    this.open.clear();
  }

  /** The largest timestamp the tasks may process now; +Infinity when all their output is acknowledged. */
  limit(tasks: Iterable<T>): number {
    let oldest = Number.POSITIVE_INFINITY;
    for (const task of tasks) oldest = Math.min(oldest, this.oldest(task));
    return oldest + this.skewMs;
  }

  /** The timestamp from which `task` has output not acknowledged yet; +Infinity when there is none. */
  oldest(task: T): number {
    const marks = this.marks.get(task);
    if (marks === undefined) return Number.POSITIVE_INFINITY;
    const acknowledged = this.counter(task).acknowledgedTotal;
    let i = 0;
    while (i < marks.length && marks[i]!.upTo <= acknowledged) i++;
    if (i > 0) marks.splice(0, i);
    if (marks.length > 0) return marks[0]!.from;
    this.marks.delete(task);
    this.open.delete(task);
    return Number.POSITIVE_INFINITY;
  }

  get skew(): number {
    return this.skewMs;
  }

  /** True when some output of `task` waits for its acknowledgement. */
  waiting(task: T): boolean {
    return this.marks.has(task);
  }

  /** Forgets a task (it stopped running). */
  remove(task: T): void {
    this.marks.delete(task);
    this.open.delete(task);
  }
}
