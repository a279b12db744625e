import type { KeyValue } from '../processor/record.js';
import type { Serde } from '../serdes/serde.js';
import type { BytesEntry, BytesStore } from './bytes-store.js';
import type { ChangeLogging } from './change-logging.js';
import { TypedStore } from './typed-store.js';
import type { ManagedStore } from './managed-store.js';
import type { StoreDefinition } from '../processor/store-definition.js';
import type { TimestampedKeyValueStore, ValueAndTimestamp } from './state-store.js';
import { StoredValueCodec } from './timestamped-value.js';
import { StateStoreError } from '../errors/errors.js';

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
  implements TimestampedKeyValueStore<K, V>, ManagedStore
{
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
    if (this.bytes.entriesSync === undefined) {
      throw new StateStoreError(
        `Store ${this.name} is on disk and cannot be scanned synchronously; query it with app.store() instead.`,
      );
    }
    const merged = new Map<string, [Buffer, V | undefined]>();
    for (const [k, v] of this.bytes.entriesSync()) merged.set(k.toString('latin1'), [k, this.decode(v).value ?? undefined]);
    for (const [k, v] of this.dirtyEntries()) merged.set(k.toString('latin1'), [k, v?.value ?? undefined]);
    return [...merged.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .filter(([, [, v]]) => v !== undefined)
      .map(([, [k, v]]) => ({ key: this.keySerde.deserialize(k), value: v! }));
  }

  restoreEntries(records: readonly BytesEntry[]): BytesEntry[] {
    return [...records];
  }
}
