import type { StreamRecord } from '../processor/record.js';
import type { Serde } from '../serdes/serde.js';
import type { BytesEntry } from './bytes-store.js';
import type { ChangeLogging, LoggedChange } from './change-logging.js';
import { unpooled } from './unpooled.js';

/**
 * Receives what a caching store forwards when it flushes: the latest change per entry, and (key-value stores)
 * the value it replaces, as it was at the last flush.
 */
export type FlushListener<K, V> = (record: StreamRecord<K, V | null>, oldValue?: V | null) => void;

/**
 * What the write cache asks of the typed store above it, which alone knows how its entries are laid out in
 * the layers below. Called only from the cache's own `read`, `write` and `flush`.
 */
export interface CachedEntries<K, E> {
  /** The entry of a record key as the byte store holds it; undefined when it has none. */
  load(keyBytes: Buffer): E | undefined;
  /** The LevelDB entries that write one changed entry. */
  toLocal(keyBytes: Buffer, entry: E | undefined): BytesEntry[];
  /**
   * The changes to one entry since the last flush as record-level bytes (Kafka Streams' byte-store layout:
   * a key's value, or one record per changed session or window; a null value for a deletion), forwarding
   * each change to the flush listener; called once per dirty entry, after `toLocal`, with what it returned.
   */
  changesOf(keyBytes: Buffer, entry: E | undefined, local: readonly BytesEntry[], key: K): LoggedChange[];
}

/** Counters the cache records into, owned by the store's typed layer, which reports them as metrics. */
export interface CacheCounters {
  hits: number;
  misses: number;
}

interface Slot<K, E> {
  key: K;
  keyBytes: Buffer;
  entry: E | undefined;
  dirty: boolean;
  /** The flush period of its last move to the most-recent end (see slotOf). */
  usedIn: number;
  /** The flush that last wrote it out (0: none); unwritten until `written` reaches it (see evict). */
  flushedIn: number;
  /** The cache's write count at its last write: the least recently written dirty entries are evicted first. */
  lastWrite: number;
}

/**
 * An estimate of what a cached entry costs in JS objects beyond its encoded size (the Map entry, slot, key,
 * decoded values and their fields): measured in the catch-up benchmark, 20 000 more cached session entries
 * took 29 MB more live heap, about 1.4 KiB each against a few hundred encoded bytes. (128 counted a tenth of
 * that, so a "10 MB" cache held several times as much, and grew with the keys of a backlog.)
 */
const ENTRY_OVERHEAD_BYTES = 1024;

/**
 * The write cache of a store (Kafka Streams' caching layer): decoded entries by record key, in
 * least-recently-used order. Reads hit the cache, or load one entry from below. Writes mark the entry dirty;
 * `flush` encodes the dirty entries once, however often they changed (so a hot session costs one LevelDB
 * write and a few changelog records per commit, not one per event), in the order they became dirty, lets the
 * store forward their latest values, hands their record-level bytes to the change-logging layer below (when
 * the store is logged), and evicts clean entries beyond the byte budget. The LevelDB entries it returns,
 * for the commit to write with the changelog position (see StoreCommit). It knows neither serdes, nor
 * LevelDB, nor changelog topics.
 *
 * The budget is in bytes, as Kafka Streams' cache is; entries are counted by their encoded size, measured at
 * each flush, plus a fixed overhead. Each read or write of a key counts as a hit or a miss in the counters
 * given by the typed layer.
 */
export class WriteCache<K, E> {
  private readonly slots = new Map<unknown, Slot<K, E>>();
  /** Dirty slots in the order they became dirty: the order a flush logs and forwards them in. */
  private dirty: Array<Slot<K, E>> = [];
  private averageEntryBytes = 256;
  /** Flushes so far: eviction runs only at a flush, so recency within one flush period does not matter. */
  private flushPeriod = 0;
  /** Every flush up to this one has reached the byte store (see `written`). */
  private writtenThrough = 0;
  /** Slots of flushes not yet written to the byte store, by flush: their values exist only here. */
  private unwritten: Array<{ flush: number; slots: Array<Slot<K, E>> }> = [];
  /** Writes so far (see Slot.lastWrite). */
  private writes = 0;

