import type { Serde } from '../serdes/serde.js';
import { TopologyError } from '../errors/errors.js';
import type { InternalBuilder } from './internals/internal-builder.js';
import type { KeyValueMapper, Predicate, ValueJoiner, ValueMapper } from './internals/processors/functions.js';
import { KTableKTableJoin } from './internals/processors/ktable-ktable-join.js';
import { declareForeignKeyJoin } from './internals/foreign-key-join/declare-foreign-key-join.js';
import type { Change } from './internals/change.js';
import { KTableFilter, KTableMapValues } from './internals/processors/ktable-processors.js';
import {
  KTableTransformValues,
  type ValueTransformerWithKeySupplier,
} from './internals/processors/ktable-transform-values.js';
import { mapValues } from './internals/processors/stateless.js';
import type { TableProducer } from './internals/table-producer.js';
import { bufferStore, tableStore } from './internals/table-store.js';
import { ktableSuppress, type SuppressionKind } from './internals/processors/ktable-suppress.js';
import { KStream } from './kstream.js';
import { TableJoined } from './table-joined.js';
import { Materialized, Named, type Grouped, type Suppressed } from './options.js';
import type { KeyValue } from '../processor/record.js';
import { KGroupedTable } from './kgrouped-table.js';
import { ktableRepartitionMap } from './internals/processors/ktable-aggregate.js';

/** For windowed tables: how long after a window's end it closes (grace, or gap + grace for sessions). */
interface WindowInfo {
  readonly closeAfterMs: number;
}


/**
 * A changelog stream: the latest value per key, where a null value deletes the key. `builder.table()` and the
 * aggregations return tables; `toStream()` turns the updates back into a stream. Between a table's operators
 * flow changes (new value, and old value where an operator downstream needs it), as in Kafka Streams.
 */
export class KTable<K, V> {
  /** @internal */
  constructor(
    private readonly graph: InternalBuilder,
    /** @internal */ readonly nodeName: string,
    /** @internal */ readonly keySerde: Serde<K>,
    /** @internal */ readonly valueSerde: Serde<V> | undefined,
    /** @internal What produces the table: old values on request, and its value getter. */
    readonly producer: TableProducer,
    private readonly window?: WindowInfo,
  ) {}

  /**
   * Adds a filter or mapValues, named as Kafka Streams names it: a Materialized without a store name still
   * takes a store index first (nothing is stored then); with one, the results are kept in that store.
   */
  private add<VR>(
    prefix: string,
    options: Named | Materialized<K, VR> | undefined,
    materializedArg: Materialized<K, VR> | undefined,
    producer: (storeName: string | undefined, storeVersioned: boolean) => KTableFilter | KTableMapValues,
    valueSerde: Serde<VR> | undefined,
  ): KTable<K, VR> {
    const named = options instanceof Named ? options : undefined;
    const materialized = options instanceof Materialized ? options : materializedArg;
    if (materialized !== undefined && materialized.storeName === undefined) this.graph.newStoreName(prefix);
    const storeName = materialized?.storeName;
    const name = this.graph.processorNameFor(named?.name, prefix);
    const made = producer(storeName, materialized?.versioned !== undefined);
    this.graph.addProcessor({ name, parents: [this.nodeName], supplier: made.supplier(), stores: [] });
    const keySerde = (materialized?.keySerde ?? this.keySerde);
    const values = materialized?.valueSerde ?? valueSerde;
    if (storeName !== undefined) {
      const storeValues = this.graph.serdeFor('value', `Store '${storeName}'`, "pass Materialized.as<K, V>('name').withValueSerde(serde)", values);
      this.graph.addStore(tableStore(storeName, keySerde, storeValues, materialized, true));
      this.graph.connectStore(name, storeName);
    }
    return new KTable<K, VR>(this.graph, name, keySerde, values, made, this.window);
  }

