import { StreamsError } from '../errors/errors.js';
import type { StoreDefinition, StoreType } from '../processor/store-definition.js';
import type { BytesEntry, BytesStore } from './bytes-store.js';
import type { FlushListener } from './write-cache.js';
import type {
  SessionStore,
  StateStore,
  TimestampedKeyValueStore,
  TimestampedWindowStore,
  VersionedKeyValueStore,
  VersionedRecord,
} from './state-store.js';

/**
 * What the runtime (and the TopologyTestDriver) does with every store of a task, whatever its kind: the
 * layered store seen from below its typed access (see createStore). A store is one of the kinds of
 * ManagedStore, which adds its typed access.
 *
 * Contract: a store belongs to one task. Its owner calls everything from one thread of control, never two
 * calls at once: the processors read and write between commits; the commit calls `flush` (synchronously,
 * at one point of the record stream), then, once the changelog sink's producer acknowledged, writes the
 * returned entries to `bytes` with the changelog position and calls `dropExpired` (see StoreCommit).
 * Restoration and standby replicas bypass the cache: they call `restoreEntries` and write its result to
 * `bytes` themselves, then `dropExpired`.
 */
export interface StoreMachinery extends StateStore {
  /** The store's kind: tells which typed interface it has (see ManagedStore). */
  readonly kind: StoreType;
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
  /**
   * A full cache's relief between commits (at-least-once): flushes the least recently written quarter of the
   * dirty entries as `flush` does, returning their LevelDB entries for the caller to write the same way.
   */
  evict(): BytesEntry[];
  /** The number of the last `flush` (or `evict`). */
  readonly lastFlush: number;
  /**
   * The entries of every flush up to `flush` (a `lastFlush`) are in `bytes` now. Until then the cache keeps
   * them (it never evicts an unwritten value), so that reads between a flush and its write see it.
   */
  written(flush: number): void;
  /** Drops every change since the last flush (an aborted transaction). */
  discardChanges(): void;
  /** True when the dirty entries alone exceed the cache budget: the task should evict or commit soon. */
  needsFlush(): boolean;
  setCacheBudget(bytes: number): void;
  /** The topics whose records write the store: their names count in each cached entry's charge (see cache-charge.ts). */
  setRecordTopics(topics: readonly string[]): void;
  /** Cache reads served from memory and read from the byte store, since the store opened (metrics). */
  hitRatio(): { hits: number; misses: number };
  /** Raises the store's observed stream time (windowed stores expire entries by it). */
  observe(time: number): void;
  observedTime(): number;
  /** The event-time mode: expire by at most `bound()` (the task's bounded stream time), never by a time ahead of it. */
  boundObservedTime(bound: () => number): void;
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

/** A managed key-value store: the machinery and the typed access its processors and queries use. */
export interface ManagedKeyValueStore<K = unknown, V = unknown> extends StoreMachinery, TimestampedKeyValueStore<K, V> {
  readonly kind: 'keyValue';
}

/** A managed session store: the machinery and the typed access its processors and queries use. */
export interface ManagedSessionStore<K = unknown, V = unknown> extends StoreMachinery, SessionStore<K, V> {
  readonly kind: 'session';
}

/** A managed window store: the machinery and the typed access its processors and queries use. */
export interface ManagedWindowStore<K = unknown, V = unknown> extends StoreMachinery, TimestampedWindowStore<K, V> {
  readonly kind: 'window';
}

/** A managed versioned key-value store (`Stores.persistentVersionedKeyValueStore`). */
export interface ManagedVersionedStore<K = unknown, V = unknown> extends StoreMachinery, VersionedKeyValueStore<K, V> {
  readonly kind: 'versioned';
  /** As `get`, with the version's validTo (interactive queries; `get` leaves it out, as Kafka Streams' processors see it). */
  getVersion(key: K, asOfTimestamp?: number): VersionedRecord<V> | undefined;
}

/**
 * Every store of a task, as createStore makes it: its `kind` tells which typed interface it has, so code that
 * holds a ManagedStore reaches the typed access by checking the kind (see storeOfKind), never by a cast.
 */
export type ManagedStore<K = unknown, V = unknown> =
  | ManagedKeyValueStore<K, V>
  | ManagedSessionStore<K, V>
  | ManagedWindowStore<K, V>
  | ManagedVersionedStore<K, V>;

/** The managed store of one kind. */
export type ManagedStoreOfKind<T extends StoreType, K = unknown, V = unknown> = Extract<ManagedStore<K, V>, { readonly kind: T }>;

/**
 * True when the store is of that kind. Its key and value types are the caller's word, as with
 * `getStateStore<S>`: serdes are not types the runtime can check.
 */
function isOfKind<T extends StoreType, K, V>(store: ManagedStore, kind: T): store is ManagedStoreOfKind<T, K, V> {
  return store.kind === kind;
}

/** The store as the managed store of `kind`; throws a StreamsError naming both kinds when it is another kind. */
export function storeOfKind<T extends StoreType, K = unknown, V = unknown>(store: ManagedStore, kind: T): ManagedStoreOfKind<T, K, V> {
  if (!isOfKind<T, K, V>(store, kind)) throw new StreamsError(`Store '${store.name}' is a ${store.kind} store, not a ${kind} store`);
  return store;
}

/** The store as a key-value store (see storeOfKind). */
export function keyValueStoreOf<K = unknown, V = unknown>(store: ManagedStore): ManagedKeyValueStore<K, V> {
  return storeOfKind<'keyValue', K, V>(store, 'keyValue');
}

/** The store as a session store (see storeOfKind). */
export function sessionStoreOf<K = unknown, V = unknown>(store: ManagedStore): ManagedSessionStore<K, V> {
  return storeOfKind<'session', K, V>(store, 'session');
}

/** The store as a window store (see storeOfKind). */
export function windowStoreOf<K = unknown, V = unknown>(store: ManagedStore): ManagedWindowStore<K, V> {
  return storeOfKind<'window', K, V>(store, 'window');
}

/** The store as a versioned key-value store (see storeOfKind). */
export function versionedStoreOf<K = unknown, V = unknown>(store: ManagedStore): ManagedVersionedStore<K, V> {
  return storeOfKind<'versioned', K, V>(store, 'versioned');
}
