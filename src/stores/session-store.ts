import type { KeyValue } from '../processor/record.js';
import type { Windowed } from '../processor/windowed.js';
import type { Serde } from '../serdes/serde.js';
import {
  decodeSessions,
  encodeSessions,
  parseSessionChangelogKey,
  sessionChangelogKey,
  type SessionSlot,
} from './bucket-codec.js';
import type { BytesEntry, BytesStore } from './bytes-store.js';
import type { ChangeLogging } from './change-logging.js';
import type { ManagedSessionStore } from './managed-store.js';
import type { StoreDefinition } from '../processor/store-definition.js';
import { unpooled } from './unpooled.js';
import { SegmentedStore, type RawSlot, type SegmentedEntry } from './segmented-store.js';

/**
 * A session changed since the last flush: put (its latest value is logged) or removed (a tombstone is).
 * `unlogged`: created since the last flush, so never in the changelog; removing it leaves no trace.
 */
interface SessionChange {
  readonly start: number;
  readonly end: number;
  readonly unlogged: boolean;
}

/** The live sessions of one key, by end time, and its changes since the last flush, in the order they came. */
interface SessionBucket<V> extends SegmentedEntry<SessionSlot<V>> {
  changes?: SessionChange[];
}

/** A key has a handful of sessions and changes between two flushes: a scan beats building ids to hash. */
function changeIndex(changes: readonly SessionChange[] | undefined, start: number, end: number): number {
  if (changes === undefined) return -1;
  for (let i = 0; i < changes.length; i++) if (changes[i]!.start === start && changes[i]!.end === end) return i;
  return -1;
}

function slotIndex<V>(slots: readonly SessionSlot<V>[], start: number, end: number): number {
  for (let i = 0; i < slots.length; i++) if (slots[i]!.start === start && slots[i]!.end === end) return i;
  return -1;
}

/** Puts a session among a key's sessions, kept by end then start: a sort would copy the array on every put. */
function insertInOrder<V>(slots: SessionSlot<V>[], slot: SessionSlot<V>): void {
  let i = slots.length;
  while (i > 0 && (slots[i - 1]!.end > slot.end || (slots[i - 1]!.end === slot.end && slots[i - 1]!.start > slot.start))) i--;
  if (i === slots.length) slots.push(slot);
  else slots.splice(i, 0, slot);
}

/**
 * A session store (Kafka Streams' RocksDBSessionStore over a segmented store): segmented by session end,
 * one LevelDB value per key and segment holding that key's sessions of the segment (see SegmentedStore and
 * bucket-codec); the changelog carries one record per session with Kafka Streams' session key layout, and a
 * tombstone for each removed session. Sessions that ended more than `retentionMs` before the store's
 * observed time are never served, and their segments are dropped whole.
 */