  /**
   * Transforms each value with a stateful transformer that knows the key (Kafka Streams'
   * `KTable.transformValues`): `supplier()` gives one transformer per task, whose `init(context)` may open
   * the stores named in `stateStoreNames` (added with `builder.addStateStore`), and whose `transform(key,
   * value)` is called for every change, with a null value for a deletion. A `Materialized` with a store
   * name keeps the results in that store (queryable, and read by joins); a `Named` names the processor.
   */
  transformValues<VR>(supplier: ValueTransformerWithKeySupplier<K, V, VR>, ...stateStoreNames: string[]): KTable<K, VR>;
  transformValues<VR>(supplier: ValueTransformerWithKeySupplier<K, V, VR>, named: Named, ...stateStoreNames: string[]): KTable<K, VR>;
  transformValues<VR>(
    supplier: ValueTransformerWithKeySupplier<K, V, VR>,
    materialized: Materialized<K, VR>,
    ...stateStoreNames: string[]
  ): KTable<K, VR>;
  transformValues<VR>(
    supplier: ValueTransformerWithKeySupplier<K, V, VR>,
    materialized: Materialized<K, VR>,
    named: Named,
    ...stateStoreNames: string[]
  ): KTable<K, VR>;
  transformValues<VR>(
    supplier: ValueTransformerWithKeySupplier<K, V, VR>,
    ...options: Array<Materialized<K, VR> | Named | string>
  ): KTable<K, VR> {
    const materialized = options.find((o): o is Materialized<K, VR> => o instanceof Materialized);
    const named = options.find((o): o is Named => o instanceof Named);
    const stateStoreNames = options.filter((o): o is string => typeof o === 'string');
    // Kafka Streams' doTransformValues: no store index taken; stored only with a store name.
    const storeName = materialized?.storeName;
    const name = this.graph.processorNameFor(named?.name, 'KTABLE-TRANSFORMVALUES-');
    const made = new KTableTransformValues(this.producer, supplier, storeName, materialized?.versioned !== undefined);
    this.graph.addProcessor({ name, parents: [this.nodeName], supplier: made.supplier(), stores: [] });
    for (const store of stateStoreNames) this.graph.connectStore(name, store);
    const keySerde = materialized?.keySerde ?? this.keySerde;
    const values = materialized?.valueSerde;
    if (storeName !== undefined) {
      const storeValues = this.graph.serdeFor('value', `Store '${storeName}'`, "pass Materialized.as<K, V>('name').withValueSerde(serde)", values);
      this.graph.addStore(tableStore(storeName, keySerde, storeValues, materialized, true));
      this.graph.connectStore(name, storeName);
    }
    return new KTable<K, VR>(this.graph, name, keySerde, values, made, this.window);
  }

  /**
   * The stream of this table's updates; deletions arrive as records with a null value. With a `mapper`, each
   * update is re-keyed by it (Kafka Streams' `toStream(KeyValueMapper)`: `toStream(named).selectKey(mapper)`),
   * e.g. `windowedCounts.toStream((windowed) => windowed.key)`; a later grouping repartitions.
   */
  // The mapper's overload first: a function has a `name`, so it would also pass for a Named.
  toStream<KR>(mapper: KeyValueMapper<K, V, KR>, named?: Named): KStream<KR, V>;
  toStream(named?: Named): KStream<K, V>;
  toStream<KR>(mapperOrNamed?: KeyValueMapper<K, V, KR> | Named, named?: Named): KStream<K, V> | KStream<KR, V> {
    const mapper = mapperOrNamed instanceof Named ? undefined : mapperOrNamed;
    const given = mapperOrNamed instanceof Named ? mapperOrNamed : named;
    const name = this.graph.processorNameFor(given?.name, 'KTABLE-TOSTREAM-');
    const newValue = mapValues((c) => (c as Change<unknown>).newValue);
    this.graph.addProcessor({ name, parents: [this.nodeName], supplier: newValue, stores: [] });
    const stream = new KStream<K, V>(this.graph, name, this.keySerde, this.valueSerde, false);
    return mapper === undefined ? stream : stream.selectKey(mapper);
  }

  /**
   * Keeps the keys whose value matches; a value that does not match deletes its key from the result. With a
   * store name in `materialized`, the result is kept (and queryable) in that store.
   */
  filter(predicate: Predicate<K, V>, named?: Named | Materialized<K, V>, materialized?: Materialized<K, V>): KTable<K, V> {
    const make = (store: string | undefined, versioned: boolean) => new KTableFilter(this.producer, predicate as Predicate<unknown, unknown>, true, store, versioned);
    return this.add('KTABLE-FILTER-', named, materialized, make, this.valueSerde);
  }

