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
  // Per sub-topology id, reused by every call (a call runs about once per record): the furthest-behind
  // task, its head and the next one's head.
  private readonly bestTask: Array<T | undefined> = [];
  private readonly bestHead: number[] = [];
  private readonly secondHead: number[] = [];

  constructor(private readonly subtopologyOf: (task: T) => number) {}

  /** The next slice among `tasks`, or undefined when none can process. */
  next(tasks: Iterable<T>, headOf: (task: T) => number | undefined): Slice<T> | undefined {
    const bestTask = this.bestTask;
    bestTask.fill(undefined);
    for (const task of tasks) {
      const head = headOf(task);
      if (head === undefined) continue;
      const sub = this.subtopologyOf(task);
      while (bestTask.length <= sub) bestTask.push(undefined);
      if (bestTask[sub] === undefined) {
        bestTask[sub] = task;
        this.bestHead[sub] = head;
        this.secondHead[sub] = Number.POSITIVE_INFINITY;
      } else if (head < this.bestHead[sub]!) {
        bestTask[sub] = task;
        this.secondHead[sub] = this.bestHead[sub]!;
        this.bestHead[sub] = head;
      } else if (head < this.secondHead[sub]!) {
        this.secondHead[sub] = head;
      }
    }
    // The first sub-topology at or after the turn, in id order (else the first of all), then the turn moves past it.
    let sub = bestTask.findIndex((task, id) => id >= this.turn && task !== undefined);
    if (sub < 0) sub = bestTask.findIndex((task) => task !== undefined);
    if (sub < 0) return undefined;
    this.turn = sub + 1;
    return { task: bestTask[sub]!, until: this.secondHead[sub]! };
  }
}
