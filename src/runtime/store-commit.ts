import type { BytesEntry } from '../stores/bytes-store.js';
import type { ManagedStore } from '../stores/managed-store.js';
import type { StreamTask } from './stream-task.js';

/** One store's share of a commit: the LevelDB entries its flush made. */
interface StoreBatch {
  readonly store: ManagedStore;
  readonly entries: BytesEntry[];
  /** Of a store restored from its input topic (no changelog of its own): the input offset its entries reach. */
  readonly sourcePosition: bigint | undefined;
  /** The store's flush these entries come from (see ManagedStore.written). */
  readonly flush: number;
}

/**
 * The commit of a task's stores, in two halves, the one path of the runtime's active tasks, its global
 * tables and the TopologyTestDriver. `flush` is synchronous, at one point of the record stream: every store
 * flushes through its layers (the cache forwards, the change-logging layer hands the changelog records to
 * the task's changelog sink) and the LevelDB entries are kept. `write` comes once the sink's producer
 * acknowledged those records: each store's entries go to its byte store in one batch with the changelog
 * position after the last acknowledged record (the data and the position can never disagree after a crash),
 * then the segments that expired are dropped.
 */
export class StoreCommit {
  private constructor(private readonly batches: readonly StoreBatch[]) {}

  /** A commit with no store to write (a task without stores, or a test's stand-in). */
  static readonly empty = new StoreCommit([]);

  /**
   * The synchronous half: flushes every store of the task, upstream first (see StreamTask.flushStores).
   * `sourcePosition` tells, for a store whose input topic serves as its changelog, the input offset consumed
   * so far: the position written with its entries.
   */
  static flush(task: StreamTask, sourcePosition: (store: ManagedStore) => bigint | undefined = () => undefined): StoreCommit {
    return new StoreCommit(task.flushStores().map(([store, entries]) => ({ store, entries, sourcePosition: sourcePosition(store), flush: store.lastFlush })));
  }

  /**
   * A full cache's relief between commits (at-least-once only; see ManagedStore.evict): every store whose
   * cache is full flushes its least recently written quarter, in the topology's order. The result is written
   * as a commit's is, but commits no offsets. Stores restored from their input topic are left to the commit
   * (their position is an input offset, which an eviction does not reach).
   */
  static evict(task: StreamTask): StoreCommit {
    const evicted = new Set<ManagedStore>();
    const results = task.flushStores((store) => {
      if (!store.needsFlush() || store.definition.sourceChangelogTopic !== undefined) return [];
      evicted.add(store);
      return store.evict();
    });
    return new StoreCommit(results.filter(([store]) => evicted.has(store)).map(([store, entries]) => ({ store, entries, sourcePosition: undefined, flush: store.lastFlush })));
  }

  /**
   * The second half. `lastOffset` tells the offset the sink's producer acknowledged last on a changelog
   * topic (undefined: nothing yet). Over in-memory byte stores every write is done before this returns.
   */
  write(lastOffset: (changelogTopic: string) => bigint | undefined): Promise<void> {
    return Promise.all(
      this.batches.map(({ store, entries, sourcePosition, flush }) => {
        const topic = store.changelogTopic;
        const last = topic === undefined ? undefined : lastOffset(topic);
        const applied = store.bytes.apply(entries, last === undefined ? sourcePosition : last + 1n);
        const done = (): Promise<void> => {
          store.written(flush);
          return store.dropExpired();
        };
        return applied instanceof Promise ? applied.then(done) : done();
      }),
    ).then(() => {});
  }
}
