import type { Serde } from '../serdes/serde.js';
import { Serdes } from '../serdes/serdes.js';
import { WindowedSerdes } from '../serdes/windowed-serdes.js';
import { addAggregation, type GroupedSource } from './internals/aggregation.js';
import type { InternalBuilder } from './internals/internal-builder.js';
import { AggregateProducer } from './internals/table-producer.js';
import type { Aggregator, Initializer, Reducer } from './internals/processors/functions.js';
import { timeWindowAggregate } from './internals/processors/time-window-aggregate.js';
import { KTable } from './ktable.js';
import type { Materialized } from './options.js';
import type { Windowed } from '../processor/windowed.js';
import type { TimeWindows } from './windows.js';
import { SlidingWindows } from './sliding-windows.js';
import { slidingWindowAggregate } from './internals/processors/sliding-window-aggregate.js';

/** A grouped stream cut into fixed time windows (tumbling or hopping), or into sliding windows. */
export class TimeWindowedKStream<K, V> {
  /** @internal */
  constructor(
    private readonly graph: InternalBuilder,
    private readonly source: GroupedSource,
    private readonly windows: TimeWindows | SlidingWindows,
  ) {}

  count(materialized?: Materialized<K, number>): KTable<Windowed<K>, number> {
    return this.build<number>('KSTREAM-AGGREGATE-', () => 0, (_k, _v, n) => n + 1, materialized, Serdes.Int64());
  }

  reduce(reducer: Reducer<V>, materialized?: Materialized<K, V>): KTable<Windowed<K>, V> {
    return this.build<V>('KSTREAM-REDUCE-', undefined, (_k, v, agg) => reducer(agg, v), materialized, (this.source.grouped?.valueSerde ?? this.source.valueSerde) as Serde<V> | undefined);
  }

  aggregate<VA>(initializer: Initializer<VA>, aggregator: Aggregator<K, V, VA>, materialized?: Materialized<K, VA>): KTable<Windowed<K>, VA> {
    return this.build('KSTREAM-AGGREGATE-', initializer, aggregator, materialized, undefined);
  }

  private build<VA>(
    prefix: string,
    initializer: Initializer<VA> | undefined,
    aggregator: Aggregator<K, V, VA>,
    materialized: Materialized<K, VA> | undefined,
    defaultValueSerde: Serde<VA> | undefined,
  ): KTable<Windowed<K>, VA> {
    const result = addAggregation(this.graph, this.source, {
      prefix,
      materialized: materialized as Materialized<unknown, unknown> | undefined,
      storeType: 'window',
      defaultValueSerde: defaultValueSerde as Serde<unknown> | undefined,
      retentionMs: this.windows.defaultRetentionMs(),
      windowSizeMs: this.windows.sizeMs,
      supplier: (store) => {
        const windows = this.windows;
        const aggregate = aggregator as Aggregator<unknown, unknown, unknown>;
        return (
          windows instanceof SlidingWindows
            ? slidingWindowAggregate(store, windows, initializer, aggregate)
            : timeWindowAggregate(store, windows, initializer, aggregate)
        ) as never;
      },
    });
    const keySerde = WindowedSerdes.timeWindowed(result.keySerde as Serde<K>, this.windows.sizeMs);
    return new KTable<Windowed<K>, VA>(this.graph, result.processorName, keySerde, result.valueSerde as Serde<VA>, new AggregateProducer(undefined), {
      closeAfterMs: this.windows.gracePeriodMs,
    });
  }
}
