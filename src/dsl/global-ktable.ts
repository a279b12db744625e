import type { Serde } from '../serdes/serde.js';
import type { ValueGetterSupplier } from './internals/table-producer.js';

/**
 * A table every application instance holds in full, read from all partitions of its topic (Kafka Streams'
 * GlobalKTable), made by `builder.globalTable(topic)`. A stream joins it by a key it selects from each record
 * (`stream.join(globalTable, keySelector, joiner)`), so neither side needs the other's partitioning.
 */
export class GlobalKTable<K, V> {
  /** @internal Made by StreamsBuilder.globalTable. */
  constructor(
    /** @internal How a join reads the table's values. */
    readonly getter: ValueGetterSupplier,
    /** The name of the global store holding the table (queryable with `streams.store(name)`). */
    readonly queryableStoreName: string,
    /** @internal */ readonly keySerde: Serde<K>,
    /** @internal */ readonly valueSerde: Serde<V>,
  ) {}
}
