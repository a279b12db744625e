import type { KeyValue } from '../processor/record.js';
import type { Serde } from '../serdes/serde.js';
import { decodeWindows, encodeWindows, parseWindowChangelogKey, windowChangelogKey, type WindowSlot } from './bucket-codec.js';
import type { BytesEntry, BytesStore } from './bytes-store.js';
import { CachingStore } from './caching-store.js';
import type { ManagedStore } from './managed-store.js';
import type { StoreDefinition } from '../processor/store-definition.js';
import type { TimestampedWindowStore, ValueAndTimestamp } from './state-store.js';
import { StoredValueCodec } from './timestamped-value.js';

interface WindowBucket<V> {
  windows: WindowSlot<ValueAndTimestamp<V>>[];
  changed?: Set<number>;
}

/**
 * A window store: all windows of a key in one LevelDB value, by start time; the changelog carries one record
 * per window with Kafka Streams' window key layout. Windows that started more than `retentionMs` before
 * stream time are dropped from reads and from the bucket at its next write.
 */
export class CachingWindowStore<K, V>
  extends CachingStore<K, WindowBucket<V>>
  implements TimestampedWindowStore<K, V>, ManagedStore
{
  private readonly codec: StoredValueCodec<V>;
  private readonly retentionMs: number;
  /** The largest window start written or restored: what windows expire by (see CachingSessionStore). */
  private observed = Number.NEGATIVE_INFINITY;

  constructor(
    readonly definition: StoreDefinition,
    bytes: BytesStore,
    cacheBudgetBytes: number,
  ) {
    super(definition.name, definition.keySerde as Serde<K>, bytes, cacheBudgetBytes);
    this.codec = new StoredValueCodec(definition.valueSerde as Serde<V>, definition.timestamped === true);
    this.retentionMs = definition.retentionMs ?? Number.POSITIVE_INFINITY;
  }

  protected decode(bytes: Buffer): WindowBucket<V> {
    return { windows: decodeWindows(bytes, (b) => this.codec.decode(b)) };
  }

  protected encode(bucket: WindowBucket<V>): Buffer | null {
    return bucket.windows.length === 0 ? null : encodeWindows(bucket.windows, (v) => this.codec.encode(v));
  }

  protected changelogFor(keyBytes: Buffer, bucket: WindowBucket<V> | undefined, _encoded: Buffer | null, key: K): BytesEntry[] {
    if (bucket?.changed === undefined) return [];
    const records: BytesEntry[] = [];
    let persisted: Array<WindowSlot<ValueAndTimestamp<V>>> | undefined;
    for (const start of bucket.changed) {
      const window = bucket.windows.find((w) => w.start === start);
      records.push([windowChangelogKey(keyBytes, start), window === undefined ? null : window.bytes!]);
      if (this.listener === undefined) continue;
      const windowed = { key, window: { start, end: start + (this.definition.windowSizeMs ?? 0) } };
      if (window !== undefined) {
        this.listener({ key: windowed, value: window.value.value, timestamp: window.value.timestamp, headers: {} });
        continue;
      }
      // A deleted window is forwarded only when it was on disk before this flush.
      persisted ??= ((raw) => (raw === undefined ? [] : this.decode(raw).windows))(this.bytes.get(keyBytes));
      const old = persisted.find((w) => w.start === start);
      if (old !== undefined) this.listener({ key: windowed, value: null, timestamp: old.value.timestamp, headers: {} });
    }
    bucket.changed = undefined;
    return records;
  }

  override observe(time: number): void {
    if (time > this.observed) this.observed = time;
  }

  override observedTime(): number {
    return this.observed;
  }

  /** Windows starting at or before this are expired (Kafka Streams: served iff start >= observed - retention + 1). */
  private expiry(): number {
    return this.observed - this.retentionMs;
  }

  put(key: K, value: V | null, windowStart: number): void {
    this.putWithTimestamp(key, value, windowStart, -1);
  }

  putWithTimestamp(key: K, value: V | null, windowStart: number, timestamp: number): void {
    this.observe(windowStart);
    const bucket = this.read(key) ?? { windows: [] };
    const index = bucket.windows.findIndex((w) => w.start === windowStart);
    if (value === null) {
      if (index < 0) return;
      bucket.windows.splice(index, 1);
    } else if (index >= 0) {
      bucket.windows[index] = { start: windowStart, value: { value, timestamp } };
    } else {
      bucket.windows.push({ start: windowStart, value: { value, timestamp } });
      bucket.windows.sort((a, b) => a.start - b.start);
    }
    (bucket.changed ??= new Set()).add(windowStart);
    const expiry = this.expiry();
    if (bucket.windows.length > 0 && bucket.windows[0]!.start <= expiry) {
      // Changed windows stay until flushed, expired or not: Kafka Streams' cache keeps (and forwards) them.
      const changed = bucket.changed;
      bucket.windows = bucket.windows.filter((w) => w.start > expiry || changed.has(w.start));
    }
    this.write(key, bucket);
  }

  fetch(key: K, windowStart: number): V | undefined {
    return this.fetchWithTimestamp(key, windowStart)?.value;
  }

  fetchWithTimestamp(key: K, windowStart: number): ValueAndTimestamp<V> | undefined {
    if (windowStart <= this.expiry()) return undefined;
    return this.read(key)?.windows.find((w) => w.start === windowStart)?.value;
  }

  fetchRange(key: K, timeFrom: number, timeTo: number): KeyValue<number, V>[] {
    const from = Math.max(timeFrom, this.expiry() + 1);
    return (this.read(key)?.windows ?? [])
      .filter((w) => w.start >= from && w.start <= timeTo)
      .map((w) => ({ key: w.start, value: w.value.value }));
  }

  restoreEntries(records: readonly BytesEntry[]): BytesEntry[] {
    const buckets = new Map<string, { keyBytes: Buffer; windows: WindowSlot<Buffer>[] }>();
    for (const [changelogKey, value] of records) {
      const { keyBytes, start } = parseWindowChangelogKey(changelogKey);
      this.observe(start);
      const id = keyBytes.toString('latin1');
      let bucket = buckets.get(id);
      if (bucket === undefined) {
        const raw = this.bytes.get(keyBytes);
        bucket = { keyBytes, windows: raw === undefined ? [] : decodeWindows(raw, (b) => b) };
        buckets.set(id, bucket);
      }
      const index = bucket.windows.findIndex((w) => w.start === start);
      if (value === null) {
        if (index >= 0) bucket.windows.splice(index, 1);
      } else if (index >= 0) {
        bucket.windows[index] = { start, value, bytes: value };
      } else {
        bucket.windows.push({ start, value, bytes: value });
        bucket.windows.sort((a, b) => a.start - b.start);
      }
    }
    return [...buckets.values()].map(({ keyBytes, windows }) => [
      keyBytes,
      windows.length === 0 ? null : encodeWindows(windows, (b) => b),
    ]);
  }
}
