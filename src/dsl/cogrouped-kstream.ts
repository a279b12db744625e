import type { Serde } from '../serdes/serde.js';
import { TopologyError } from '../errors/errors.js';
import { namedAndMaterialized } from './internals/aggregation.js';
import { addCogroupProcessors, cogroupStore, type CogroupedInput } from './internals/cogroup-builder.js';
import type { InternalBuilder } from './internals/internal-builder.js';
import type { Aggregator, Initializer } from './internals/processors/functions.js';
import { kstreamAggregate } from './internals/processors/kstream-aggregate.js';
import { AggregateProducer, storeGetter } from './internals/table-producer.js';
import { KTable } from './ktable.js';
import type { KGroupedStream } from './kgrouped-stream.js';
import type { Materialized, Named } from './options.js';
import type { SlidingWindows } from './sliding-windows.js';
import { SessionWindows, type TimeWindows } from './windows.js';
import { SessionWindowedCogroupedKStream, TimeWindowedCogroupedKStream } from './windowed-cogrouped-kstream.js';

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
   * Cuts the cogroup into windows (Kafka Streams' `CogroupedKStream.windowedBy`): time or sliding windows give
   * a `TimeWindowedCogroupedKStream`, session windows a `SessionWindowedCogroupedKStream`; each stream still
   * folds its records in with its own aggregator, into one window (or session) store.
   */
  windowedBy(windows: SessionWindows): SessionWindowedCogroupedKStream<K, VA>;
  windowedBy(windows: TimeWindows | SlidingWindows): TimeWindowedCogroupedKStream<K, VA>;
  windowedBy(windows: SessionWindows | TimeWindows | SlidingWindows): SessionWindowedCogroupedKStream<K, VA> | TimeWindowedCogroupedKStream<K, VA> {
    return windows instanceof SessionWindows
      ? new SessionWindowedCogroupedKStream<K, VA>(this.graph, this.inputs, windows)
      : new TimeWindowedCogroupedKStream<K, VA>(this.graph, this.inputs, windows);
  }

  /**
   * The table of the aggregates: `initializer()` starts a key, each stream's aggregator adds its records.
   * `materialized` names the store and gives the aggregate's serde; a `Named` names the processors
   * (`<name>-cogroup-agg-<i>`, `<name>-cogroup-merge`). Names as Kafka Streams' CogroupedStreamAggregateBuilder.
   */
  aggregate(initializer: Initializer<VA>, named?: Named | Materialized<K, VA>, materialized?: Materialized<K, VA>): KTable<K, VA> {
    const given = namedAndMaterialized(named, materialized);
    const graph = this.graph;
    const { storeName, keySerde } = cogroupStore(graph, this.inputs, given.materialized);
    const valueSerde = graph.serdeFor(
      'value',
      `Store '${storeName}' of the cogroup`,
      "pass Materialized.as<K, V>('name').withValueSerde(serde)",
      given.materialized?.valueSerde,
    );
    const producer = new AggregateProducer(storeGetter(storeName));
    const mergeName = addCogroupProcessors(graph, this.inputs, given.named, storeName, keySerde, (aggregator) =>
      kstreamAggregate(storeName, initializer, aggregator, producer),
    );
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
    return new KTable<K, VA>(graph, mergeName, keySerde as Serde<K>, valueSerde as Serde<VA>, producer);
  }
}
