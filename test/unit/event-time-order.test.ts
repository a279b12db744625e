import { describe, expect, it } from 'vitest';
import { PartitionGroup, TASK_IDLE_DISABLED } from '../../src/runtime/partition-group.js';
import type { FetchedRecord } from '../../src/client/fetched-batch.js';
import { RecordQueue } from '../../src/runtime/record-queue.js';
import { TaskScheduler } from '../../src/runtime/task-scheduler.js';
import { WriteOrderGate } from '../../src/runtime/write-order-gate.js';

interface Prepared {
  timestamp: number;
  offset: string;
}

const rec = (offset: number, timestamp: number, value = 'v'): FetchedRecord => ({
  offset: String(offset),
  key: null,
  value: Buffer.from(value),
  timestamp: String(timestamp),
});

/** A queue whose preparer reads the Kafka timestamp; value 'bad' throws, value 'drop' is dropped. */
function queue(partition = 0): RecordQueue<Prepared> {
  return new RecordQueue<Prepared>('in', partition, (r) => {
    if (r.value?.toString() === 'bad') throw new Error(`unreadable ${r.offset}`);
    if (r.value?.toString() === 'drop') return undefined;
    return { timestamp: Number(r.timestamp), offset: r.offset };
  });
}

describe('RecordQueue', () => {
  it('moves its position past taken records only, and to the batch end once the batch is done', () => {
    const q = queue();
    q.reset(10n);
    q.add([rec(10, 1), rec(11, 2)], 13n, 20n); // offset 12: a transaction marker
    expect(q.position).toBe(10n);
    expect(q.take().offset).toBe('10');
    expect(q.position).toBe(11n);
    q.take();
    expect(q.position).toBe(13n);
    expect(q.fetchedLag).toBe(7n);
    expect(q.recordsLag).toBe(7n);
  });

  it('skips records below what it fetched (a rewound fetch) and batches it has seen', () => {
    const q = queue();
    q.reset(0n);
    q.add([rec(0, 1), rec(1, 2)], 2n, 2n);
    expect(q.add([rec(0, 1), rec(1, 2)], 2n, 2n)).toBe(false);
    q.add([rec(1, 2), rec(2, 3)], 3n, 3n);
    expect(q.size).toBe(3);
    expect([q.take(), q.take(), q.take()].map((p) => p.offset)).toEqual(['0', '1', '2']);
  });

  it('passes a batch of control records only once the records before it were taken', () => {
    const q = queue();
    q.reset(0n);
    q.add([rec(0, 1)], 1n, 5n);
    expect(q.add([], 5n, 5n)).toBe(false);
    expect(q.position).toBe(0n);
    q.take();
    expect(q.position).toBe(5n);
    expect(q.add([], 8n, 8n)).toBe(true);
    expect(q.position).toBe(8n);
  });

  it('keeps an unreadable head for the error policy, and skips dropped records by itself', () => {
    const q = queue();
    q.add([rec(0, 1, 'bad'), rec(1, 2, 'drop'), rec(2, 3)], 3n, 3n);
    expect(() => q.peek()).toThrow('unreadable 0');
    expect(q.rawHead?.offset).toBe('0');
    q.skipHead();
    expect(q.position).toBe(1n);
    expect(q.peek()?.offset).toBe('2');
    expect(q.position).toBe(2n);
  });
});

describe('PartitionGroup', () => {
  it('takes the head with the smallest timestamp across partitions', () => {
    const a = queue(0);
    const b = queue(1);
    a.add([rec(0, 10), rec(1, 30), rec(2, 50)], 3n, 3n);
    b.add([rec(0, 20), rec(1, 40)], 2n, 2n);
    const group = new PartitionGroup([a, b], 0);
    const order: number[] = [];
    for (let q = group.next(0); q !== undefined; q = group.next(0)) order.push(q.take().timestamp);
    expect(order).toEqual([10, 20, 30, 40, 50]);
  });

  it('waits for an empty partition with records on the broker, however long', () => {
    const a = queue(0);
    const b = queue(1);
    a.add([rec(0, 10)], 1n, 1n);
    b.add([rec(0, 5)], 1n, 4n); // three more records on the broker
    const group = new PartitionGroup([a, b], 0);
    expect(group.next(0)).toBe(b);
    b.take();
    expect(group.next(0)).toBeUndefined();
    expect(group.next(1_000_000)).toBeUndefined();
    b.add([rec(1, 6)], 4n, 4n);
    expect(group.next(1_000_000)).toBe(b);
  });

  it('waits maxTaskIdleMs for an empty partition that is caught up, then processes the others', () => {
    const a = queue(0);
    const b = queue(1);
    a.add([rec(0, 10), rec(1, 11)], 2n, 2n);
    b.add([], 3n, 3n); // fetched to its end: lag 0
    const group = new PartitionGroup([a, b], 100);
    expect(group.next(1000)).toBeUndefined();
    expect(group.nextIdleDeadline).toBe(1100);
    expect(group.next(1099)).toBeUndefined();
    expect(group.next(1100)).toBe(a);
    // Data for the partition ends the wait; emptied again, it waits anew.
    b.add([rec(3, 5)], 4n, 4n);
    expect(group.next(1200)).toBe(b);
    b.take();
    expect(group.next(1200)).toBeUndefined();
    expect(group.next(1300)).toBe(a);
  });

  it('with maxTaskIdleMs 0 processes at once beside a caught-up or never-fetched partition', () => {
    const a = queue(0);
    const never = queue(1);
    a.add([rec(0, 10)], 1n, 1n);
    expect(new PartitionGroup([a, never], 0).next(0)).toBe(a);
  });

  it('never waits when idling is disabled, not even for records on the broker', () => {
    const a = queue(0);
    const b = queue(1);
    a.add([rec(0, 10)], 1n, 1n);
    b.add([], 1n, 50n);
    expect(new PartitionGroup([a, b], 0).next(0)).toBeUndefined();
    expect(new PartitionGroup([a, b], TASK_IDLE_DISABLED).next(0)).toBe(a);
  });

  it('returns nothing when every partition is empty, and names the queue whose head failed', () => {
    const a = queue(0);
    const b = queue(1);
    const group = new PartitionGroup([a, b], TASK_IDLE_DISABLED);
    expect(group.next(0)).toBeUndefined();
    b.add([rec(0, 1, 'bad')], 1n, 1n);
    expect(() => group.next(0)).toThrow('unreadable');
    expect(group.failed).toBe(b);
  });
});

