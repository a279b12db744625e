import type { Serde } from '../serdes/serde.js';
import { Serdes } from '../serdes/serdes.js';
import { addAggregation, namedAndMaterialized, type GroupedSource } from './internals/aggregation.js';
import type { InternalBuilder } from './internals/internal-builder.js';
import { AggregateProducer, storeGetter } from './internals/table-producer.js';
import type { Aggregator, Initializer, Reducer } from './internals/processors/functions.js';
import { kstreamAggregate } from './internals/processors/kstream-aggregate.js';
import type { KStream } from './kstream.js';
import { KTable } from './ktable.js';
import type { Grouped, Materialized, Named } from './options.js';
import { SessionWindowedKStream } from './session-windowed-kstream.js';
import { CogroupedKStream } from './cogrouped-kstream.js';
import { TimeWindowedKStream } from './time-windowed-kstream.js';
import { SessionWindows, type TimeWindows } from './windows.js';
import type { SlidingWindows } from './sliding-windows.js';

/** A stream grouped by key, ready to aggregate (optionally per window). */
export class KGroupedStream<K, V> {
  private readonly source: GroupedSource;

  /** @internal */
  constructor(
    private readonly graph: InternalBuilder,
    stream: KStream<K, V>,
    grouped: Grouped<K, V> | undefined,
    repartitionRequired: boolean,
  ) {
    this.source = {
      parentName: stream.nodeName,
      keySerde: stream.keySerde,
      valueSerde: stream.valueSerde,
      grouped: grouped,
      repartitionRequired,
    };
  }

  /** Records per key. A `Named` names the processor, e.g. `count(Named.as('views-per-user'), Materialized.as('views'))`. */
  count(named?: Named | Materialized<K, number>, materialized?: Materialized<K, number>): KTable<K, number> {
    const given = namedAndMaterialized(named, materialized);
    return this.aggregateAs('KSTREAM-AGGREGATE-', () => 0, (_k, _v, n) => n + 1, given, Serdes.Int64(), true);
  }

  /** Combines the values of a key with `reducer`; the first value is the first aggregate. A `Named` names the processor. */
  reduce(reducer: Reducer<V>, named?: Named | Materialized<K, V>, materialized?: Materialized<K, V>): KTable<K, V> {
    const given = namedAndMaterialized(named, materialized);
    return this.aggregateAs<V>('KSTREAM-REDUCE-', undefined, (_k, v, agg) => reducer(agg, v), given, this.inputValueSerde());
  }

  /**
   * Folds the values of a key into an aggregate that starts as `initializer()`, e.g. `.aggregate(() => 0, (k,
   * view, total) => total + view.bytes, Materialized.with(Serdes.String(), Serdes.Int64()))`. The aggregate's
   * serde comes from `materialized`; a `Named` before it names the processor.
   */
  aggregate<VA>(
    initializer: Initializer<VA>,
    aggregator: Aggregator<K, V, VA>,
    named?: Named | Materialized<K, VA>,
    materialized?: Materialized<K, VA>,
  ): KTable<K, VA> {
    return this.aggregateAs('KSTREAM-AGGREGATE-', initializer, aggregator, namedAndMaterialized(named, materialized), undefined);
  }

  /** @internal What a cogroup takes from this grouped stream. */
  get cogroupSource(): GroupedSource {
    return this.source;
  }

  /**
   * Starts a cogroup (Kafka Streams' `KGroupedStream.cogroup`): this stream's records are folded into a
   * shared aggregate by `aggregator`; add other grouped streams of the same key with `.cogroup(other,
   * aggregator)`, then `.aggregate(initializer)`.
   */
  cogroup<VA>(aggregator: Aggregator<K, V, VA>): CogroupedKStream<K, VA> {
    return new CogroupedKStream<K, VA>(this.graph, [{ source: this.source, aggregator: aggregator as Aggregator<unknown, unknown, unknown> }]);
  }

  /** A reduce's values keep the input's type, and so its serde. */
  private inputValueSerde(): Serde<V> | undefined {
    return (this.source.grouped?.valueSerde ?? this.source.valueSerde) as Serde<V> | undefined;
  }

  private aggregateAs<VA>(
    prefix: string,
    initializer: Initializer<VA> | undefined,
    aggregator: Aggregator<K, V, VA>,
    given: { readonly named: string | undefined; readonly materialized: Materialized<K, VA> | undefined },
    defaultValueSerde: Serde<VA> | undefined,
    burnsStoreIndex = false,
  ): KTable<K, VA> {
    let producer: AggregateProducer | undefined;
    const result = addAggregation(this.graph, this.source, {
      prefix,
      materialized: given.materialized,
      named: given.named,
      burnsStoreIndex,
      storeType: 'keyValue',
      defaultValueSerde: defaultValueSerde,
      supplier: (store) => {
        producer = new AggregateProducer(storeGetter(store));
        return kstreamAggregate(store, initializer, aggregator as Aggregator<unknown, unknown, unknown>, producer);
      },
    });
    return new KTable<K, VA>(this.graph, result.processorName, result.keySerde as Serde<K>, result.valueSerde as Serde<VA>, producer!);
  }

  /** Aggregates per session of each key (see {@link SessionWindows}). */
  windowedBy(windows: SessionWindows): SessionWindowedKStream<K, V>;
  /** Aggregates per time window of each key: fixed ({@link TimeWindows}) or sliding ({@link SlidingWindows}). */
  windowedBy(windows: TimeWindows | SlidingWindows): TimeWindowedKStream<K, V>;
  windowedBy(windows: SessionWindows | TimeWindows | SlidingWindows): SessionWindowedKStream<K, V> | TimeWindowedKStream<K, V> {
    return windows instanceof SessionWindows
      ? new SessionWindowedKStream<K, V>(this.graph, this.source, windows)
      : new TimeWindowedKStream<K, V>(this.graph, this.source, windows);
  }
}
