import type { Serde } from '../serdes/serde.js';
import { Serdes } from '../serdes/serdes.js';
import { changeSerde } from './internals/change-serde.js';
import type { InternalBuilder } from './internals/internal-builder.js';
import type { Aggregator, Initializer, Reducer } from './internals/processors/functions.js';
import { ktableAggregate } from './internals/processors/ktable-aggregate.js';
import { AggregateProducer, storeGetter } from './internals/table-producer.js';
import { tableStore } from './internals/table-store.js';
import { KTable } from './ktable.js';
import type { Grouped, Materialized, Named } from './options.js';
import { namedAndMaterialized } from './internals/aggregation.js';

/**
 * A table re-grouped by a new key (`table.groupBy(...)`), ready to aggregate. Every change of the table
 * reaches the aggregation through a repartition topic as a subtraction of its old value and an addition of
 * its new one, so aggregations take an adder and a subtractor (Kafka Streams' KGroupedTable).
 */
export class KGroupedTable<K, V> {
  /** @internal */
  constructor(
    private readonly graph: InternalBuilder,
    private readonly selectName: string,
    private readonly grouped: Grouped<K, V> | undefined,
  ) {}

  /**
   * Values per key: +1 for each added value, -1 for each removed one. A `Named` names the processor and its
   * repartition topic's sink and source (`<name>-sink`, `<name>-source`).
   */
  count(named?: Named | Materialized<K, number>, materialized?: Materialized<K, number>): KTable<K, number> {
    const given = namedAndMaterialized(named, materialized);
    return this.aggregateAs<number>('KTABLE-AGGREGATE-', () => 0, (_k, _v, n) => n + 1, (_k, _v, n) => n - 1, given, Serdes.Int64());
  }

  /**
   * Combines values with `adder`, and takes removed values out with `subtractor`; the first value is the first
   * aggregate. A `Named` names the processor and its repartition topic's sink and source.
   */
  reduce(adder: Reducer<V>, subtractor: Reducer<V>, named?: Named | Materialized<K, V>, materialized?: Materialized<K, V>): KTable<K, V> {
    return this.aggregateAs<V>(
      'KTABLE-REDUCE-',
      undefined,
      (_k, v, agg) => adder(agg, v),
      (_k, v, agg) => subtractor(agg, v),
      namedAndMaterialized(named, materialized),
      this.grouped?.valueSerde,
    );
  }

  /**
   * Aggregates the values of each new key: `adder` folds in each added value and `subtractor` takes out
   * each removed one (a table update is a removal of the old value then an addition of the new one), both
   * starting from `initializer()` (Kafka Streams' `KGroupedTable.aggregate`).
   *
   * @param initializer - the aggregate of a key before its first value
   * @param adder - returns the aggregate with a value added
   * @param subtractor - returns the aggregate with a value removed
   * @param named - names the processor (and `<name>-sink`, `<name>-source` of its repartition topic); or the Materialized
   * @param materialized - names the store and gives the aggregate's serde
   * @example
   * ```ts
   * // total balance per region, kept right when an account moves region
   * accounts
   *   .groupBy((_id, a) => ({ key: a.region, value: a.balance }))
   *   .aggregate(() => 0, (_r, b, sum) => sum + b, (_r, b, sum) => sum - b, Materialized.with(Serdes.String(), Serdes.Int64()));
   * ```
   */
  aggregate<VA>(
    initializer: Initializer<VA>,
    adder: Aggregator<K, V, VA>,
    subtractor: Aggregator<K, V, VA>,
    named?: Named | Materialized<K, VA>,
    materialized?: Materialized<K, VA>,
  ): KTable<K, VA> {
    return this.aggregateAs('KTABLE-AGGREGATE-', initializer, adder, subtractor, namedAndMaterialized(named, materialized), undefined);
  }

  /**
   * Named as Kafka Streams names it: the store (given or generated), the repartition sink and source, the
   * processor; the topic is `<grouped name or store name>-repartition`.
   */
  private aggregateAs<VA>(
    prefix: string,
    initializer: Initializer<VA> | undefined,
    adder: Aggregator<K, V, VA>,
    subtractor: Aggregator<K, V, VA>,
    given: { readonly named: string | undefined; readonly materialized: Materialized<K, VA> | undefined },
    defaultValueSerde: Serde<VA> | undefined,
  ): KTable<K, VA> {
    const graph = this.graph;
    const { named, materialized } = given;
    // Kafka Streams' KGroupedTableImpl names the store of a reduce KTABLE-AGGREGATE- too.
    const storeName = materialized?.storeName ?? graph.newStoreName('KTABLE-AGGREGATE-');
    const sinkName = graph.processorNameFor(named, 'KSTREAM-SINK-', '-sink');
    const sourceName = graph.processorNameFor(named, 'KSTREAM-SOURCE-', '-source');
    const name = graph.processorNameFor(named, prefix);
    const topic = { name: `${this.grouped?.name ?? storeName}-repartition`, internal: true };
    const who = `The repartition topic ${topic.name} of a table's groupBy`;
    const hint = 'pass Grouped.with(keySerde, valueSerde) to groupBy';
    const keySerde = graph.serdeFor('key', who, hint, this.grouped?.keySerde, materialized?.keySerde);
    const groupedValues = changeSerde(graph.serdeFor('value', who, hint, this.grouped?.valueSerde as Serde<unknown> | undefined));
    graph.addSink({ name: sinkName, parents: [this.selectName], topic, keySerde, valueSerde: groupedValues });
    graph.addSource({ name: sourceName, topics: [topic], keySerde, valueSerde: groupedValues });
    graph.addRepartitionTopic({ name: topic.name });
    const producer = new AggregateProducer(storeGetter(storeName));
    const supplier = ktableAggregate(
      storeName,
      initializer,
      adder as Aggregator<unknown, unknown, unknown>,
      subtractor as Aggregator<unknown, unknown, unknown>,
      producer,
    );
    graph.addProcessor({ name, parents: [sourceName], supplier: supplier, stores: [] });
    const valueSerde = graph.serdeFor(
      'value',
      `Store '${storeName}' of the table aggregation`,
      "pass Materialized.as<K, V>('name').withValueSerde(serde)",
      materialized?.valueSerde,
      defaultValueSerde,
    );
    graph.addStore(tableStore(storeName, keySerde, valueSerde, materialized));
    graph.connectStore(name, storeName);
    return new KTable<K, VA>(graph, name, keySerde as Serde<K>, valueSerde as Serde<VA>, producer);
  }
}
