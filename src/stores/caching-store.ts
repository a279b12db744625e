import type { StreamRecord } from '../processor/record.js';
import type { Serde } from '../serdes/serde.js';
import type { BytesEntry, BytesStore } from './bytes-store.js';
import type { StoreDefinition } from '../processor/store-definition.js';
import { unpooled } from './unpooled.js';

/** Changes made since the last flush: what goes to LevelDB, and what goes to the changelog topic. */
export interface FlushResult {
  readonly local: BytesEntry[];
  readonly changelog: BytesEntry[];
}


interface Slot<K, E> {
  key: K;
  keyBytes: Buffer | undefined;
  entry: E | undefined;
  dirty: boolean;
  /** The flush period of its last move to the most-recent end (see slotOf). */
  usedIn: number;
}

/**
 * Receives what a caching store forwards when it flushes: the latest change per entry, and (key-value stores)
 * the value it replaces, as it was at the last flush.
 */
export type FlushListener<K, V> = (record: StreamRecord<K, V | null>, oldValue?: V | null) => void;

/**
 * An estimate of what a cached entry costs in JS objects beyond its encoded size (the Map entry, slot, key,
 * decoded values and their fields): measured in the catch-up benchmark, 20 000 more cached session entries
 * took 29 MB more live heap, about 1.4 KiB each against a few hundred encoded bytes. (128 counted a tenth of
 * that, so a "10 MB" cache held several times as much, and grew with the keys of a backlog.)
 */
const ENTRY_OVERHEAD_BYTES = 1024;

/**
 * The write cache shared by all typed stores: decoded entries by record key, in least-recently-used order.
 * Reads hit the cache, or load one entry with a synchronous point read. Writes mark the entry dirty; `flush`
 * encodes the dirty entries once, however often they changed (so a hot session costs one LevelDB write and
 * a few changelog records per commit, not one per event), and evicts clean entries beyond the byte budget.
 *
 * The budget is in bytes, as Kafka Streams' cache is; entries are counted by their encoded size, measured at
 * each flush, plus a fixed overhead.
 */
export abstract class CachingStore<K, E> {
  private readonly slots = new Map<unknown, Slot<K, E>>();
  /** Dirty slots in the order they became dirty: the order a flush logs and forwards them in. */
  private dirty: Array<Slot<K, E>> = [];
  private averageEntryBytes = 256;
  private cacheHits = 0;
  private cacheMisses = 0;
  /** Flushes so far: eviction runs only at a flush, so recency within one flush period does not matter. */
  private flushPeriod = 0;

  abstract readonly definition: StoreDefinition;

  constructor(
    readonly name: string,
    protected readonly keySerde: Serde<K>,
    private bytesStore: BytesStore,
    private cacheBudgetBytes: number,
  ) {}

  get bytes(): BytesStore {
    return this.bytesStore;
  }

