import type { Serde } from '../serdes/serde.js';
import type { StoreDefinition } from '../processor/store-definition.js';
import type { BytesEntry, BytesStore } from './bytes-store.js';
import type { ChangeLogging } from './change-logging.js';
import { TypedStore } from './typed-store.js';
import { readInt64, writeInt64 } from './int64.js';
import { KeyFilter } from './key-filter.js';
import { OBSERVED_TIME_KEY, Segments } from './segments.js';
import { SEGMENTED_CACHE_KEY_PREFIX_BYTES } from './cache-charge.js';

/** A session or window as restoration handles it: its bounds and its changelog value, never decoded. */
export interface RawSlot {
  start: number;
  /** The time it is segmented by: a session's end, a window's start. */
  end: number;
  value: Buffer;
}

/** What a segmented store caches per record key: its live sessions or windows, oldest segment first. */
export interface SegmentedEntry<S> {
  slots: S[];
  /** Segments of this key changed since the last flush: what the flush writes. */
  changedSegments?: Set<number>;
}

/**
 * The plumbing shared by session and window stores (Kafka Streams' AbstractRocksDBSegmentedBytesStore):
 * entries live in time segments (see Segments), one LevelDB value per record key and segment holding its
 * sessions or windows of that segment; the cache above holds a record key's live slots of every segment.
 * The store expires by its own observed time (the largest slot time written or restored), kept beside the
 * data so a restarted store expires as before; expired segments are removed whole by `dropExpired`, and
 * writes or restored records that fall in an expired segment are skipped, as Kafka Streams skips them.
 */
export abstract class SegmentedStore<K, S, E extends SegmentedEntry<S>> extends TypedStore<K, E> {
  protected readonly segments: Segments;
  private observed = Number.NEGATIVE_INFINITY;
  private observedWritten = Number.NEGATIVE_INFINITY;
  private bound: (() => number) | undefined;
  /**
   * Event-time mode: a time at or below every slot the store holds (kept beside the observed time). With
   * expiry held back by the bound, data may lie below `observed − retention`; reads look down to it.
   */
  private lowest = Number.POSITIVE_INFINITY;
  private lowestWritten = Number.POSITIVE_INFINITY;
  /** Everything below this segment is already removed from the byte store. */
  private droppedBelow = Number.NEGATIVE_INFINITY;
  /**
   * While the store is restored from the changelog's beginning into empty bytes: the local keys written so
   * far. A key it has never seen is not on disk, so restoring it needs no read. Undefined until the first
   * restored batch decides; null once anything else may have written (reads always).
   */
  private restoredKeys: KeyFilter | null | undefined;

  constructor(definition: StoreDefinition, bytes: BytesStore, cacheBudgetBytes: number, logging: ChangeLogging | undefined) {
    super(definition.name, definition.keySerde as Serde<K>, bytes, cacheBudgetBytes, logging);
    this.segments = new Segments(definition.retentionMs ?? Number.POSITIVE_INFINITY);
    this.readObservedTime();
  }

  /** Kafka Streams' cache keys of session and window stores start with the segment id. */
  protected override cacheKeyPrefixBytes(): number {
    return SEGMENTED_CACHE_KEY_PREFIX_BYTES;
  }

  /** The time a slot is segmented and expired by. */
  protected abstract slotTime(slot: S): number;
  protected abstract decodeSegment(raw: Buffer): S[];
  protected abstract encodeSegment(slots: readonly S[]): Buffer;
  protected abstract entryOf(slots: S[]): E;
  /** A changelog key's record key and slot bounds (a window's `end` is its start: its segment time). */
  protected abstract parseChangelogKey(changelogKey: Buffer): { keyBytes: Buffer; start: number; end: number };
  protected abstract decodeRaw(raw: Buffer): RawSlot[];
  protected abstract encodeRaw(slots: readonly RawSlot[]): Buffer;

  private readObservedTime(): void {
    this.restoredKeys = undefined;
    const raw = this.bytes.get(OBSERVED_TIME_KEY);
    this.observed = raw === undefined ? Number.NEGATIVE_INFINITY : readInt64(raw, 0);
    this.observedWritten = this.observed;
    // Written without the mode (8 bytes), the store expired by its observed time: nothing lies below.
    // Nothing observed, nothing held: the first observe sets it.
    if (raw !== undefined && raw.length >= 16) this.lowest = readInt64(raw, 8);
    else this.lowest = Number.isFinite(this.observed) ? this.observed - this.segments.retentionMs : Number.POSITIVE_INFINITY;
    this.lowestWritten = this.lowest;
    this.droppedBelow = Number.NEGATIVE_INFINITY;
  }

