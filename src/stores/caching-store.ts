import type { Serde } from '../serdes/serde.js';
import type { BytesEntry, BytesStore } from './bytes-store.js';

/** Changes made since the last flush: what goes to LevelDB, and what goes to the changelog topic. */
export interface FlushResult {
  readonly local: BytesEntry[];
  readonly changelog: BytesEntry[];
}


interface Slot<E> {
  keyBytes: Buffer | undefined;
  entry: E | undefined;
  dirty: boolean;
}

/** An estimate of JS object overhead per cached entry, beyond its encoded size. */
const ENTRY_OVERHEAD_BYTES = 128;

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
  private readonly slots = new Map<unknown, Slot<E>>();
  private dirtyCount = 0;
  private averageEntryBytes = 256;
  private cacheHits = 0;
  private cacheMisses = 0;

  constructor(
    readonly name: string,
    protected readonly keySerde: Serde<K>,
    readonly bytes: BytesStore,
    private cacheBudgetBytes: number,
  ) {}

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
   * what `encode` returned for it.
   */
  protected abstract changelogFor(keyBytes: Buffer, entry: E | undefined, encoded: Buffer | null): BytesEntry[];

  /** Map key of the cache: primitive keys as they are, others by their bytes. */
  private idOf(key: K): unknown {
    return typeof key === 'string' || typeof key === 'number' ? key : this.keySerde.serialize(key).toString('latin1');
  }

  private slotOf(key: K): Slot<E> {
    const id = this.idOf(key);
    const slot = this.slots.get(id);
    if (slot !== undefined) {
      this.cacheHits++;
      // Re-insert to keep the Map in least-recently-used order.
      this.slots.delete(id);
      this.slots.set(id, slot);
      return slot;
    }
    this.cacheMisses++;
    const keyBytes = this.keySerde.serialize(key);
    const raw = this.bytes.get(keyBytes);
    const loaded: Slot<E> = { keyBytes, entry: raw === undefined ? undefined : this.decode(raw), dirty: false };
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
      this.dirtyCount++;
    }
  }

  /** True when the dirty entries alone fill the budget: the task should commit soon. */
  needsFlush(): boolean {
    return this.dirtyCount * (this.averageEntryBytes + ENTRY_OVERHEAD_BYTES) >= this.cacheBudgetBytes;
  }

  setCacheBudget(bytes: number): void {
    this.cacheBudgetBytes = bytes;
  }

  hitRatio(): { hits: number; misses: number } {
    return { hits: this.cacheHits, misses: this.cacheMisses };
  }

  /** Encodes every dirty entry into LevelDB entries and changelog records, and marks them clean. */
  flush(): FlushResult {
    const local: BytesEntry[] = [];
    const changelog: BytesEntry[] = [];
    if (this.dirtyCount === 0) return { local, changelog };
    let encodedBytes = 0;
    for (const slot of this.slots.values()) {
      if (!slot.dirty) continue;
      const keyBytes = slot.keyBytes!;
      const value = slot.entry === undefined ? null : this.encode(slot.entry);
      if (value !== null) encodedBytes += value.length + keyBytes.length;
      local.push([keyBytes, value]);
      for (const record of this.changelogFor(keyBytes, slot.entry, value)) changelog.push(record);
      slot.dirty = false;
    }
    if (local.length > 0) this.averageEntryBytes = 0.7 * this.averageEntryBytes + (0.3 * encodedBytes) / local.length;
    this.dirtyCount = 0;
    this.evict();
    return { local, changelog };
  }

  /** Forgets every change since the last flush (an aborted transaction): the next read goes to LevelDB. */
  discardChanges(): void {
    for (const [id, slot] of this.slots) if (slot.dirty) this.slots.delete(id);
    this.dirtyCount = 0;
    this.afterDiscard();
  }

  protected afterDiscard(): void {}

  /** Entries changed since the last flush, with their key bytes (undefined entry: deleted). */
  protected dirtyEntries(): Array<[Buffer, E | undefined]> {
    const out: Array<[Buffer, E | undefined]> = [];
    for (const slot of this.slots.values()) if (slot.dirty) out.push([slot.keyBytes!, slot.entry]);
    return out;
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
