import type { Serde } from '../serdes/serde.js';
import type { BytesEntry, BytesStore } from './bytes-store.js';
import type { ChangeLogging, LoggedChange } from './change-logging.js';
import type { StoreDefinition } from '../processor/store-definition.js';
import { WriteCache, type FlushListener } from './write-cache.js';
import { SESSION_OR_WINDOW_HEAP_OVERHEAD_BYTES } from './cache-charge.js';

/**
 * The top layer of every store: typed access over the write cache, which sits over the change-logging layer
 * and the byte store (see createStore). A subclass per store kind (key-value, session, window) turns typed
 * calls into cached entries, and says how an entry is laid out below: its LevelDB entries, its record-level
 * bytes (which the change-logging layer logs), its restoration from changelog records. This base holds what
 * the runtime drives in every kind (ManagedStore: flush, discard, cache budget, byte store) and the store's
 * metrics.
 */
export abstract class TypedStore<K, E> {
  protected readonly cache: WriteCache<K, E>;
  /** The store's metrics: reads and writes the cache served, and those it loaded from the byte store. */
  private readonly counters = { hits: 0, misses: 0 };
  private bytesStore: BytesStore;

  abstract readonly definition: StoreDefinition;

  constructor(
    readonly name: string,
    protected readonly keySerde: Serde<K>,
    bytes: BytesStore,
    cacheBudgetBytes: number,
    logging: ChangeLogging | undefined,
  ) {
    this.bytesStore = bytes;
    this.cache = new WriteCache(
      keySerde,
      {
        load: (keyBytes) => this.load(keyBytes),
        toLocal: (keyBytes, entry) => this.toLocal(keyBytes, entry),
        changesOf: (keyBytes, entry, local, key) => this.changesOf(keyBytes, entry, local, key),
        // Constants of the store's kind (prototype methods): safe to read before the subclass is built.
        cacheKeyPrefixBytes: this.cacheKeyPrefixBytes(),
        heapOverheadBytes: this.cacheHeapOverheadBytes(),
      },
      cacheBudgetBytes,
      logging,
      this.counters,
    );
  }

  /** The topic the store's flushes log to; undefined when it is not logged. */
  get changelogTopic(): string | undefined {
    return this.cache.changelogTopic;
  }

  get bytes(): BytesStore {
    return this.bytesStore;
  }

  /** Puts the store over other bytes (a wiped store's fresh files): nothing cached survives. */
  replaceBytes(fresh: BytesStore): void {
    this.bytesStore = fresh;
    this.cache.clear();
    this.afterBytesReplaced();
  }

  protected afterBytesReplaced(): void {}

  /** Deletes what expired from the byte store; called after each write of a commit or a restored batch. */
  async dropExpired(): Promise<void> {}

  /** Raises the observed time to a changelog record's (windowed stores; see SegmentedStore). */
  observeChangelogKey(_changelogKey: Buffer): void {}

  /**
   * Raises the stream time the store has observed. Session and window stores expire entries by their own
   * observed time (the largest session end / window start written or restored), as Kafka Streams' segmented
   * stores do, not by the task's; the task raises it once at start to the stream time it resumes from.
   */
  observe(_time: number): void {}

  /** Bounds the time the store expires by (the event-time mode; see SegmentedStore); nothing to bound here. */
  boundObservedTime(_bound: () => number): void {}

  /** The stream time the store has observed (-Infinity for stores that do not expire anything). */
  observedTime(): number {
    return Number.NEGATIVE_INFINITY;
  }

  protected abstract decode(bytes: Buffer): E;
  /** The LevelDB value of an entry; null when the entry is empty and its key should be deleted. */
  protected abstract encode(entry: E): Buffer | null;
  /** See CachedEntries.changesOf: an entry's record-level bytes, its changes forwarded to the listener. */
  protected abstract changesOf(keyBytes: Buffer, entry: E | undefined, local: readonly BytesEntry[], key: K): LoggedChange[];

