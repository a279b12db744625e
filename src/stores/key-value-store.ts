import type { KeyValue } from '../processor/record.js';
import type { Serde } from '../serdes/serde.js';
import type { BytesEntry, BytesStore } from './bytes-store.js';
import { CachingStore } from './caching-store.js';
import type { ManagedStore } from './managed-store.js';
import type { StoreDefinition } from '../processor/store-definition.js';
import type { KeyValueStore } from './state-store.js';
import { StateStoreError } from '../errors/errors.js';

/** A key-value store: the cache over a byte store; the changelog record of a key is its latest value. */
export class CachingKeyValueStore<K, V> extends CachingStore<K, V> implements KeyValueStore<K, V>, ManagedStore {
  private readonly valueSerde: Serde<V>;

  constructor(
    readonly definition: StoreDefinition,
    bytes: BytesStore,
    cacheBudgetBytes: number,
  ) {
    super(definition.name, definition.keySerde as Serde<K>, bytes, cacheBudgetBytes);
    this.valueSerde = definition.valueSerde as Serde<V>;
  }

  protected decode(bytes: Buffer): V {
    return this.valueSerde.deserialize(bytes);
  }

  protected encode(entry: V): Buffer {
    return this.valueSerde.serialize(entry);
  }

  protected changelogFor(keyBytes: Buffer, _entry: V | undefined, encoded: Buffer | null): BytesEntry[] {
    return [[keyBytes, encoded]];
  }

  get(key: K): V | undefined {
    return this.read(key);
  }

  put(key: K, value: V | null): void {
    this.write(key, value === null ? undefined : value);
  }

  delete(key: K): V | undefined {
    const old = this.read(key);
    if (old !== undefined) this.write(key, undefined);
    return old;
  }

  all(): KeyValue<K, V>[] {
    if (this.bytes.entriesSync === undefined) {
      throw new StateStoreError(
        `Store ${this.name} is on disk and cannot be scanned synchronously; query it with app.store() instead.`,
      );
    }
    const merged = new Map<string, [Buffer, V | undefined]>();
    for (const [k, v] of this.bytes.entriesSync()) merged.set(k.toString('latin1'), [k, this.decode(v)]);
    for (const [k, v] of this.dirtyEntries()) merged.set(k.toString('latin1'), [k, v]);
    return [...merged.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .filter(([, [, v]]) => v !== undefined)
      .map(([, [k, v]]) => ({ key: this.keySerde.deserialize(k), value: v! }));
  }

  restoreEntries(records: readonly BytesEntry[]): BytesEntry[] {
    return [...records];
  }
}