  /** Keeps the keys whose value does not match. */
  filterNot(predicate: Predicate<K, V>, named?: Named | Materialized<K, V>, materialized?: Materialized<K, V>): KTable<K, V> {
    const make = (store: string | undefined, versioned: boolean) => new KTableFilter(this.producer, predicate as Predicate<unknown, unknown>, false, store, versioned);
    return this.add('KTABLE-FILTER-', named, materialized, make, this.valueSerde);
  }

  /** Maps each value; deletions stay deletions. */
  mapValues<VR>(mapper: ValueMapper<K, V, VR>, named?: Named | Materialized<K, VR>, materialized?: Materialized<K, VR>): KTable<K, VR> {
    const make = (store: string | undefined, versioned: boolean) => new KTableMapValues(this.producer, mapper as ValueMapper<unknown, unknown, unknown>, store, versioned);
    return this.add<VR>('KTABLE-MAPVALUES-', named, materialized, make, undefined);
  }

  /**
   * Joins two tables on their key (Kafka Streams' table-table join): the result has a value for each key in
   * both, `joiner(value, otherValue)`, updated whenever either side changes, and deleted when either side
   * deletes the key. Results are stamped with the later of the two sides' timestamps. With `materialized`
   * the results are kept in a store (named, or `KTABLE-MERGE-STATE-STORE-<n>`).
   *
   * With a `foreignKeyExtractor` (a function before the joiner): a foreign-key join, as Kafka Streams'.
   * Each value of this table is joined with the row of `other` whose key `foreignKeyExtractor(value)` gives:
   * the result is keyed by this table's key, `joiner(value, otherValue)`, and follows both sides (a change of
   * an `other` row updates every value that points to it; a changed foreign key moves the value to its new
   * row). A value whose foreign key is null or has no row has no result. The tables need not be
   * co-partitioned: subscriptions go through `<app>-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-<n>-topic` (as
   * many partitions as `other`'s topic) and answers back through `...-SUBSCRIPTION-RESPONSE-<n>-topic` (as many
   * as this table's). A `Named` names the processors, topics and stores after it. e.g.
   * `orders.join(customers, (order) => order.customerId, (order, customer) => ({ ...order, tier: customer.tier }))`.
   */
  join<KO, VO, VR>(
    other: KTable<KO, VO>,
    foreignKeyExtractor: (value: V) => KO | null,
    joiner: ValueJoiner<V, VO, VR, K>,
    named?: Named | TableJoined<K, KO> | Materialized<K, VR>,
    materialized?: Materialized<K, VR>,
  ): KTable<K, VR>;
  join<VO, VR>(
    other: KTable<K, VO>,
    joiner: ValueJoiner<V, VO, VR, K>,
    named?: Named | Materialized<K, VR>,
    materialized?: Materialized<K, VR>,
  ): KTable<K, VR>;
  join<VO, VR>(
    other: KTable<unknown, VO>,
    joinerOrExtractor: ValueJoiner<V, VO, VR, K> | ((value: V) => unknown),
    options?: Named | Materialized<K, VR> | ValueJoiner<V, VO, VR, K>,
    materialized?: Named | TableJoined<K, never> | Materialized<K, VR>,
    fkMaterialized?: Materialized<K, VR>,
  ): KTable<K, VR> {
    if (typeof options === 'function') return this.joinOnForeignKey(other, joinerOrExtractor as (value: V) => unknown, options as ValueJoiner<V, VO, VR, K>, materialized, fkMaterialized, false);
    return this.joinTable('inner', other as KTable<K, VO>, joinerOrExtractor as ValueJoiner<unknown, unknown, unknown>, options, materialized as Materialized<K, VR> | undefined);
  }

  /**
   * As `join`, but every key of this table has a result: `joiner(value, null)` while the other has none.
   * With a `foreignKeyExtractor`: a foreign-key left join; a value whose foreign key is null or has no row
   * is joined with null.
   */
  leftJoin<KO, VO, VR>(
    other: KTable<KO, VO>,
    foreignKeyExtractor: (value: V) => KO | null,
    joiner: ValueJoiner<V, VO | null, VR, K>,
    named?: Named | TableJoined<K, KO> | Materialized<K, VR>,
    materialized?: Materialized<K, VR>,
  ): KTable<K, VR>;
  leftJoin<VO, VR>(
    other: KTable<K, VO>,
    joiner: ValueJoiner<V, VO | null, VR, K>,
    named?: Named | Materialized<K, VR>,
    materialized?: Materialized<K, VR>,
  ): KTable<K, VR>;
  leftJoin<VO, VR>(
    other: KTable<unknown, VO>,
    joinerOrExtractor: ValueJoiner<V, VO | null, VR, K> | ((value: V) => unknown),
    options?: Named | Materialized<K, VR> | ValueJoiner<V, VO | null, VR, K>,
    materialized?: Named | TableJoined<K, never> | Materialized<K, VR>,
    fkMaterialized?: Materialized<K, VR>,
  ): KTable<K, VR> {
    if (typeof options === 'function') return this.joinOnForeignKey(other, joinerOrExtractor as (value: V) => unknown, options as ValueJoiner<V, VO, VR, K>, materialized, fkMaterialized, true);
    return this.joinTable('left', other as KTable<K, VO>, joinerOrExtractor as ValueJoiner<unknown, unknown, unknown>, options, materialized as Materialized<K, VR> | undefined);
  }

