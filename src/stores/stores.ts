import type { Serde } from '../serdes/serde.js';
import type { StoreDefinition } from '../processor/store-definition.js';

/** How a store of {@link Stores} keeps its data. */
export interface StoreOptions {
  /** Default true: LevelDB on disk. false keeps the store in memory and rebuilds it from its changelog. */
  persistent?: boolean;
  /** Default true: every change is written to `<app>-<name>-changelog`. */
  loggingEnabled?: boolean;
  /** Extra topic configs of the changelog, e.g. `{ 'min.insync.replicas': '2' }`. */
  changelogConfig?: Record<string, string>;
}

function base(name: string, keySerde: Serde<unknown>, valueSerde: Serde<unknown>, options: StoreOptions) {
  return {
    name,
    keySerde,
    valueSerde,
    persistent: options.persistent ?? true,
    loggingEnabled: options.loggingEnabled ?? true,
    changelogConfig: { ...(options.changelogConfig ?? {}) },
  };
}

/**
 * A persistent versioned key-value store, as `Stores.persistentVersionedKeyValueStore` makes it (Kafka
 * Streams' VersionedBytesStoreSupplier): give it to `Materialized.as(...)` for a versioned table, or to
 * `Stores.versionedKeyValueStoreBuilder` for the Processor API.
 */
export interface VersionedBytesStoreSupplier {
  /** The store's name (its changelog is `<applicationId>-<name>-changelog`). */
  readonly name: string;
  /** How long a version stays readable after a newer one replaced it, by the store's observed time. */
  readonly historyRetentionMs: number;
  /**
   * Kafka Streams' segment interval: versions are grouped by their validTo in segments of this length, and a
   * segment expires whole (default from the history retention, as Kafka Streams': max(retention / 3, 2 s) up
   * to a minute of retention, …).
   */
  readonly segmentIntervalMs?: number;
}

/** Store factories for the Processor API; add the result with `builder.addStateStore(...)`. */
export const Stores = {
  /** A key-value store, e.g. `builder.addStateStore(Stores.keyValueStore('seen', Serdes.String(), Serdes.Int64()))`; LevelDB and logged unless `options` say otherwise. */
  keyValueStore<K, V>(name: string, keySerde: Serde<K>, valueSerde: Serde<V>, options: StoreOptions = {}): StoreDefinition {
    return { ...base(name, keySerde, valueSerde, options), type: 'keyValue' };
  },
  /**
   * A versioned store `name` keeping the versions of each key `historyRetentionMs` after a newer one
   * replaced them (Kafka Streams' `Stores.persistentVersionedKeyValueStore`).
   */
  persistentVersionedKeyValueStore(name: string, historyRetentionMs: number, segmentIntervalMs?: number): VersionedBytesStoreSupplier {
    if (!(historyRetentionMs >= 0)) {
      throw new TypeError(`Stores.persistentVersionedKeyValueStore('${name}'): historyRetentionMs must be >= 0, got ${historyRetentionMs}`);
    }
    if (segmentIntervalMs !== undefined && !(segmentIntervalMs >= 1)) {
      throw new TypeError(`Stores.persistentVersionedKeyValueStore('${name}'): segmentIntervalMs must be >= 1, got ${segmentIntervalMs}`);
    }
    return segmentIntervalMs === undefined ? { name, historyRetentionMs } : { name, historyRetentionMs, segmentIntervalMs };
  },
  /** The versioned store of `supplier` with these serdes, for `builder.addStateStore(...)` (Kafka Streams' `versionedKeyValueStoreBuilder`). */
  versionedKeyValueStoreBuilder<K, V>(
    supplier: VersionedBytesStoreSupplier,
    keySerde: Serde<K>,
    valueSerde: Serde<V>,
    options: StoreOptions = {},
  ): StoreDefinition {
    return {
      ...base(supplier.name, keySerde, valueSerde, options),
      type: 'versioned',
      historyRetentionMs: supplier.historyRetentionMs,
      ...(supplier.segmentIntervalMs === undefined ? {} : { segmentIntervalMs: supplier.segmentIntervalMs }),
    };
  },
  /** A session store keeping sessions `retentionMs` after they end. */
  sessionStore<K, V>(
    name: string,
    retentionMs: number,
    keySerde: Serde<K>,
    valueSerde: Serde<V>,
    options: StoreOptions = {},
  ): StoreDefinition {
    return { ...base(name, keySerde, valueSerde, options), type: 'session', retentionMs };
  },
  /** A window store of windows `windowSizeMs` long, kept `retentionMs` after they end. */
  windowStore<K, V>(
    name: string,
    retentionMs: number,
    windowSizeMs: number,
    keySerde: Serde<K>,
    valueSerde: Serde<V>,
    options: StoreOptions = {},
  ): StoreDefinition {
    return {
      ...base(name, keySerde, valueSerde, options),
      type: 'window',
      retentionMs,
      windowSizeMs,
    };
  },
} as const;
