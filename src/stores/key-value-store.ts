import type { KeyValue } from '../processor/record.js';
import type { Serde } from '../serdes/serde.js';
import type { BytesEntry, BytesStore } from './bytes-store.js';
import type { ChangeLogging } from './change-logging.js';
import { TypedStore } from './typed-store.js';
import type { ManagedKeyValueStore } from './managed-store.js';
import type { StoreDefinition } from '../processor/store-definition.js';
import type { ValueAndTimestamp } from './state-store.js';
import { StoredValueCodec } from './timestamped-value.js';
import { StateStoreError } from '../errors/errors.js';
import { ByteOrderedMap } from './byte-ordered-map.js';
import { KEY_VALUE_HEAP_OVERHEAD_BYTES } from './cache-charge.js';

/**
 * A cached entry: a value, or a deletion (null) that remembers the time of the record that deleted it, which
 * a flush forwards as the deletion's timestamp (Kafka Streams' cache entries keep their record context).
 */
type Entry<V> = ValueAndTimestamp<V | null>;

/**
 * A key-value store: the cache over a byte store; the changelog record of a key is its latest value (with its
 * timestamp first when the store is timestamped).
 */
export class CachingKeyValueStore<K, V>
  extends TypedStore<K, Entry<V>>
  implements ManagedKeyValueStore<K, V>
{
  readonly kind = 'keyValue' as const;
  private readonly codec: StoredValueCodec<V>;

  constructor(
    readonly definition: StoreDefinition,
    bytes: BytesStore,
    cacheBudgetBytes: number,
    logging?: ChangeLogging,
  ) {
    super(definition.name, definition.keySerde as Serde<K>, bytes, cacheBudgetBytes, logging);
    this.codec = new StoredValueCodec(definition.valueSerde as Serde<V>, definition.timestamped === true);
  }

  /** One decoded value per entry: a fraction of a session's heap (see cache-charge.ts). */
  protected override cacheHeapOverheadBytes(): number {
    return KEY_VALUE_HEAP_OVERHEAD_BYTES;
  }

  protected decode(bytes: Buffer): Entry<V> {
    return this.codec.decode(bytes);
  }

  protected encode(entry: Entry<V>): Buffer | null {
    return entry.value === null ? null : this.codec.encode(entry as ValueAndTimestamp<V>);
  }

  /**
   * Forwards the entry's change as Kafka Streams' CachingKeyValueStore does on flush: the new value with the
   * value on disk before it (the old value), and nothing when both are absent (a key written and deleted
   * between two flushes). A deletion carries the time of the record that deleted it, or the old value's.
   */
  protected changesOf(keyBytes: Buffer, entry: Entry<V> | undefined, local: readonly BytesEntry[], key: K): BytesEntry[] {
    if (this.listener !== undefined) {
      const oldBytes = this.bytes.get(keyBytes);
      const old = oldBytes === undefined ? undefined : this.decode(oldBytes);
      if (entry !== undefined && entry.value !== null) {
        this.listener({ key, value: entry.value, timestamp: entry.timestamp, headers: {} }, old?.value ?? null);
      } else if (old !== undefined) {
        this.listener({ key, value: null, timestamp: entry?.timestamp ?? old.timestamp, headers: {} }, old.value);
      }
    }
    return [...local];
  }

  private live(key: K): ValueAndTimestamp<V> | undefined {
    const entry = this.read(key);
    return entry === undefined || entry.value === null ? undefined : (entry as ValueAndTimestamp<V>);
  }

  get(key: K): V | undefined {
    return this.live(key)?.value;
  }

  getWithTimestamp(key: K): ValueAndTimestamp<V> | undefined {
    return this.live(key);
  }

  put(key: K, value: V | null): void {
    this.write(key, value === null ? undefined : { value, timestamp: -1 });
  }

  /** `null` deletes the key; the deletion keeps `timestamp` for what the cache forwards. */
  putWithTimestamp(key: K, value: V | null, timestamp: number): void {
    this.write(key, { value, timestamp });
  }

  delete(key: K): V | undefined {
    const old = this.live(key);
    if (old !== undefined) this.write(key, undefined);
    return old?.value;
  }

  all(): KeyValue<K, V>[] {
    const stored = this.scannable().entriesSync!();
    const dirty = this.unwrittenEntries().sort(([a], [b]) => Buffer.compare(a, b));
    return this.merge(stored, dirty);
  }

  prefixScan<P>(prefix: P, prefixKeySerializer: Serde<P>): KeyValue<K, V>[] {
    const bytes = this.scannable();
    const prefixBytes = prefixKeySerializer.serialize(prefix);
    const stored =
      bytes.prefixScanSync?.(prefixBytes) ??
      bytes.entriesSync!().filter(([key]) => key.subarray(0, prefixBytes.length).equals(prefixBytes));
    this.dirtyIndex ??= ByteOrderedMap.of(this.unwrittenEntries());
    return this.merge(stored, this.dirtyIndex.withPrefix(prefixBytes));
  }

  /** The byte store, if it can be scanned synchronously (it lives in memory). */
  private scannable(): BytesStore {
    if (this.bytes.entriesSync === undefined) {
      throw new StateStoreError(
        `Store ${this.name} is on disk and cannot be scanned synchronously; query it with app.store() instead.`,
      );
    }
    return this.bytes;
  }

  /**
   * The live entries of the stored entries overlaid with the dirty ones (a dirty entry replaces the stored
   * entry of its key; a deleted one hides it), both in key-byte order: one pass, nothing sorted.
   */
  private merge(
    stored: ReadonlyArray<readonly [Buffer, Buffer]>,
    dirty: ReadonlyArray<readonly [Buffer, Entry<V> | undefined]>,
  ): KeyValue<K, V>[] {
    const out: KeyValue<K, V>[] = [];
    const emit = (keyBytes: Buffer, value: V | null | undefined): void => {
      if (value !== null && value !== undefined) out.push({ key: this.keySerde.deserialize(keyBytes), value });
    };
    let d = 0;
    for (const [keyBytes, valueBytes] of stored) {
      let order = -1;
      for (; d < dirty.length && (order = Buffer.compare(dirty[d]![0], keyBytes)) < 0; d++) emit(dirty[d]![0], dirty[d]![1]?.value);
      if (d < dirty.length && order === 0) emit(dirty[d]![0], dirty[d++]![1]?.value);
      else emit(keyBytes, this.decode(valueBytes).value);
    }
    for (; d < dirty.length; d++) emit(dirty[d]![0], dirty[d]![1]?.value);
    return out;
  }

  /**
   * The unwritten entries in key-byte order, for prefix scans: built at a scan, then kept by every write
   * until a flush is written to the byte store (or the cache forgets its changes: discard, fresh bytes), so
   * that a scan reads only the unwritten entries under its prefix. Stores never scanned by prefix pay
   * nothing for it.
   */
  private dirtyIndex: ByteOrderedMap<Entry<V> | undefined> | undefined;

  protected override write(key: K, entry: Entry<V> | undefined): void {
    super.write(key, entry);
    this.dirtyIndex?.set(this.keySerde.serialize(key), entry);
  }

  protected override afterWritten(): void {
    // Rebuilt at the next scan from what is still unwritten (a write keeps it current until then).
    this.dirtyIndex = undefined;
  }

  protected override afterDiscard(): void {
    this.dirtyIndex?.clear();
  }

  protected override afterBytesReplaced(): void {
    this.dirtyIndex?.clear();
  }

  restoreEntries(records: readonly BytesEntry[]): BytesEntry[] {
    return [...records];
  }
}
