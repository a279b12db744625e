import type { StoreDefinition } from '../processor/store-definition.js';
import type { BytesEntry, BytesStore } from './bytes-store.js';
import type { FlushListener } from './write-cache.js';
import type { StateStore } from './state-store.js';

/**
 * What the runtime (and the TopologyTestDriver) does with every store of a task, whatever its type: the
 * layered store seen from below its typed access (see createStore).
 *
 * Contract: a store belongs to one task. Its owner calls everything from one thread of control, never two
 * calls at once: the processors read and write between commits; the commit calls `flush` (synchronously,
 * at one point of the record stream), then, once the changelog sink's producer acknowledged, writes the
 * returned entries to `bytes` with the changelog position and calls `dropExpired` (see StoreCommit).
 * Restoration and standby replicas bypass the cache: they call `restoreEntries` and write its result to
 * `bytes` themselves, then `dropExpired`.
 */
export interface ManagedStore extends StateStore {
  readonly definition: StoreDefinition;
  /** The byte store at the bottom; replaced only by `replaceBytes`. */
  readonly bytes: BytesStore;
  /** The topic the change-logging layer sends this store's changes to; undefined when it logs nothing. */
  readonly changelogTopic: string | undefined;
  /**
   * Flushes the write cache through the layers: forwards its changes (when caching is on), logs them to the
   * changelog sink, and returns the LevelDB entries they make, which the caller writes to `bytes` (nothing
   * reaches `bytes` before). Reads see the flushed values from the cache meanwhile.
   */
  flush(): BytesEntry[];
  /** The number of the last `flush`. */
  readonly lastFlush: number;
  /**
   * The entries of every flush up to `flush` (a `lastFlush`) are in `bytes` now. Until then the cache keeps
   * them (it never evicts an unwritten value), so that reads between a flush and its write see it.
   */
  written(flush: number): void;
  /** Drops every change since the last flush (an aborted transaction). */
  discardChanges(): void;
  /** True when the dirty entries alone fill the cache budget: the task should commit soon. */
  needsFlush(): boolean;
  setCacheBudget(bytes: number): void;
  /** Cache reads served from memory and read from the byte store, since the store opened (metrics). */
  hitRatio(): { hits: number; misses: number };
  /** Raises the store's observed stream time (windowed stores expire entries by it). */
  observe(time: number): void;
  observedTime(): number;
  /** See TypedStore.cachingEnabled. */
  readonly cachingEnabled: boolean;
  /** Set once, by the processor that owns the store, before the first record. */
  setFlushListener(listener: FlushListener<unknown, unknown>): void;
  /**
   * Turns a batch of changelog records (in offset order) into the LevelDB entries that apply them: the
   * byte-level path of restoration and standby replicas, which never decodes a value.
   */
  restoreEntries(records: readonly BytesEntry[]): BytesEntry[];
  /** Deletes what expired from the byte store (segmented stores); after each commit or restored batch. */
  dropExpired(): Promise<void>;
  /**
   * Raises the observed time to that of a changelog record (session end, window start; nothing for
   * key-value stores): told the changelog's last record before restoring, a store skips every earlier record
   * whose segment is expired by then instead of writing it and dropping it later.
   */
  observeChangelogKey(changelogKey: Buffer): void;
  /** Puts the store over fresh bytes (a wiped store): nothing cached survives. */
  replaceBytes(fresh: BytesStore): void;
}
