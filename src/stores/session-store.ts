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
import { CachingStore } from './caching-store.js';
import type { ManagedStore } from './managed-store.js';
import type { StoreDefinition } from '../processor/store-definition.js';
import type { SessionStore } from './state-store.js';

/** All sessions of one key, and which of them changed since the last flush (as `start:end`). */
interface SessionBucket<V> {
  sessions: SessionSlot<V>[];
  changed?: Set<string>;
  /** Sessions created since the last flush: never logged, so removing one needs no tombstone. */
  unlogged?: Set<string>;
}

const byEndThenStart = (a: { start: number; end: number }, b: { start: number; end: number }): number =>
  a.end - b.end || a.start - b.start;

/**
 * A session store. Locally all sessions of a key share one LevelDB value (see bucket-codec); the changelog
 * carries one record per session with Kafka Streams' session key layout, and a tombstone for each removed
 * session. Sessions that ended more than `retentionMs` before stream time are dropped from reads and from
 * the bucket at its next write (the changelog topic expires them by its own retention).
 */
export class CachingSessionStore<K, V>
  extends CachingStore<K, SessionBucket<V>>
  implements SessionStore<K, V>, ManagedStore
{
  private readonly valueSerde: Serde<V>;
  private readonly retentionMs: number;
  /** The largest session end written, removed or restored: what sessions expire by. */
  private observed = Number.NEGATIVE_INFINITY;

  constructor(
    readonly definition: StoreDefinition,
    bytes: BytesStore,
    cacheBudgetBytes: number,
  ) {
    super(definition.name, definition.keySerde as Serde<K>, bytes, cacheBudgetBytes);
    this.valueSerde = definition.valueSerde as Serde<V>;
    this.retentionMs = definition.retentionMs ?? Number.POSITIVE_INFINITY;
  }

  protected decode(bytes: Buffer): SessionBucket<V> {
    return { sessions: decodeSessions(bytes, (b) => this.valueSerde.deserialize(b)) };
  }

  protected encode(bucket: SessionBucket<V>): Buffer | null {
    return bucket.sessions.length === 0 ? null : encodeSessions(bucket.sessions, (v) => this.valueSerde.serialize(v));
  }

  protected changelogFor(keyBytes: Buffer, bucket: SessionBucket<V> | undefined, _encoded: Buffer | null, key: K): BytesEntry[] {
    if (bucket?.changed === undefined) return [];
    const records: BytesEntry[] = [];
    for (const id of bucket.changed) {
      const [start, end] = id.split(':').map(Number) as [number, number];
      const session = bucket.sessions.find((s) => s.start === start && s.end === end);
      records.push([sessionChangelogKey(keyBytes, start, end), session === undefined ? null : session.bytes!]);
      // What is logged is what is forwarded: a changed session's latest value, or a tombstone for a logged one.
      this.listener?.({ key: { key, window: { start, end } }, value: session === undefined ? null : session.value, timestamp: end, headers: {} });
    }
    bucket.changed = undefined;
    bucket.unlogged = undefined;
    return records;
  }

  override observe(time: number): void {
    if (time > this.observed) this.observed = time;
  }

  override observedTime(): number {
    return this.observed;
  }

  /**
   * Sessions ending at or before this are expired: Kafka Streams' segmented store serves a session iff its
   * end >= observed time - retention + 1, where the observed time is the store's own (records that never
   * reach the store, filtered or dropped upstream, do not move it).
   */
  private expiry(): number {
    return this.observed - this.retentionMs;
  }

  private live(key: K): SessionSlot<V>[] {
    const bucket = this.read(key);
    if (bucket === undefined) return [];
    const expiry = this.expiry();
    return bucket.sessions.filter((s) => s.end > expiry);
  }

  private toResult(key: K, s: SessionSlot<V>): KeyValue<Windowed<K>, V> {
    return { key: { key, window: { start: s.start, end: s.end } }, value: s.value };
  }

  findSessions(key: K, earliestSessionEndTime: number, latestSessionStartTime: number): KeyValue<Windowed<K>, V>[] {
    return this.live(key)
      .filter((s) => s.end >= earliestSessionEndTime && s.start <= latestSessionStartTime)
      .map((s) => this.toResult(key, s));
  }

  fetch(key: K): KeyValue<Windowed<K>, V>[] {
    return this.live(key).map((s) => this.toResult(key, s));
  }

  fetchSession(key: K, sessionStart: number, sessionEnd: number): V | undefined {
    return this.live(key).find((s) => s.start === sessionStart && s.end === sessionEnd)?.value;
  }

  private mutate(key: K, change: (bucket: SessionBucket<V>) => boolean): void {
    const bucket = this.read(key) ?? { sessions: [] };
    if (!change(bucket)) return;
    const expiry = this.expiry();
    if (bucket.sessions.length > 0 && bucket.sessions[0]!.end <= expiry) {
      // Changed sessions stay until flushed, expired or not: Kafka Streams' cache keeps (and forwards) them.
      const changed = bucket.changed;
      bucket.sessions = bucket.sessions.filter((s) => s.end > expiry || changed?.has(`${s.start}:${s.end}`) === true);
    }
    this.write(key, bucket);
  }

  put(session: Windowed<K>, aggregate: V): void {
    const { start, end } = session.window;
    this.observe(end);
    this.mutate(session.key, (bucket) => {
      const existing = bucket.sessions.find((s) => s.start === start && s.end === end);
      const id = `${start}:${end}`;
      if (existing !== undefined) {
        existing.value = aggregate;
        existing.bytes = undefined;
      } else {
        bucket.sessions.push({ start, end, value: aggregate });
        bucket.sessions.sort(byEndThenStart);
        // An id that is changed but absent was logged and then removed since the last flush: put back, it is
        // still in the changelog, so a later remove must log a tombstone. Only a truly new id is unlogged.
        if (bucket.changed?.has(id) !== true) (bucket.unlogged ??= new Set()).add(id);
      }
      (bucket.changed ??= new Set()).add(id);
      return true;
    });
  }

  remove(session: Windowed<K>): void {
    const { start, end } = session.window;
    this.observe(end);
    this.mutate(session.key, (bucket) => {
      const index = bucket.sessions.findIndex((s) => s.start === start && s.end === end);
      if (index < 0) return false;
      bucket.sessions.splice(index, 1);
      const id = `${start}:${end}`;
      // A session that grew several times between two commits leaves no trace of its intermediate windows.
      if (bucket.unlogged?.delete(id) === true) bucket.changed?.delete(id);
      else (bucket.changed ??= new Set()).add(id);
      return true;
    });
  }

  restoreEntries(records: readonly BytesEntry[]): BytesEntry[] {
    const buckets = new Map<string, { keyBytes: Buffer; sessions: SessionSlot<Buffer>[] }>();
    for (const [changelogKey, value] of records) {
      const { keyBytes, start, end } = parseSessionChangelogKey(changelogKey);
      this.observe(end);
      const id = keyBytes.toString('latin1');
      let bucket = buckets.get(id);
      if (bucket === undefined) {
        const raw = this.bytes.get(keyBytes);
        bucket = { keyBytes, sessions: raw === undefined ? [] : decodeSessions(raw, (b) => b) };
        buckets.set(id, bucket);
      }
      const index = bucket.sessions.findIndex((s) => s.start === start && s.end === end);
      if (value === null) {
        if (index >= 0) bucket.sessions.splice(index, 1);
      } else if (index >= 0) {
        bucket.sessions[index] = { start, end, value, bytes: value };
      } else {
        bucket.sessions.push({ start, end, value, bytes: value });
        bucket.sessions.sort(byEndThenStart);
      }
    }
    return [...buckets.values()].map(({ keyBytes, sessions }) => [
      keyBytes,
      sessions.length === 0 ? null : encodeSessions(sessions, (b) => b),
    ]);
  }
}
