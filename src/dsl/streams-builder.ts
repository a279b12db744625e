import type { StoreDefinition } from '../processor/store-definition.js';
import type { ProcessorSupplier } from '../processor/processor-api.js';
import type { Serde } from '../serdes/serde.js';
import { Serdes } from '../serdes/serdes.js';
import { InternalBuilder } from './internals/internal-builder.js';
import { KStream } from './kstream.js';
import type { Consumed, Materialized } from './options.js';
import { KTable } from './ktable.js';
import { GlobalKTable } from './global-ktable.js';
import { storeGetter } from './internals/table-producer.js';
import { tableStore } from './internals/table-store.js';
import { addTableSource, KTableSourceProducer } from './internals/processors/ktable-source.js';
import type { TimestampExtractor } from '../processor/timestamp-extractor.js';
import { Topology, type TopologyConfig } from '../processor/topology.js';

/** Defaults of a StreamsBuilder; see its constructor. */
export interface StreamsBuilderOptions<DK, DV> {
  /** Keys of sources and operators that name no serde (Kafka Streams' `default.key.serde`). */
  readonly defaultKeySerde?: Serde<DK>;
  /** Values of sources and operators that name no serde (`default.value.serde`). */
  readonly defaultValueSerde?: Serde<DV>;
  /** Event time of sources that name no extractor; default: the record's timestamp. */
  readonly defaultTimestampExtractor?: TimestampExtractor;
}

/**
 * The entry point of the DSL: read topics as streams, chain operators, then `build()` the topology.
 *
 * ```ts
 * const builder = new StreamsBuilder();
 * builder.stream('page-views', Consumed.with(Serdes.String(), Serdes.Json<PageView>()))
 *   .groupByKey()
 *   .windowedBy(SessionWindows.ofInactivityGapAndGrace(30 * 60_000, 60_000))
 *   .count()
 *   .toStream()
 *   .to('session-counts');
 * const topology = builder.build({ applicationId: 'clicks' });
 * ```
 */
export class StreamsBuilder<DK = Buffer, DV = Buffer> {
  private readonly graph: InternalBuilder;
  private readonly subscribed = new Set<string>();

  /**
   * `defaultKeySerde` and `defaultValueSerde` serve every source, sink, grouping and store given no serde
   * and inheriting none (Kafka Streams' `default.key.serde` / `default.value.serde`); without them, sources
   * read raw Buffers and an operator that needs a serde it cannot know fails `build()` naming the operator.
   * `defaultTimestampExtractor` gives event time to sources without their own (default: the record's Kafka
   * timestamp, failing on a negative one).
   */
  constructor(options: StreamsBuilderOptions<DK, DV> = {}) {
    this.graph = new InternalBuilder(options);
  }

  /** A stream of the records of one or more topics (records of each partition in offset order). */
  stream(topics: string | readonly string[]): KStream<DK, DV>;
  stream<K, V>(topics: string | readonly string[], consumed: Consumed<K, V>): KStream<K, V>;
  stream<K, V>(topics: string | readonly string[], consumed?: Consumed<K, V>): KStream<K, V> {
    const list = typeof topics === 'string' ? [topics] : [...topics];
    const name = this.graph.processorNameFor(consumed?.processorName, 'KSTREAM-SOURCE-');
    const { keySerde, valueSerde } = this.addSource(name, list, consumed as Consumed<unknown, unknown> | undefined);
    return new KStream<K, V>(this.graph, name, keySerde as Serde<K>, valueSerde as Serde<V>, false);
  }

  /**
   * A table of the latest value per key of a topic, a null value deleting its key (Kafka Streams'
   * `StreamsBuilder#table`). Records with a null key are dropped. With a store name in `materialized`, the
   * table is kept in that store (queryable, with a changelog); without one it is materialized (in a store
   * named `<topic>-STATE-STORE-<n>`) only when a join or a grouping needs its values. Its store caches like
   * the aggregations' (`withCachingDisabled()` forwards every update at once).
   */
  table(topic: string): KTable<DK, DV>;
  table<K, V>(topic: string, consumed: Consumed<K, V>, materialized?: Materialized<K, V>): KTable<K, V>;
  table<K, V>(topic: string, consumed?: Consumed<K, V>, materialized?: Materialized<K, V>): KTable<K, V> {
    // As Kafka Streams: the store's name takes its index first, then the source and the table's processor.
    const storeName = materialized?.storeName ?? this.graph.newStoreName(`${topic}-`);
    const named = consumed?.processorName;
    const sourceName = this.graph.processorNameFor(named, 'KSTREAM-SOURCE-', '-source');
    const tableName = this.graph.processorNameFor(named, 'KTABLE-SOURCE-');
    const serdes = this.addSource(sourceName, [topic], consumed as Consumed<unknown, unknown> | undefined);
    const keySerde = (materialized?.keySerde as Serde<unknown> | undefined) ?? serdes.keySerde;
    const valueSerde = (materialized?.valueSerde as Serde<unknown> | undefined) ?? serdes.valueSerde;
    const producer = addTableSource(
      this.graph,
      sourceName,
      tableName,
      storeName,
      materialized,
      keySerde,
      valueSerde,
    );
    // Its store, if it is ever materialized, may be restored from the topic (topologyOptimization).
    this.graph.tableSourceStores.set(storeName, sourceName);
    return new KTable<K, V>(this.graph, tableName, keySerde as Serde<K>, valueSerde as Serde<V>, producer);
  }

