import type { KeyValue } from '../processor/record.js';
import type { Serde } from '../serdes/serde.js';
import { decodeWindows, encodeWindows, parseWindowChangelogKey, windowChangelogKey, type WindowSlot } from './bucket-codec.js';
import type { BytesEntry, BytesStore } from './bytes-store.js';
import type { ChangeLogging } from './change-logging.js';
import type { ManagedWindowStore } from './managed-store.js';
import type { StoreDefinition } from '../processor/store-definition.js';
import type { ValueAndTimestamp } from './state-store.js';
import { StoredValueCodec } from './timestamped-value.js';
import { unpooled } from './unpooled.js';
import { SegmentedStore, type RawSlot, type SegmentedEntry } from './segmented-store.js';

interface WindowBucket<V> extends SegmentedEntry<WindowSlot<ValueAndTimestamp<V>>> {
  changed?: Set<number>;
}

/**
 * A window store (Kafka Streams' RocksDBWindowStore over a segmented store): segmented by window start, one
 * LevelDB value per key and segment holding that key's windows of the segment, by start time (see
 * SegmentedStore); the changelog carries one record per window with Kafka Streams' window key layout.
 * Windows that started more than `retentionMs` before the store's observed time are never served, and their
 * segments are dropped whole.
 */
export class CachingWindowStore<K, V>
  extends SegmentedStore<K, WindowSlot<ValueAndTimestamp<V>>, WindowBucket<V>>
  implements ManagedWindowStore<K, V>
{
  readonly kind = 'window' as const;
  private readonly codec: StoredValueCodec<V>;

  constructor(
    readonly definition: StoreDefinition,
    bytes: BytesStore,
    cacheBudgetBytes: number,
    logging?: ChangeLogging,
  ) {
    super(definition, bytes, cacheBudgetBytes, logging);
    this.codec = new StoredValueCodec(definition.valueSerde as Serde<V>, definition.timestamped === true);
  }

  protected slotTime(slot: WindowSlot<ValueAndTimestamp<V>>): number {
    return slot.start;
  }

  protected decodeSegment(raw: Buffer): WindowSlot<ValueAndTimestamp<V>>[] {
    return decodeWindows(raw, (b) => this.codec.decode(b));
  }

  protected encodeSegment(slots: readonly WindowSlot<ValueAndTimestamp<V>>[]): Buffer {
    return encodeWindows(slots, (v) => unpooled(this.codec.encode(v)));
  }

  protected entryOf(slots: WindowSlot<ValueAndTimestamp<V>>[]): WindowBucket<V> {
    return { slots };
  }

  protected parseChangelogKey(changelogKey: Buffer): { keyBytes: Buffer; start: number; end: number } {
    const { keyBytes, start } = parseWindowChangelogKey(changelogKey);
    return { keyBytes, start, end: start };
  }

  protected decodeRaw(raw: Buffer): RawSlot[] {
    return decodeWindows(raw, (b) => b).map((w) => ({ start: w.start, end: w.start, value: w.value }));
  }

  protected encodeRaw(slots: readonly RawSlot[]): Buffer {
    return encodeWindows(slots, (b) => b);
  }

  protected changesOf(keyBytes: Buffer, bucket: WindowBucket<V> | undefined, _local: readonly BytesEntry[], key: K): BytesEntry[] {
    if (bucket?.changed === undefined) return [];
    const records: BytesEntry[] = [];
    let persisted: Array<WindowSlot<ValueAndTimestamp<V>>> | undefined;
    for (const start of bucket.changed) {
      const window = bucket.slots.find((w) => w.start === start);
      if (window !== undefined) window.bytes ??= unpooled(this.codec.encode(window.value));
      records.push([windowChangelogKey(keyBytes, start), window === undefined ? null : window.bytes!]);
      if (this.listener === undefined) continue;
      const windowed = { key, window: { start, end: start + (this.definition.windowSizeMs ?? 0) } };
      if (window !== undefined) {
        this.listener({ key: windowed, value: window.value.value, timestamp: window.value.timestamp, headers: {} });
        continue;
      }
      // A deleted window is forwarded only when it was on disk before this flush.
      persisted ??= this.load(keyBytes)?.slots ?? [];
      const old = persisted.find((w) => w.start === start);
      if (old !== undefined) this.listener({ key: windowed, value: null, timestamp: old.value.timestamp, headers: {} });
    }
    bucket.changed = undefined;
    return records;
  }

  put(key: K, value: V | null, windowStart: number): void {
    this.putWithTimestamp(key, value, windowStart, -1);
  }

  putWithTimestamp(key: K, value: V | null, windowStart: number, timestamp: number): void {
    this.observe(windowStart);
    const bucket = this.read(key) ?? { slots: [] };
    const index = bucket.slots.findIndex((w) => w.start === windowStart);
    if (value === null) {
      if (index < 0) return;
      bucket.slots.splice(index, 1);
    } else if (index >= 0) {
      bucket.slots[index] = { start: windowStart, value: { value, timestamp } };
    } else {
      bucket.slots.push({ start: windowStart, value: { value, timestamp } });
      bucket.slots.sort((a, b) => a.start - b.start);
    }
    (bucket.changed ??= new Set()).add(windowStart);
    this.touch(bucket, windowStart);
    const changed = bucket.changed;
    this.writeEntry(key, bucket, (w) => changed.has(w.start));
  }

  fetch(key: K, windowStart: number): V | undefined {
    return this.fetchWithTimestamp(key, windowStart)?.value;
  }

  fetchWithTimestamp(key: K, windowStart: number): ValueAndTimestamp<V> | undefined {
    if (windowStart <= this.expiry()) return undefined;
    return this.read(key)?.slots.find((w) => w.start === windowStart)?.value;
  }

  fetchRange(key: K, timeFrom: number, timeTo: number): KeyValue<number, V>[] {
    const from = Math.max(timeFrom, this.expiry() + 1);
    return (this.read(key)?.slots ?? [])
      .filter((w) => w.start >= from && w.start <= timeTo)
      .map((w) => ({ key: w.start, value: w.value.value }));
  }
}