export class CachingSessionStore<K, V>
  extends SegmentedStore<K, SessionSlot<V>, SessionBucket<V>>
  implements ManagedSessionStore<K, V>
{
  readonly kind = 'session' as const;
  private readonly valueSerde: Serde<V>;

  constructor(
    readonly definition: StoreDefinition,
    bytes: BytesStore,
    cacheBudgetBytes: number,
    logging?: ChangeLogging,
  ) {
    super(definition, bytes, cacheBudgetBytes, logging);
    this.valueSerde = definition.valueSerde as Serde<V>;
  }

  protected slotTime(slot: SessionSlot<V>): number {
    return slot.end;
  }

  protected decodeSegment(raw: Buffer): SessionSlot<V>[] {
    return decodeSessions(raw, (b) => this.valueSerde.deserialize(b));
  }

  protected encodeSegment(slots: readonly SessionSlot<V>[]): Buffer {
    return encodeSessions(slots, (v) => unpooled(this.valueSerde.serialize(v)));
  }

  protected entryOf(slots: SessionSlot<V>[]): SessionBucket<V> {
    return { slots };
  }

  protected parseChangelogKey(changelogKey: Buffer): { keyBytes: Buffer; start: number; end: number } {
    return parseSessionChangelogKey(changelogKey);
  }

  protected decodeRaw(raw: Buffer): RawSlot[] {
    return decodeSessions(raw, (b) => b);
  }

  protected encodeRaw(slots: readonly RawSlot[]): Buffer {
    return encodeSessions(slots, (b) => b);
  }

  protected changesOf(keyBytes: Buffer, bucket: SessionBucket<V> | undefined, _local: readonly BytesEntry[], key: K): BytesEntry[] {
    const changes = bucket?.changes;
    if (changes === undefined) return [];
    const records: BytesEntry[] = [];
    for (const { start, end } of changes) {
      const index = slotIndex(bucket!.slots, start, end);
      const session = index < 0 ? undefined : bucket!.slots[index]!;
      if (session !== undefined) session.bytes ??= unpooled(this.valueSerde.serialize(session.value));
      records.push([sessionChangelogKey(keyBytes, start, end), session === undefined ? null : session.bytes!]);
      // What is logged is what is forwarded: a changed session's latest value, or a tombstone for a logged one.
      this.listener?.({ key: { key, window: { start, end } }, value: session === undefined ? null : session.value, timestamp: end, headers: {} });
    }
    bucket!.changes = undefined;
    return records;
  }

  private live(key: K): SessionSlot<V>[] {
    const bucket = this.read(key);
    if (bucket === undefined) return [];
    const expiry = this.expiry();
    return bucket.slots.filter((s) => s.end > expiry);
  }

  private toResult(key: K, s: SessionSlot<V>): KeyValue<Windowed<K>, V> {
    return { key: { key, window: { start: s.start, end: s.end } }, value: s.value };
  }

  findSessions(key: K, earliestSessionEndTime: number, latestSessionStartTime: number): KeyValue<Windowed<K>, V>[] {
    // One pass, no intermediate arrays: this runs once per record of a session aggregation.
    const found: KeyValue<Windowed<K>, V>[] = [];
    const slots = this.read(key)?.slots;
    if (slots === undefined) return found;
    const expiry = this.expiry();
    for (const s of slots) {
      if (s.end > expiry && s.end >= earliestSessionEndTime && s.start <= latestSessionStartTime) found.push(this.toResult(key, s));
    }
    return found;
  }

  fetch(key: K): KeyValue<Windowed<K>, V>[] {
    return this.live(key).map((s) => this.toResult(key, s));
  }

  fetchSession(key: K, sessionStart: number, sessionEnd: number): V | undefined {
    return this.live(key).find((s) => s.start === sessionStart && s.end === sessionEnd)?.value;
  }

  /** Back into the cache; an expired session stays while it has a change to flush. */
  private writeBucket(key: K, bucket: SessionBucket<V>): void {
    this.writeEntry(key, bucket, (s) => changeIndex(bucket.changes, s.start, s.end) >= 0);
  }

  put(session: Windowed<K>, aggregate: V): void {
    const { start, end } = session.window;
    this.observe(end);
    const bucket = this.read(session.key) ?? { slots: [] };
    const index = slotIndex(bucket.slots, start, end);
    const change = changeIndex(bucket.changes, start, end);
    if (index >= 0) {
      const existing = bucket.slots[index]!;
      existing.value = aggregate;
      existing.bytes = undefined;
      if (change < 0) (bucket.changes ??= []).push({ start, end, unlogged: false });
    } else {
      insertInOrder(bucket.slots, { start, end, value: aggregate });
      // A change without a session was logged and then removed since the last flush: put back, it is still in
      // the changelog, so a later remove must log a tombstone. Only a truly new session is unlogged.
      if (change < 0) (bucket.changes ??= []).push({ start, end, unlogged: true });
    }
    this.touch(bucket, end);
    this.writeBucket(session.key, bucket);
  }

  remove(session: Windowed<K>): void {
    const { start, end } = session.window;
    this.observe(end);
    const bucket = this.read(session.key);
    if (bucket === undefined) return;
    const index = slotIndex(bucket.slots, start, end);
    if (index < 0) return;
    bucket.slots.splice(index, 1);
    this.touch(bucket, end);
    // A session that grew several times between two commits leaves no trace of its intermediate windows.
    const change = changeIndex(bucket.changes, start, end);
    if (change < 0) (bucket.changes ??= []).push({ start, end, unlogged: false });
    else if (bucket.changes![change]!.unlogged) bucket.changes!.splice(change, 1);
    this.writeBucket(session.key, bucket);
  }
}
