import { TopologyError } from '../../errors/errors.js';
import type { StoreDefinition } from '../../processor/store-definition.js';
import type { Serde } from '../../serdes/serde.js';
import { Serdes } from '../../serdes/serdes.js';
import type { Materialized } from '../options.js';

/**
 * The store of a table: a persistent timestamped key-value store (Kafka Streams' TimestampedKeyValueStore),
 * logged and cached unless `materialized` says otherwise.
 */
export function tableStore(
  name: string,
  keySerde: Serde<unknown>,
  valueSerde: Serde<unknown>,
  materialized: Materialized<unknown, unknown> | undefined,
  versionedAllowed = false,
): StoreDefinition {
  const versioned = materialized?.versioned;
  if (versioned !== undefined) {
    if (!versionedAllowed) {
      throw new TopologyError(
        `Store '${name}': a versioned store (Stores.persistentVersionedKeyValueStore) materializes builder.table, toTable, filter, filterNot, mapValues and transformValues only; use a store name for this operator.`,
      );
    }
    // Kafka Streams' versioned stores have no cache (KeyValueStoreMaterializer): every change is forwarded at once.
    return {
      name,
      type: 'versioned',
      keySerde,
      valueSerde,
      persistent: true,
      loggingEnabled: materialized?.loggingEnabled ?? true,
      changelogConfig: materialized?.changelogConfig ?? {},
      historyRetentionMs: versioned.historyRetentionMs,
      ...(versioned.segmentIntervalMs === undefined ? {} : { segmentIntervalMs: versioned.segmentIntervalMs }),
      cachingEnabled: false,
    };
  }
  return {
    name,
    type: 'keyValue',
    keySerde,
    valueSerde,
    persistent: true,
    loggingEnabled: materialized?.loggingEnabled ?? true,
    changelogConfig: materialized?.changelogConfig ?? {},
    timestamped: true,
    cachingEnabled: materialized?.cachingEnabled ?? true,
  };
}

/**
 * An operator's own bookkeeping (suppress buffer, join outer store, emit index): raw bytes, in memory and
 * rebuilt from its changelog, so that it can be scanned synchronously.
 */
export function bufferStore(
  name: string,
  loggingEnabled = true,
  changelogConfig: Readonly<Record<string, string>> = {},
): StoreDefinition {
  return {
    name,
    type: 'keyValue',
    keySerde: Serdes.Buffer(),
    valueSerde: Serdes.Buffer(),
    persistent: false,
    loggingEnabled,
    changelogConfig: { ...changelogConfig },
    cachingEnabled: false,
  };
}