describe('TaskScheduler', () => {
  interface T {
    name: string;
    sub: number;
    head: number | undefined;
  }
  const scheduler = () => new TaskScheduler<T>((t) => t.sub);

  it('gives the turn to the task furthest behind, until its next record is later than a sibling', () => {
    const tasks: T[] = [
      { name: 'a', sub: 0, head: 300 },
      { name: 'b', sub: 0, head: 100 },
      { name: 'c', sub: 0, head: 200 },
    ];
    const slice = scheduler().next(tasks, (t) => t.head);
    expect(slice).toEqual({ task: tasks[1], until: 200 });
  });

  it('skips tasks that cannot process, and a lone task may go as far as it likes', () => {
    const tasks: T[] = [
      { name: 'a', sub: 0, head: undefined },
      { name: 'b', sub: 0, head: 500 },
    ];
    expect(scheduler().next(tasks, (t) => t.head)).toEqual({ task: tasks[1], until: Number.POSITIVE_INFINITY });
    expect(scheduler().next([tasks[0]!], (t) => t.head)).toBeUndefined();
  });

  it('lets sub-topologies take turns, whatever their timestamps', () => {
    const tasks: T[] = [
      { name: 'up', sub: 0, head: 100 },
      { name: 'down', sub: 1, head: 900 },
      { name: 'sink', sub: 2, head: 5 },
    ];
    const s = scheduler();
    const turns = [1, 2, 3, 4].map(() => s.next(tasks, (t) => t.head)!.task.name);
    expect(turns).toEqual(['up', 'down', 'sink', 'up']);
    // A sub-topology with nothing to do is passed over.
    const idle = [tasks[0]!, { ...tasks[1]!, head: undefined }, tasks[2]!];
    const t = scheduler();
    expect([1, 2, 3].map(() => t.next(idle, (x) => x.head)!.task.name)).toEqual(['up', 'sink', 'up']);
  });

  it('merges the tasks of a sub-topology into event-time order, slice by slice', () => {
    const heads = new Map<string, number[]>([
      ['a', [1, 4, 5, 9]],
      ['b', [2, 3, 8]],
      ['c', [6, 7]],
    ]);
    const tasks = [...heads.keys()].map((name) => ({ name, sub: 0, head: undefined as number | undefined }));
    const s = scheduler();
    const order: number[] = [];
    for (;;) {
      const slice = s.next(tasks, (t) => heads.get(t.name)![0]);
      if (slice === undefined) break;
      const mine = heads.get(slice.task.name)!;
      while (mine.length > 0 && mine[0]! <= slice.until) order.push(mine.shift()!);
    }
    expect(order).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe('WriteOrderGate', () => {
  it('holds tasks back to the skew past the oldest output not acknowledged, until it is', () => {
    const counters = new Map([
      ['a', { enqueuedTotal: 0, acknowledgedTotal: 0 }],
      ['b', { enqueuedTotal: 0, acknowledgedTotal: 0 }],
    ]);
    const gate = new WriteOrderGate<string>(60, (t) => counters.get(t)!);
    expect(gate.limit(['a', 'b'])).toBe(Number.POSITIVE_INFINITY);
    counters.get('a')!.enqueuedTotal = 5;
    gate.slice('a', 1000, 0);
    counters.get('b')!.enqueuedTotal = 3;
    gate.slice('b', 1010, 0);
    expect(gate.limit(['a', 'b'])).toBe(1060);
    // More output in the same round joins the open mark; after the round it starts a new one.
    counters.get('a')!.enqueuedTotal = 7;
    gate.slice('a', 1050, 5);
    gate.sealed();
    counters.get('a')!.enqueuedTotal = 9;
    gate.slice('a', 1100, 7);
    counters.get('a')!.acknowledgedTotal = 7;
    expect(gate.oldest('a')).toBe(1100);
    expect(gate.limit(['a', 'b'])).toBe(1070);
    counters.get('b')!.acknowledgedTotal = 3;
    expect(gate.waiting('b')).toBe(true);
    expect(gate.limit(['a', 'b'])).toBe(1160);
    expect(gate.waiting('b')).toBe(false);
    // A slice without output leaves no mark.
    gate.slice('b', 2000, 3);
    expect(gate.oldest('b')).toBe(Number.POSITIVE_INFINITY);
  });
});