  constructor(
    private readonly keySerde: Serde<K>,
    private readonly entries: CachedEntries<K, E>,
    private budgetBytes: number,
    private readonly logging: ChangeLogging | undefined,
    private readonly counters: CacheCounters,
  ) {}

  /** The topic the flushes log to; undefined when the store is not logged. */
  get changelogTopic(): string | undefined {
    return this.logging?.topic;
  }

  get budget(): number {
    return this.budgetBytes;
  }

  setBudget(bytes: number): void {
    this.budgetBytes = bytes;
  }

  /** Map key of the cache: primitive keys as they are, others by their bytes. */
  private idOf(key: K): unknown {
    return typeof key === 'string' || typeof key === 'number' ? key : this.keySerde.serialize(key).toString('latin1');
  }

  private slotOf(key: K): Slot<K, E> {
    const id = this.idOf(key);
    const slot = this.slots.get(id);
    if (slot !== undefined) {
      this.counters.hits++;
      // Re-insert to keep the Map in least-recently-used order, once per flush period (eviction only runs at
      // a flush, and entries used since the last one then all come after those that were not).
      if (slot.usedIn !== this.flushPeriod) {
        slot.usedIn = this.flushPeriod;
        this.slots.delete(id);
        this.slots.set(id, slot);
      }
      return slot;
    }
    this.counters.misses++;
    // Kept as long as the entry is cached: in memory of its own, not a slice of a shared slab.
    const keyBytes = unpooled(this.keySerde.serialize(key));
    const loaded: Slot<K, E> = { key, keyBytes, entry: this.entries.load(keyBytes), dirty: false, usedIn: this.flushPeriod, flushedIn: 0, lastWrite: 0 };
    this.slots.set(id, loaded);
    return loaded;
  }

  read(key: K): E | undefined {
    return this.slotOf(key).entry;
  }

  /** Replaces the entry of `key` (undefined deletes it). */
  write(key: K, entry: E | undefined): void {
    const slot = this.slotOf(key);
    slot.entry = entry;
    slot.lastWrite = ++this.writes;
    if (!slot.dirty) {
      slot.dirty = true;
      this.dirty.push(slot);
    }
  }

  /** True when the dirty entries alone fill the budget: the task should commit soon. */
  needsFlush(): boolean {
    return this.dirty.length * (this.averageEntryBytes + ENTRY_OVERHEAD_BYTES) >= this.budgetBytes;
  }

  /**
   * Entries the byte store does not hold yet, with their key bytes (undefined entry: deleted): those changed
   * since the last flush, and those of flushes not yet written. A full read is the byte store overlaid with
   * these.
   */
  unwrittenEntries(): Array<[Buffer, E | undefined]> {
    const result: Array<[Buffer, E | undefined]> = [];
    for (const { flush, slots } of this.unwritten) {
      // A slot flushed again later, or dirty again, is taken once: from its last flush, or below.
      for (const slot of slots) if (slot.flushedIn === flush && !slot.dirty) result.push([slot.keyBytes, slot.entry]);
    }
    for (const slot of this.dirty) result.push([slot.keyBytes, slot.entry]);
    return result;
  }

  /** The number of the last flush, to hand to `written` once its entries are in the byte store. */
  get lastFlush(): number {
    return this.flushPeriod;
  }

  /**
   * The entries of every flush up to `flush` are in the byte store now: their slots may be evicted, since a
   * read that misses the cache loads the same values from below.
   */
  written(flush: number): void {
    if (flush <= this.writtenThrough) return;
    this.writtenThrough = flush;
    while (this.unwritten.length > 0 && this.unwritten[0]!.flush <= flush) this.unwritten.shift();
  }