  protected override afterBytesReplaced(): void {
    this.readObservedTime();
  }

  /** The flush that wrote the observed time may be the one thrown away: write it with the next one again. */
  protected override afterDiscard(): void {
    this.observedWritten = Number.NEGATIVE_INFINITY;
    this.lowestWritten = Number.POSITIVE_INFINITY;
  }

  /**
   * The event-time mode's bound: the store expires by min(its observed time, the task's stream time), so a
   * record that is not late for the task still finds the sessions and windows it belongs to. Undefined
   * (Kafka Streams' behaviour): by its own observed time only. The persisted observed time stays unbounded.
   */
  override boundObservedTime(bound: () => number): void {
    this.bound = bound;
  }

  private expiryTime(): number {
    const bound = this.bound;
    return bound === undefined ? this.observed : Math.min(this.observed, bound());
  }

  override observe(time: number): void {
    if (time > this.observed) this.observed = time;
    if (time < this.lowest) this.lowest = time;
  }

  /**
   * The segments a read looks into. Kafka Streams': the live ones at the observed time. Event-time mode:
   * from the lowest live at the bounded expiry time (but not below any data) up to the observed time's, as
   * records of fast upstream tasks may lie far ahead of the bound.
   */
  private readRange(): { from: number; to: number } {
    if (this.bound === undefined) return this.segments.liveSegments(this.observed);
    if (!Number.isFinite(this.observed)) return { from: 1, to: 0 };
    const from = Math.max(this.segments.minLiveSegment(this.expiryTime()), this.segments.segmentOf(this.lowest));
    // Never unbounded (nothing is held below a finite `lowest` once anything was observed).
    if (!Number.isFinite(from)) return this.segments.liveSegments(this.observed);
    return { from, to: this.segments.segmentOf(this.observed) };
  }

  override observedTime(): number {
    return this.expiryTime();
  }

  override observeChangelogKey(changelogKey: Buffer): void {
    this.observe(this.parseChangelogKey(changelogKey).end);
  }

  /**
   * Slots with a time at or before this are expired: Kafka Streams' segmented stores serve an entry iff its
   * time >= observed time - retention + 1, by the store's own observed time (records filtered or dropped
   * upstream never move it).
   */
  protected expiry(): number {
    return this.expiryTime() - this.segments.retentionMs;
  }

  protected segmentOfSlot(slot: S): number {
    return this.segments.segmentOf(this.slotTime(slot));
  }

  /** Marks the segment of `time` as changed in the entry (its LevelDB value is rewritten at the flush). */
  protected touch(entry: E, time: number): void {
    (entry.changedSegments ??= new Set()).add(this.segments.segmentOf(time));
  }

  /**
   * Puts a changed entry back into the cache. Slots that expired leave it, except changed ones, which stay
   * until flushed (Kafka Streams' cache keeps, and forwards, them); the others leave the cache only, as
   * their segment is dropped from disk whole.
   */
  protected writeEntry(key: K, entry: E, changed: (slot: S) => boolean): void {
    const expiry = this.expiry();
    if (entry.slots.length > 0 && this.slotTime(entry.slots[0]!) <= expiry) {
      entry.slots = entry.slots.filter((slot) => this.slotTime(slot) > expiry || changed(slot));
    }
    this.write(key, entry);
  }

  protected decode(raw: Buffer): E {
    return this.entryOf(this.decodeSegment(raw));
  }

  protected encode(entry: E): Buffer | null {
    return entry.slots.length === 0 ? null : this.encodeSegment(entry.slots);
  }

  /** A record key's slots: one point read per live segment (a handful: retention / interval + 1). */
  protected override load(keyBytes: Buffer): E | undefined {
    const { from, to } = this.readRange();
    let slots: S[] | undefined;
    for (let segment = from; segment <= to; segment++) {
      const raw = this.bytes.get(this.segments.key(segment, keyBytes));
      if (raw === undefined) continue;
      const found = this.decodeSegment(raw);
      slots = slots === undefined ? found : slots.concat(found);
    }
    return slots === undefined ? undefined : this.entryOf(slots);
  }

  protected override toLocal(keyBytes: Buffer, entry: E | undefined): BytesEntry[] {
    this.restoredKeys = null;
    const changed = entry?.changedSegments;
    if (entry === undefined || changed === undefined) return [];
    entry.changedSegments = undefined;
    const minLive = this.segments.minLiveSegment(this.expiryTime());
    const local: BytesEntry[] = [];
    for (const segment of changed) {
      // A write to an expired segment is dropped, as Kafka Streams drops it (it is still logged and forwarded).
      if (segment < minLive) continue;
      const slots = entry.slots.filter((s) => this.segmentOfSlot(s) === segment);
      local.push([this.segments.key(segment, keyBytes), slots.length === 0 ? null : this.encodeSegment(slots)]);
    }
    return local;
  }