  /**
   * What Kafka Streams' cache key adds to this store's changelog key (see cache-charge.ts): nothing for a
   * key-value store, whose changes are laid out as its cache entries are.
   */
  protected cacheKeyPrefixBytes(): number {
    return 0;
  }

  /** What a cached entry costs on the JS heap beyond its encoded size (see cache-charge.ts). */
  protected cacheHeapOverheadBytes(): number {
    return SESSION_OR_WINDOW_HEAP_OVERHEAD_BYTES;
  }

  /** The entry of a record key as the byte store holds it (one value under the key's bytes by default). */
  protected load(keyBytes: Buffer): E | undefined {
    const raw = this.bytes.get(keyBytes);
    return raw === undefined ? undefined : this.decode(raw);
  }

  /** The LevelDB entries that write one changed entry (its encoded value under its key's bytes by default). */
  protected toLocal(keyBytes: Buffer, entry: E | undefined): BytesEntry[] {
    return [[keyBytes, entry === undefined ? null : this.encode(entry)]];
  }

  protected read(key: K): E | undefined {
    return this.cache.read(key);
  }

  /** Replaces the entry of `key` (undefined deletes it). */
  protected write(key: K, entry: E | undefined): void {
    this.cache.write(key, entry);
  }

  /** Entries the byte store does not hold yet (see WriteCache.unwrittenEntries; undefined entry: deleted). */
  protected unwrittenEntries(): Array<[Buffer, E | undefined]> {
    return this.cache.unwrittenEntries();
  }

  /** True when the dirty entries alone fill the cache budget: the task should commit soon. */
  needsFlush(): boolean {
    return this.cache.needsFlush();
  }

  setCacheBudget(bytes: number): void {
    this.cache.setBudget(bytes);
  }

  /** See ManagedStore.setRecordTopics. */
  setRecordTopics(topics: readonly string[]): void {
    this.cache.setRecordTopics(topics);
  }

  /** Kafka Streams' charge per cached entry against the budget, as last measured (see cache-charge.ts). */
  get cacheChargePerEntry(): number {
    return this.cache.chargePerEntry;
  }

  /** Cache hits and misses of the store's reads and writes (the `cache-hit-ratio` metric). */
  hitRatio(): { hits: number; misses: number } {
    return { ...this.counters };
  }

  /**
   * Flushes the write cache through the layers below (see WriteCache.flush): with forwarding on, each change
   * is forwarded to the flush listener (once per entry, its latest value), as Kafka Streams' caching layer
   * forwards on flush; returns the LevelDB entries, for the commit to write.
   */
  flush(): BytesEntry[] {
    return this.cache.flush();
  }

  /** See ManagedStore.evict. */
  evict(): BytesEntry[] {
    return this.cache.evictColdest();
  }

  /** See ManagedStore.lastFlush. */
  get lastFlush(): number {
    return this.cache.lastFlush;
  }

  /** See ManagedStore.written. */
  written(flush: number): void {
    this.cache.written(flush);
    this.afterWritten();
  }

  protected afterWritten(): void {}

  /** Forgets every change since the last flush (an aborted transaction): the next read goes to LevelDB. */
  discardChanges(): void {
    this.cache.discardChanges();
    this.afterDiscard();
  }

  protected afterDiscard(): void {}

  /** Where a flush forwards the store's changes; set by the processor that owns the store, when caching is on. */
  protected listener: FlushListener<unknown, unknown> | undefined;

  setFlushListener(listener: FlushListener<unknown, unknown>): void {
    this.listener = listener;
  }

  /**
   * Whether the owning processor forwards its results through this store's flushes (Kafka Streams' record
   * cache: one result per entry and flush) rather than at once: on for the DSL's stores unless
   * `withCachingDisabled()`, off when the cache has no budget.
   */
  get cachingEnabled(): boolean {
    return this.definition.cachingEnabled === true && this.cache.budget > 0;
  }
}