  /**
   * Encodes every dirty entry into LevelDB entries and record-level changes, in the order the entries became
   * dirty, and marks them clean; the changes go to the change-logging layer, the LevelDB entries are returned.
   */
  flush(): BytesEntry[] {
    return this.flushSlots(this.takeDirty(this.dirty.length));
  }

  /**
   * Flushes only the least recently written quarter of the dirty entries, as `flush` does (Kafka Streams'
   * cache evicts its least recently used entries when full): the entries still changing stay dirty, so a
   * session that is still growing is not logged now and tombstoned at the next flush. Not a commit point:
   * the caller writes the LevelDB entries once the changelog records are acknowledged, as after a flush.
   * (A quarter: the colder the evicted entries, the fewer of them change again and are logged twice; each
   * eviction costs one produce and one LevelDB batch. See README "What a restore reads".)
   */
  evictColdest(): BytesEntry[] {
    return this.flushSlots(this.takeDirty(Math.ceil(this.dirty.length / 4)));
  }

  /** Takes the `count` least recently written dirty slots out of the dirty list, in the order they became dirty. */
  private takeDirty(count: number): Array<Slot<K, E>> {
    const dirty = this.dirty;
    if (count >= dirty.length) {
      this.dirty = [];
      return dirty;
    }
    // Write counts are unique: exactly `count` slots were written before the cut-off.
    const cutoff = dirty.map((slot) => slot.lastWrite).sort((a, b) => a - b)[count]!;
    const taken: Array<Slot<K, E>> = [];
    const kept: Array<Slot<K, E>> = [];
    for (const slot of dirty) (slot.lastWrite < cutoff ? taken : kept).push(slot);
    this.dirty = kept;
    return taken;
  }

  private flushSlots(dirty: Array<Slot<K, E>>): BytesEntry[] {
    const local: BytesEntry[] = [];
    if (dirty.length === 0) return local;
    const changes: LoggedChange[] = [];
    this.flushPeriod++;
    let encodedBytes = 0;
    for (const slot of dirty) {
      slot.flushedIn = this.flushPeriod;
      const entries = this.entries.toLocal(slot.keyBytes, slot.entry);
      for (const entry of entries) {
        if (entry[1] !== null) encodedBytes += entry[1].length + entry[0].length;
        local.push(entry);
      }
      for (const change of this.entries.changesOf(slot.keyBytes, slot.entry, entries, slot.key)) changes.push(change);
      slot.dirty = false;
    }
    this.averageEntryBytes = 0.7 * this.averageEntryBytes + (0.3 * encodedBytes) / dirty.length;
    this.unwritten.push({ flush: this.flushPeriod, slots: dirty });
    this.evict();
    this.logging?.log(changes);
    return local;
  }

  /**
   * Forgets every change since the last flush (an aborted transaction): the next read loads from below.
   * Only under exactly-once, where a task processes nothing while its commit writes: no flush is unwritten.
   */
  discardChanges(): void {
    for (const [id, slot] of this.slots) if (slot.dirty) this.slots.delete(id);
    this.dirty = [];
  }

  /** Forgets everything (the bytes below were replaced). */
  clear(): void {
    this.slots.clear();
    this.dirty = [];
    this.unwritten = [];
  }

  private evict(): void {
    const maxEntries = Math.max(16, Math.floor(this.budgetBytes / (this.averageEntryBytes + ENTRY_OVERHEAD_BYTES)));
    if (this.slots.size <= maxEntries) return;
    let excess = this.slots.size - maxEntries;
    for (const [id, slot] of this.slots) {
      if (excess <= 0) break;
      // Not before the byte store holds its value: a commit writes it only after the changelog's acks, and
      // processing goes on meanwhile (at-least-once), so a read would load the value before this flush.
      if (slot.dirty || slot.flushedIn > this.writtenThrough) continue;
      this.slots.delete(id);
      excess--;
    }
  }
}
