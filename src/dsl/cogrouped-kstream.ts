import type { Serde } from '../serdes/serde.js';
import { TopologyError } from '../errors/errors.js';
import { namedAndMaterialized, type GroupedSource } from './internals/aggregation.js';
import type { InternalBuilder } from './internals/internal-builder.js';
import type { Aggregator, Initializer } from './internals/processors/functions.js';
import { kstreamAggregate } from './internals/processors/kstream-aggregate.js';
import { passThrough } from './internals/processors/stateless.js';
import { insertRepartition } from './internals/repartition.js';
import { AggregateProducer, storeGetter } from './internals/table-producer.js';
import { KTable } from './ktable.js';
import type { KGroupedStream } from './kgrouped-stream.js';
import type { Materialized, Named } from './options.js';

/** One grouped stream of a cogroup and the aggregator that folds its values in. */
interface CogroupedInput {
  readonly source: GroupedSource;
  readonly aggregator: Aggregator<unknown, unknown, unknown>;
}

/**
 * Several grouped streams of one key type aggregated into one table (Kafka Streams' CogroupedKStream):
 * `clicks.groupByKey().cogroup(addClick).cogroup(views.groupByKey(), addView).aggregate(() => emptyProfile)`.
 * Each stream folds its records into the shared aggregate with its own aggregator, in one store; every
 * update is forwarded as it happens (through the store's cache when it caches), whichever stream caused it.
 * The streams must be co-partitioned (checked at start, as for joins); a stream whose key changed is
 * repartitioned first.
 */
export class CogroupedKStream<K, VA> {
  /** @internal Created by `KGroupedStream.cogroup`. */
  constructor(
    private readonly graph: InternalBuilder,
    private readonly inputs: readonly CogroupedInput[],
  ) {}

  /** Adds another grouped stream of the same key, with the aggregator that folds its values in. */
  cogroup<V>(groupedStream: KGroupedStream<K, V>, aggregator: Aggregator<K, V, VA>): CogroupedKStream<K, VA> {
    if (this.inputs.some((input) => input.source === groupedStream.cogroupSource)) {
      throw new TopologyError('cogroup: this grouped stream is already part of the cogroup; each may be added once.');
    }
    const input = { source: groupedStream.cogroupSource, aggregator: aggregator as Aggregator<unknown, unknown, unknown> };
    return new CogroupedKStream<K, VA>(this.graph, [...this.inputs, input]);
  }

  /**
   * The table of the aggregates: `initializer()` starts a key, each stream's aggregator adds its records.
   * `materialized` names the store and gives the aggregate's serde; a `Named` names the processors
   * (`<name>-cogroup-agg-<i>`, `<name>-cogroup-merge`). Names as Kafka Streams' CogroupedStreamAggregateBuilder.
   */
  aggregate(initializer: Initializer<VA>, named?: Named | Materialized<K, VA>, materialized?: Materialized<K, VA>): KTable<K, VA> {
    const given = namedAndMaterialized(named, materialized);
    const graph = this.graph;
    const storeName = given.materialized?.storeName ?? graph.newStoreName('COGROUPKSTREAM-AGGREGATE-');
    const who = `Store '${storeName}' of the cogroup`;
    const first = this.inputs[0]!.source;
    const keySerde = graph.serdeFor(
      'key',
      who,
      'pass Grouped.with(keySerde, valueSerde) to the groupings, or Materialized.with(keySerde, valueSerde)',
      given.materialized?.keySerde,
      first.grouped?.keySerde,
      first.keySerde,
    );
    const valueSerde = graph.serdeFor('value', who, "pass Materialized.as<K, V>('name').withValueSerde(serde)", given.materialized?.valueSerde);
    // Repartitions first, each topic named after its grouping or the store (three indexes taken each).
    const parents = this.inputs.map(({ source }) => {
      if (!source.repartitionRequired) return source.parentName;
      const values = source.grouped?.valueSerde ?? source.valueSerde;
      return insertRepartition(graph, source.parentName, source.grouped?.name ?? storeName, keySerde, values, undefined, false, true);
    });
    const producer = new AggregateProducer(storeGetter(storeName));
    const aggregators = this.inputs.map(({ aggregator }, i) => {
      const name = graph.processorNameFor(given.named, 'COGROUPKSTREAM-AGGREGATE-', `-cogroup-agg-${i}`);
      const supplier = kstreamAggregate(storeName, initializer, aggregator, producer);
      graph.addProcessor({ name, parents: [parents[i]!], supplier, stores: [] });
      graph.connectStore(name, storeName);
      return name;
    });
    const mergeName = graph.processorNameFor(given.named, 'COGROUPKSTREAM-MERGE-', '-cogroup-merge');
    graph.addProcessor({ name: mergeName, parents: aggregators, supplier: passThrough(), stores: [] });
    graph.addStore({
      name: storeName,
      type: 'keyValue',
      keySerde,
      valueSerde,
      persistent: true,
      loggingEnabled: given.materialized?.loggingEnabled ?? true,
      changelogConfig: given.materialized?.changelogConfig ?? {},
      timestamped: true,
      cachingEnabled: given.materialized?.cachingEnabled ?? true,
    });
    if (parents.length > 1) graph.addCopartitionGroup(mergeName, parents);
    return new KTable<K, VA>(graph, mergeName, keySerde as Serde<K>, valueSerde as Serde<VA>, producer);
  }
}
