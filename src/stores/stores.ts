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

/** Store factories for the Processor API; add the result with `builder.addStateStore(...)`. */
export const Stores = {
  /** A key-value store, e.g. `builder.addStateStore(Stores.keyValueStore('seen', Serdes.String(), Serdes.Int64()))`; LevelDB and logged unless `options` say otherwise. */
  keyValueStore<K, V>(name: string, keySerde: Serde<K>, valueSerde: Serde<V>, options: StoreOptions = {}): StoreDefinition {
    return { ...base(name, keySerde, valueSerde, options), type: 'keyValue' };
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
