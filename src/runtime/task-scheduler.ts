/** One slice of processing: a task, and the timestamp up to which it may go before a sibling is further behind. */
export interface Slice<T> {
  readonly task: T;
  /** Process records while their timestamp is at most this (the next sibling's head); +Infinity without one. */
  readonly until: number;
}

/**
 * The order in which an instance's tasks process, one small slice at a time. Sub-topologies take turns
 * (round-robin), so no stage of the topology starves another. Within a sub-topology the task furthest
 * behind goes first: the one whose next record has the smallest timestamp, which is the stream time it is
 * about to reach. It keeps the turn until its next record is later than another task's, so the tasks that
 * feed a repartition topic write it in nearly event-time order and the tasks downstream see few late
 * records. Kafka Streams orders records like this only inside a task; across tasks it goes round-robin.
 *
 * Pure: `headOf` says whether a task can process now (undefined: it cannot) and the timestamp of its next
 * record; the caller processes the slice.
 */
export class TaskScheduler<T> {
  private turn = 0;

  constructor(private readonly subtopologyOf: (task: T) => number) {}

  /** The next slice among `tasks`, or undefined when none can process. */
  next(tasks: Iterable<T>, headOf: (task: T) => number | undefined): Slice<T> | undefined {
    // Per sub-topology: the furthest-behind task and the next one's head.
    const best = new Map<number, { task: T; head: number; second: number }>();
    for (const task of tasks) {
      const head = headOf(task);
      if (head === undefined) continue;
      const sub = this.subtopologyOf(task);
      const b = best.get(sub);
      if (b === undefined) best.set(sub, { task, head, second: Number.POSITIVE_INFINITY });
      else if (head < b.head) best.set(sub, { task, head, second: b.head });
      else if (head < b.second) b.second = head;
    }
    if (best.size === 0) return undefined;
    // The first sub-topology at or after the turn, in id order, then the turn moves past it.
    const ids = [...best.keys()].sort((a, b) => a - b);
    const sub = ids.find((id) => id >= this.turn) ?? ids[0]!;
    this.turn = sub + 1;
    const chosen = best.get(sub)!;
    return { task: chosen.task, until: chosen.second };
  }
}
