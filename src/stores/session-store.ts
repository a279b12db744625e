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
import type { ManagedStore } from './managed-store.js';
import type { StoreDefinition } from '../processor/store-definition.js';
import type { SessionStore } from './state-store.js';
import { unpooled } from './unpooled.js';
import { SegmentedStore, type RawSlot, type SegmentedEntry } from './segmented-store.js';

/** The live sessions of one key, by end time, and which of them changed since the last flush (as `start:end`). */
interface SessionBucket<V> extends SegmentedEntry<SessionSlot<V>> {
  changed?: Set<string>;
  /** Sessions created since the last flush: never logged, so removing one needs no tombstone. */
  unlogged?: Set<string>;
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
  implements SessionStore<K, V>, ManagedStore
{
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
    if (bucket?.changed === undefined) return [];
    const records: BytesEntry[] = [];
    for (const id of bucket.changed) {
      const colon = id.indexOf(':');
      const start = Number(id.slice(0, colon));
      const end = Number(id.slice(colon + 1));
      const session = bucket.slots.find((s) => s.start === start && s.end === end);
      if (session !== undefined) session.bytes ??= unpooled(this.valueSerde.serialize(session.value));
      records.push([sessionChangelogKey(keyBytes, start, end), session === undefined ? null : session.bytes!]);
      // What is logged is what is forwarded: a changed session's latest value, or a tombstone for a logged one.
      this.listener?.({ key: { key, window: { start, end } }, value: session === undefined ? null : session.value, timestamp: end, headers: {} });
    }
    bucket.changed = undefined;
    bucket.unlogged = undefined;
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

  private mutate(key: K, change: (bucket: SessionBucket<V>) => boolean): void {
    const bucket = this.read(key) ?? { slots: [] };
    if (!change(bucket)) return;
    this.writeEntry(key, bucket, (s) => bucket.changed?.has(`${s.start}:${s.end}`) === true);
  }

  put(session: Windowed<K>, aggregate: V): void {
    const { start, end } = session.window;
    this.observe(end);
    this.mutate(session.key, (bucket) => {
      const existing = bucket.slots.find((s) => s.start === start && s.end === end);
      const id = `${start}:${end}`;
      if (existing !== undefined) {
        existing.value = aggregate;
        existing.bytes = undefined;
      } else {
        insertInOrder(bucket.slots, { start, end, value: aggregate });
        // An id that is changed but absent was logged and then removed since the last flush: put back, it is
        // still in the changelog, so a later remove must log a tombstone. Only a truly new id is unlogged.
        if (bucket.changed?.has(id) !== true) (bucket.unlogged ??= new Set()).add(id);
      }
      (bucket.changed ??= new Set()).add(id);
      this.touch(bucket, end);
      return true;
    });
  }

  remove(session: Windowed<K>): void {
    const { start, end } = session.window;
    this.observe(end);
    this.mutate(session.key, (bucket) => {
      const index = bucket.slots.findIndex((s) => s.start === start && s.end === end);
      if (index < 0) return false;
      bucket.slots.splice(index, 1);
      const id = `${start}:${end}`;
      this.touch(bucket, end);
      // A session that grew several times between two commits leaves no trace of its intermediate windows.
      if (bucket.unlogged?.delete(id) === true) bucket.changed?.delete(id);
      else (bucket.changed ??= new Set()).add(id);
      return true;
    });
  }
}