  /** The foreign-key join (see `join`), declared as Kafka Streams' KTableImpl#doJoinOnForeignKey. */
  private joinOnForeignKey<VO, VR>(
    other: KTable<unknown, VO>,
    extractor: (value: V) => unknown,
    joiner: ValueJoiner<V, VO, VR, K> | ValueJoiner<V, VO | null, VR, K>,
    options: Named | TableJoined<K, never> | Materialized<K, VR> | undefined,
    materializedArg: Materialized<K, VR> | undefined,
    leftJoin: boolean,
  ): KTable<K, VR> {
    const tableJoined = options instanceof TableJoined ? options : undefined;
    const named = options instanceof Named ? options : tableJoined?.name !== undefined ? Named.as(tableJoined.name) : undefined;
    const materialized = options instanceof Materialized ? options : materializedArg;
    const { name, producer, keySerde } = declareForeignKeyJoin(
      this.graph,
      this,
      other,
      extractor as (value: unknown) => unknown,
      joiner as ValueJoiner<unknown, unknown, unknown>,
      leftJoin,
      named,
      materialized,
      tableJoined,
    );
    return new KTable<K, VR>(this.graph, name, keySerde as Serde<K>, materialized?.valueSerde, producer);
  }

  /** As `join`, but every key of either table has a result; the side without a value is null. */
  outerJoin<VO, VR>(
    other: KTable<K, VO>,
    joiner: ValueJoiner<V | null, VO | null, VR, K>,
    named?: Named | Materialized<K, VR>,
    materialized?: Materialized<K, VR>,
  ): KTable<K, VR> {
    return this.joinTable('outer', other, joiner as ValueJoiner<unknown, unknown, unknown>, named, materialized);
  }

  /** Named as Kafka Streams' KTableImpl#doJoin names it: the store, the merger, then this side's and the other's. */
  private joinTable<VO, VR>(
    kind: 'inner' | 'left' | 'outer',
    other: KTable<K, VO>,
    joiner: ValueJoiner<unknown, unknown, unknown>,
    options: Named | Materialized<K, VR> | undefined,
    materializedArg: Materialized<K, VR> | undefined,
  ): KTable<K, VR> {
    const graph = this.graph;
    const named = options instanceof Named ? options : undefined;
    const materialized = options instanceof Materialized ? options : materializedArg;
    const storeName = materialized === undefined ? undefined : (materialized.storeName ?? graph.newStoreName('KTABLE-MERGE-'));
    const mergeName = graph.processorNameFor(named?.name, 'KTABLE-MERGE-');
    if (kind !== 'inner') this.producer.enableSendingOldValues(true);
    if (kind === 'outer') other.producer.enableSendingOldValues(true);
    const join = new KTableKTableJoin(kind, this.producer, other.producer, joiner, storeName);
    const thisName = graph.processorNameFor(named?.name, 'KTABLE-JOINTHIS-', '-join-this');
    const otherName = graph.processorNameFor(named?.name, 'KTABLE-JOINOTHER-', '-join-other');
    graph.addProcessor({ name: thisName, parents: [this.nodeName], supplier: join.thisSide(), stores: [] });
    for (const store of join.otherView.storeNames) graph.connectStore(thisName, store);
    graph.addProcessor({ name: otherName, parents: [other.nodeName], supplier: join.otherSide(), stores: [] });
    for (const store of join.thisView.storeNames) graph.connectStore(otherName, store);
    graph.addProcessor({ name: mergeName, parents: [thisName, otherName], supplier: join.merger(), stores: [] });
    graph.addCopartitionGroup(mergeName, [this.nodeName, other.nodeName]);
    const keySerde = (materialized?.keySerde ?? this.keySerde);
    if (storeName !== undefined) {
      const storeValues = graph.serdeFor('value', `Store '${storeName}' of a table join`, "pass Materialized.as<K, V>('name').withValueSerde(serde)", materialized?.valueSerde);
      graph.addStore(tableStore(storeName, keySerde, storeValues, materialized));
      graph.connectStore(mergeName, storeName);
    }
    return new KTable<K, VR>(graph, mergeName, keySerde, materialized?.valueSerde, join);
  }

