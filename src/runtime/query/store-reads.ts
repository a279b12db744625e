import { keyValueStoreOf, sessionStoreOf, windowStoreOf, type ManagedStore } from '../../stores/managed-store.js';

/** One session of a key: its bounds (epoch ms) and aggregate. */
export interface SessionJson<V = unknown> {
  /** The time of its first record. */
  readonly start: number;
  /** The time of its last record. */
  readonly end: number;
  /** The session's aggregate. */
  readonly value: V;
}

/** One window of a key: its start (epoch ms) and value. */
export interface WindowJson<V = unknown> {
  /** The window's start. */
  readonly start: number;
  /** The window's value. */
  readonly value: V;
}

/** One entry of a key-value range. */
export interface EntryJson<K = unknown, V = unknown> {
  /** The key. */
  readonly key: K;
  /** Its value. */
  readonly value: V;
}

/** The value of a key in a key-value store, with the time of its last update where the store keeps one. */
export function readKey(store: ManagedStore, key: unknown): { value: unknown; timestamp?: number } | undefined {
  const kv = keyValueStoreOf(store);
  const found = kv.getWithTimestamp(key);
  if (found === undefined) return undefined;
  return found.timestamp < 0 ? { value: found.value } : { value: found.value, timestamp: found.timestamp };
}

/** The sessions of a key, by end time; with a range, those ending at or after `from` and starting at or before `to`. */
export function readSessions(store: ManagedStore, key: unknown, from: number | undefined, to: number | undefined): SessionJson[] {
  const sessions = sessionStoreOf(store);
  const found = from === undefined && to === undefined ? sessions.fetch(key) : sessions.findSessions(key, from ?? 0, to ?? Number.MAX_SAFE_INTEGER);
  return found.map(({ key: windowed, value }) => ({ start: windowed.window.start, end: windowed.window.end, value }));
}

/** The windows of a key whose start is in [from, to], oldest first. */
export function readWindows(store: ManagedStore, key: unknown, from: number, to: number): WindowJson[] {
  return windowStoreOf(store)
    .fetchRange(key, from, to)
    .map(({ key: start, value }) => ({ start, value }));
}

/** Bounds of a range scan, in key bytes (the store's order). */
export interface RangeBounds {
  /** Keys at or after these bytes. */
  readonly from?: Buffer;
  /** Keys at or before these bytes. */
  readonly to?: Buffer;
  /** Keys starting with these bytes. */
  readonly prefix?: Buffer;
  /** Keys strictly after these bytes (the page's cursor). */
  readonly after?: Buffer;
}

/** One store's part of a range page: entries in key-byte order, and whether more follow. */
export interface RangePart {
  readonly entries: Array<{ keyBytes: Buffer; key: unknown; value: unknown }>;
  readonly more: boolean;
}

/**
 * Up to `limit` entries of a key-value store within `bounds`, in key-byte order. It walks the byte store
 * (LevelDB's iterator reads a snapshot, so a scan is never torn by a commit) and reads each key's value
 * through the store, so a value changed since the last commit is the current one; a key first written since
 * the last commit shows once it is committed (`commitIntervalMs`).
 */
export async function scanRange(store: ManagedStore, bounds: RangeBounds, limit: number): Promise<RangePart> {
  const kv = keyValueStoreOf(store);
  const keySerde = store.definition.keySerde;
  const entries: RangePart['entries'] = [];
  for await (const [keyBytes] of store.bytes.entries()) {
    if (bounds.after !== undefined && Buffer.compare(keyBytes, bounds.after) <= 0) continue;
    if (bounds.from !== undefined && Buffer.compare(keyBytes, bounds.from) < 0) continue;
    if (bounds.prefix !== undefined && !keyBytes.subarray(0, bounds.prefix.length).equals(bounds.prefix)) {
      if (Buffer.compare(keyBytes, bounds.prefix) > 0) break;
      continue;
    }
    if (bounds.to !== undefined && Buffer.compare(keyBytes, bounds.to) > 0) break;
    if (entries.length === limit) return { entries, more: true };
    const key = keySerde.deserialize(keyBytes);
    const value = kv.get(key);
    if (value !== undefined) entries.push({ keyBytes: Buffer.from(keyBytes), key, value });
  }
  return { entries, more: false };
}