  override flush(): BytesEntry[] {
    const local = super.flush();
    const observed = this.observedEntry();
    if (observed !== undefined) local.push(observed);
    return local;
  }

  override evict(): BytesEntry[] {
    const local = super.evict();
    const observed = this.observedEntry();
    if (observed !== undefined) local.push(observed);
    return local;
  }

  private observedEntry(): BytesEntry | undefined {
    const withLowest = this.bound !== undefined && Number.isFinite(this.lowest);
    if (!(this.observed > this.observedWritten) && !(withLowest && this.lowest < this.lowestWritten)) return undefined;
    this.observedWritten = this.observed;
    const value = Buffer.allocUnsafe(withLowest ? 16 : 8);
    writeInt64(value, this.observed, 0);
    if (withLowest) {
      writeInt64(value, this.lowest, 8);
      this.lowestWritten = this.lowest;
    }
    return [OBSERVED_TIME_KEY, value];
  }

  /** Removes every segment that expired at the observed time: one range delete from the lowest key up. */
  override async dropExpired(): Promise<void> {
    const minLive = this.segments.minLiveSegment(this.expiryTime());
    if (!(minLive > this.droppedBelow)) return;
    this.droppedBelow = minLive;
    if (this.bound !== undefined && minLive * this.segments.intervalMs > this.lowest) this.lowest = minLive * this.segments.intervalMs;
    await this.bytes.clearRange(OBSERVED_TIME_KEY, this.segments.segmentStart(minLive));
  }

  /**
   * Changelog records as LevelDB entries, one per record key and segment: each record's value is copied as it
   * is (never deserialized) into its segment's value. Records whose segment already expired at the time
   * observed so far are skipped (Kafka Streams' `getOrCreateSegmentIfLive`), and so are segments that expire
   * within the batch. Restoring from the changelog's beginning (no changelog position yet: empty or wiped
   * bytes), a group is read from disk only if this restoration may have written it (see restoredKeys).
   */
  restoreEntries(records: readonly BytesEntry[]): BytesEntry[] {
    if (this.restoredKeys === undefined) this.restoredKeys = this.bytes.changelogPosition() === undefined ? new KeyFilter() : null;
    const written = this.restoredKeys;
    // By segment, then by record key (as a latin1 string): the local key is built once per group.
    const groups = new Map<number, Map<string, { localKey: Buffer; slots: RawSlot[] }>>();
    for (const [changelogKey, value] of records) {
      const { keyBytes, start, end } = this.parseChangelogKey(changelogKey);
      this.observe(end);
      const segment = this.segments.segmentOf(end);
      if (segment < this.segments.minLiveSegment(this.expiryTime())) continue;
      let ofSegment = groups.get(segment);
      if (ofSegment === undefined) groups.set(segment, (ofSegment = new Map<string, { localKey: Buffer; slots: RawSlot[] }>()));
      const id = keyBytes.toString('latin1');
      let group = ofSegment.get(id);
      if (group === undefined) {
        const localKey = this.segments.key(segment, keyBytes);
        const raw = written === null || written.mightContain(localKey) ? this.bytes.get(localKey) : undefined;
        group = { localKey, slots: raw === undefined ? [] : this.decodeRaw(raw) };
        ofSegment.set(id, group);
      }
      upsertRaw(group.slots, start, end, value);
    }
    const minLive = this.segments.minLiveSegment(this.expiryTime());
    const entries: BytesEntry[] = [];
    for (const [segment, ofSegment] of groups) {
      if (segment < minLive) continue;
      for (const { localKey, slots } of ofSegment.values()) {
        entries.push([localKey, slots.length === 0 ? null : this.encodeRaw(slots)]);
        written?.add(localKey);
      }
    }
    const observed = this.observedEntry();
    if (observed !== undefined) entries.push(observed);
    return entries;
  }
}

/** Applies one changelog record to a segment's slots, kept by end then start. */
function upsertRaw(slots: RawSlot[], start: number, end: number, value: Buffer | null): void {
  let index = slots.length;
  while (index > 0 && (slots[index - 1]!.end > end || (slots[index - 1]!.end === end && slots[index - 1]!.start > start))) index--;
  const same = index > 0 && slots[index - 1]!.end === end && slots[index - 1]!.start === start;
  if (value === null) {
    if (same) slots.splice(index - 1, 1);
  } else if (same) {
    slots[index - 1] = { start, end, value };
  } else {
    slots.splice(index, 0, { start, end, value });
  }
}