  /**
   * A table every instance holds in full, fed from all partitions of `topic` (Kafka Streams'
   * `StreamsBuilder#globalTable`): a null value deletes its key, a null key is dropped. Its store (named in
   * `materialized`, else `<topic>-STATE-STORE-<n>`) has no changelog, the topic itself being one; at start it
   * is restored from the topic before any task processes, then kept up to date by a reader of its own.
   * Streams join it with `stream.join(globalTable, keySelector, joiner)`.
   */
  globalTable(topic: string): GlobalKTable<DK, DV>;
  globalTable<K, V>(topic: string, consumed: Consumed<K, V>, materialized?: Materialized<K, V>): GlobalKTable<K, V>;
  globalTable<K, V>(topic: string, consumed?: Consumed<K, V>, materialized?: Materialized<K, V>): GlobalKTable<K, V> {
    // Named as InternalStreamsBuilder#globalTable: the store takes its index first, then the source and the processor.
    const storeName = materialized?.storeName ?? this.graph.newStoreName(`${topic}-`);
    const named = consumed?.processorName;
    const sourceName = this.graph.processorNameFor(named, 'KSTREAM-SOURCE-', '-source');
    const tableName = this.graph.processorNameFor(named, 'KTABLE-SOURCE-');
    const serdes = this.addSource(sourceName, [topic], consumed as Consumed<unknown, unknown> | undefined, true);
    const keySerde = (materialized?.keySerde as Serde<unknown> | undefined) ?? serdes.keySerde;
    const valueSerde = (materialized?.valueSerde as Serde<unknown> | undefined) ?? serdes.valueSerde;
    // Always materialized; the topic is the store's changelog, so the store has no changelog topic of its own.
    const store = { ...tableStore(storeName, keySerde, valueSerde, materialized), loggingEnabled: false };
    const producer = new KTableSourceProducer(storeName, true, () => {
      this.graph.addStore(store);
      this.graph.connectStore(tableName, storeName);
    });
    this.graph.addProcessor({ name: tableName, parents: [sourceName], supplier: producer.supplier(), stores: [] });
    producer.activate();
    return new GlobalKTable<K, V>(storeGetter(storeName), storeName, keySerde as Serde<K>, valueSerde as Serde<V>);
  }

  private addSource(name: string, topics: readonly string[], consumed: Consumed<unknown, unknown> | undefined, global = false) {
    for (const topic of topics) {
      if (this.subscribed.has(topic)) {
        this.graph.problems.push(`Topic '${topic}' is read by two sources: read it once and reuse the stream.`);
      }
      this.subscribed.add(topic);
    }
    const bytes = Serdes.Buffer() as Serde<unknown>;
    const keySerde = consumed?.keySerde ?? this.graph.defaults.defaultKeySerde ?? bytes;
    const valueSerde = consumed?.valueSerde ?? this.graph.defaults.defaultValueSerde ?? bytes;
    this.graph.addSource({
      name,
      topics: topics.map((t) => ({ name: t, internal: false })),
      keySerde,
      valueSerde,
      timestampExtractor: consumed?.timestampExtractor ?? this.graph.defaults.defaultTimestampExtractor,
      ...(global ? { global } : {}),
    });
    return { keySerde, valueSerde };
  }

  /** Adds a store for the Processor API; connect it by passing its name to `stream.process(...)`. */
  addStateStore(store: StoreDefinition): this {
    this.graph.addStore(store);
    return this;
  }

  /**
   * Adds a global store fed by a processor of one's own (Kafka Streams' `StreamsBuilder#addGlobalStore`): every
   * instance reads all partitions of `topic` and hands each record to `stateUpdateSupplier`'s processor, which
   * keeps `store` up to date (it forwards nothing). Any processor of the topology may read the store by
   * name without being connected to it. The store has no changelog (logging is turned off, the topic is
   * one): at start it is rebuilt by running the topic's records through the processor again, as Kafka
   * Streams does for addGlobalStore (reprocessOnRestore). Named as Kafka Streams names it: a source
   * `KSTREAM-SOURCE-<n>` (or `<name>-source`) and the processor `KTABLE-SOURCE-<n>` (or `<name>`, from
   * `Consumed.as` / `withName`).
   *
   * @example
   * ```ts
   * builder.addGlobalStore(Stores.keyValueStore('rates', Serdes.String(), Serdes.Double()), 'fx-rates',
   *   Consumed.with(Serdes.String(), Serdes.Double()), () => {
   *     let rates!: KeyValueStore<string, number>;
   *     return { init: (ctx) => { rates = ctx.getStateStore('rates'); }, process: (r) => rates.put(r.key, r.value) };
   *   });
   * ```
   */
  addGlobalStore<K, V>(
    store: StoreDefinition,
    topic: string,
    consumed: Consumed<K, V>,
    stateUpdateSupplier: ProcessorSupplier<K, V, never, never>,
  ): this {
    const named = consumed.processorName;
    const sourceName = this.graph.processorNameFor(named, 'KSTREAM-SOURCE-', '-source');
    const processorName = this.graph.processorNameFor(named, 'KTABLE-SOURCE-');
    this.addSource(sourceName, [topic], consumed as Consumed<unknown, unknown>, true);
    this.graph.addStore({ ...store, loggingEnabled: false });
    this.graph.addProcessor({
      name: processorName,
      parents: [sourceName],
      supplier: stateUpdateSupplier,
      stores: [],
    });
    this.graph.connectStore(processorName, store.name);
    return this;
  }

  /**
   * Checks and compiles the topology; throws a TopologyError that lists every problem found.
   * `config.topologyOptimization` chooses optimizations, as Kafka Streams' `builder.build(props)` reads
   * `topology.optimization`.
   */
  build(config: TopologyConfig): Topology {
    return new Topology(this.graph, config);
  }
}