  /** Puts the store over other bytes (a wiped store's fresh files): nothing cached survives. */
  replaceBytes(fresh: BytesStore): void {
    this.bytesStore = fresh;
    this.slots.clear();
    this.dirty = [];
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

  /** The stream time the store has observed (-Infinity for stores that do not expire anything). */
  observedTime(): number {
    return Number.NEGATIVE_INFINITY;
  }

  protected abstract decode(bytes: Buffer): E;
  /** The LevelDB value of an entry; null when the entry is empty and its key should be deleted. */
  protected abstract encode(entry: E): Buffer | null;
  /**
   * Changelog records for the changes to one entry since the last flush; called once per dirty entry with
   * the LevelDB entries `toLocal` made of it.
   */
  protected abstract changelogFor(keyBytes: Buffer, entry: E | undefined, local: readonly BytesEntry[], key: K): BytesEntry[];

  /** The entry of a record key as the byte store holds it (one value under the key's bytes by default). */
  protected load(keyBytes: Buffer): E | undefined {
    const raw = this.bytes.get(keyBytes);
    return raw === undefined ? undefined : this.decode(raw);
  }

  /** The LevelDB entries that write one changed entry (its encoded value under its key's bytes by default). */
  protected toLocal(keyBytes: Buffer, entry: E | undefined): BytesEntry[] {
    return [[keyBytes, entry === undefined ? null : this.encode(entry)]];
  }

  /** Map key of the cache: primitive keys as they are, others by their bytes. */
  private idOf(key: K): unknown {
    return typeof key === 'string' || typeof key === 'number' ? key : this.keySerde.serialize(key).toString('latin1');
  }

  private slotOf(key: K): Slot<K, E> {
    const id = this.idOf(key);
    const slot = this.slots.get(id);
    if (slot !== undefined) {
      this.cacheHits++;
      // Re-insert to keep the Map in least-recently-used order, once per flush period (eviction only runs at
      // a flush, and entries used since the last one then all come after those that were not).
      if (slot.usedIn !== this.flushPeriod) {
        slot.usedIn = this.flushPeriod;
        this.slots.delete(id);
        this.slots.set(id, slot);
      }
      return slot;
    }
    this.cacheMisses++;
    // Kept as long as the entry is cached: in memory of its own, not a slice of a shared slab.
    const keyBytes = unpooled(this.keySerde.serialize(key));
    const loaded: Slot<K, E> = { key, keyBytes, entry: this.load(keyBytes), dirty: false, usedIn: this.flushPeriod };
    this.slots.set(id, loaded);
    return loaded;
  }

  protected read(key: K): E | undefined {
    return this.slotOf(key).entry;
  }

  /** Replaces the entry of `key` (undefined deletes it). */
  protected write(key: K, entry: E | undefined): void {
    const slot = this.slotOf(key);
    slot.entry = entry;
    if (!slot.dirty) {
      slot.dirty = true;
      this.dirty.push(slot);
    }
  }

  /** True when the dirty entries alone fill the budget: the task should commit soon. */
  needsFlush(): boolean {
    return this.dirty.length * (this.averageEntryBytes + ENTRY_OVERHEAD_BYTES) >= this.cacheBudgetBytes;
  }

  setCacheBudget(bytes: number): void {
    this.cacheBudgetBytes = bytes;
  }

  hitRatio(): { hits: number; misses: number } {
    return { hits: this.cacheHits, misses: this.cacheMisses };
  }

  /**
   * Encodes every dirty entry into LevelDB entries and changelog records, in the order the entries became
   * dirty, and marks them clean. With forwarding on, each change is also forwarded to the flush listener
   * (once per entry, its latest value), as Kafka Streams' caching layer forwards on flush.
   */
  flush(): FlushResult {
    const local: BytesEntry[] = [];
    const changelog: BytesEntry[] = [];
    if (this.dirty.length === 0) return { local, changelog };
    this.flushPeriod++;
    let encodedBytes = 0;
    const dirty = this.dirty;
    this.dirty = [];
    for (const slot of dirty) {
      const keyBytes = slot.keyBytes!;
      const entries = this.toLocal(keyBytes, slot.entry);
      for (const entry of entries) {
        if (entry[1] !== null) encodedBytes += entry[1].length + entry[0].length;
        local.push(entry);
      }
      for (const record of this.changelogFor(keyBytes, slot.entry, entries, slot.key)) changelog.push(record);
      slot.dirty = false;
    }
    this.averageEntryBytes = 0.7 * this.averageEntryBytes + (0.3 * encodedBytes) / dirty.length;
    this.evict();
    return { local, changelog };
  }

  /** Forgets every change since the last flush (an aborted transaction): the next read goes to LevelDB. */
  discardChanges(): void {
    for (const [id, slot] of this.slots) if (slot.dirty) this.slots.delete(id);
    this.dirty = [];
    this.afterDiscard();
  }

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
    return this.definition.cachingEnabled === true && this.cacheBudgetBytes > 0;
  }

  protected afterDiscard(): void {}

  /** Entries changed since the last flush, with their key bytes (undefined entry: deleted). */
  protected dirtyEntries(): Array<[Buffer, E | undefined]> {
    return this.dirty.map((slot) => [slot.keyBytes!, slot.entry]);
  }

  private evict(): void {
    const maxEntries = Math.max(16, Math.floor(this.cacheBudgetBytes / (this.averageEntryBytes + ENTRY_OVERHEAD_BYTES)));
    if (this.slots.size <= maxEntries) return;
    let excess = this.slots.size - maxEntries;
    for (const [id, slot] of this.slots) {
      if (excess <= 0) break;
      if (slot.dirty) continue;
      this.slots.delete(id);
      excess--;
    }
  }
}