  /**
   * Re-groups the table by a new key and value, for `count`, `reduce` or `aggregate` with a subtractor: each
   * update takes the key's old pair out of its group and puts the new pair into its own (through a
   * repartition topic). A pair with a null key or value is skipped.
   */
  groupBy<KR, VR>(selector: KeyValueMapper<K, V, KeyValue<KR, VR>>, grouped?: Grouped<KR, VR>): KGroupedTable<KR, VR> {
    const name = this.graph.processorNameFor(grouped?.name, 'KTABLE-SELECT-');
    const supplier = ktableRepartitionMap(selector as KeyValueMapper<unknown, unknown, KeyValue<unknown, unknown>>);
    this.graph.addProcessor({ name, parents: [this.nodeName], supplier: supplier, stores: [] });
    this.producer.enableSendingOldValues(true);
    return new KGroupedTable<KR, VR>(this.graph, name, grouped);
  }

  /**
   * `Suppressed.untilWindowCloses()`: one final result per window, when it closes. Only for windowed tables.
   * The buffer is a logged store (`<name>-store` or a generated name), so it survives restarts.
   */
  suppress(suppressed: Suppressed): KTable<K, V> {
    if (this.producer.isOutputVersioned?.() === true) {
      // Kafka Streams' InternalStreamsBuilder#enableVersionedSemantics refuses it the same way.
      throw new TopologyError(
        'suppress() is only supported for non-versioned KTables (note that version semantics might be inherited from upstream): ' +
          'suppress a table kept in a timestamped store, e.g. mapValues(v => v, Materialized.as(name)) first.',
      );
    }
    // As Kafka Streams' KTableSuppressProcessorSupplier: the table upstream sends old values (and so is materialized).
    this.producer.enableSendingOldValues(true);
    if (suppressed.kind === 'untilWindowCloses' && this.window === undefined) {
      throw new TopologyError(
        'suppress(Suppressed.untilWindowCloses()) needs a windowed table: call it on the result of ' +
          'windowedBy(...).aggregate/count/reduce.',
      );
    }
    // As KTableImpl#suppress: the processor takes its index first, then the store (and so its changelog topic).
    const name = suppressed.name ?? this.graph.newProcessorName('KTABLE-SUPPRESS-');
    const storeName = suppressed.name !== undefined ? `${suppressed.name}-store` : this.graph.newStoreName('KTABLE-SUPPRESS-');
    const kind: SuppressionKind =
      suppressed.kind === 'untilWindowCloses'
        ? { kind: 'untilWindowCloses', closeAfterMs: this.window!.closeAfterMs }
        : { kind: 'untilTimeLimit', limitMs: suppressed.timeLimitMs ?? 0 };
    // A windowed table is keyed by Windowed keys, and its key serde is a windowed serde.
    const keyHint = 'give the table serdes (Materialized...withKeySerde / withValueSerde)';
    const valueHint = this.window !== undefined ? 'pass Materialized...withValueSerde(serde) to the aggregation' : keyHint;
    const supplier = ktableSuppress(
      name,
      storeName,
      kind,
      suppressed.bufferConfig,
      this.graph.serdeFor('key', `suppress ${name}`, keyHint, this.keySerde),
      this.graph.serdeFor('value', `suppress ${name}`, valueHint, this.valueSerde),
    );
    this.graph.addProcessor({ name, parents: [this.nodeName], supplier: supplier, stores: [] });
    const { loggingEnabled, changelogConfig } = suppressed.bufferConfig;
    this.graph.addStore(bufferStore(storeName, loggingEnabled, changelogConfig));
    this.graph.connectStore(name, storeName);
    return new KTable<K, V>(this.graph, name, this.keySerde, this.valueSerde, this.producer, this.window);
  }

}
