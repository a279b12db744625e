import type { KeyValue } from '../processor/record.js';
import type { Serde } from '../serdes/serde.js';
import type { BytesEntry, BytesStore } from './bytes-store.js';
import { CachingStore } from './caching-store.js';
import type { ManagedStore } from './managed-store.js';
import type { StoreDefinition } from '../processor/store-definition.js';
import type { TimestampedKeyValueStore, ValueAndTimestamp } from './state-store.js';
import { StoredValueCodec } from './timestamped-value.js';
import { StateStoreError } from '../errors/errors.js';

/**
 * A key-value store: the cache over a byte store; the changelog record of a key is its latest value (with its
 * timestamp first when the store is timestamped).
 */
export class CachingKeyValueStore<K, V>
  extends CachingStore<K, ValueAndTimestamp<V>>
  implements TimestampedKeyValueStore<K, V>, ManagedStore
{
  private readonly codec: StoredValueCodec<V>;

  constructor(
    readonly definition: StoreDefinition,
    bytes: BytesStore,
    cacheBudgetBytes: number,
  ) {
    super(definition.name, definition.keySerde as Serde<K>, bytes, cacheBudgetBytes);
    this.codec = new StoredValueCodec(definition.valueSerde as Serde<V>, definition.timestamped === true);
  }

  protected decode(bytes: Buffer): ValueAndTimestamp<V> {
    return this.codec.decode(bytes);
  }

  protected encode(entry: ValueAndTimestamp<V>): Buffer {
    return this.codec.encode(entry);
  }

  protected changelogFor(keyBytes: Buffer, entry: ValueAndTimestamp<V> | undefined, local: readonly BytesEntry[], key: K): BytesEntry[] {
    if (this.listener !== undefined) {
      if (entry !== undefined) this.listener({ key, value: entry.value, timestamp: entry.timestamp, headers: {} });
      else {
        // A deletion is forwarded only when there was something to delete (it is on disk until this flush).
        const old = this.bytes.get(keyBytes);
        if (old !== undefined) this.listener({ key, value: null, timestamp: this.decode(old).timestamp, headers: {} });
      }
    }
    return [...local];
  }

  get(key: K): V | undefined {
    return this.read(key)?.value;
  }

  getWithTimestamp(key: K): ValueAndTimestamp<V> | undefined {
    return this.read(key);
  }

  put(key: K, value: V | null): void {
    this.write(key, value === null ? undefined : { value, timestamp: -1 });
  }

  putWithTimestamp(key: K, value: V | null, timestamp: number): void {
    this.write(key, value === null ? undefined : { value, timestamp });
  }

  delete(key: K): V | undefined {
    const old = this.read(key);
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
    for (const [k, v] of this.bytes.entriesSync()) merged.set(k.toString('latin1'), [k, this.decode(v).value]);
    for (const [k, v] of this.dirtyEntries()) merged.set(k.toString('latin1'), [k, v?.value]);
    return [...merged.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .filter(([, [, v]]) => v !== undefined)
      .map(([, [k, v]]) => ({ key: this.keySerde.deserialize(k), value: v! }));
  }

  restoreEntries(records: readonly BytesEntry[]): BytesEntry[] {
    return [...records];
  }
}
