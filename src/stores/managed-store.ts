import type { StoreDefinition } from '../processor/store-definition.js';
import type { BytesEntry, BytesStore } from './bytes-store.js';
import type { FlushListener, FlushResult } from './caching-store.js';
import type { StateStore } from './state-store.js';

/** What the runtime does with every store of a task, whatever its type. */
export interface ManagedStore extends StateStore {
  readonly definition: StoreDefinition;
  readonly bytes: BytesStore;
  flush(): FlushResult;
  /** Drops every change since the last flush (an aborted transaction). */
  discardChanges(): void;
  needsFlush(): boolean;
  setCacheBudget(bytes: number): void;
  hitRatio(): { hits: number; misses: number };
  /** Raises the store's observed stream time (windowed stores expire entries by it). */
  observe(time: number): void;
  observedTime(): number;
  /** See CachingStore.cachingEnabled. */
  readonly cachingEnabled: boolean;
  setFlushListener(listener: FlushListener<unknown, unknown>): void;
  /** Turns a batch of changelog records (in offset order) into the LevelDB entries that apply them. */
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
