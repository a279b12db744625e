import type { Serde } from '../serdes/serde.js';
import { Serdes } from '../serdes/serdes.js';
import { WindowedSerdes } from '../serdes/windowed-serdes.js';
import { addAggregation, namedAndMaterialized, type GroupedSource } from './internals/aggregation.js';
import type { InternalBuilder } from './internals/internal-builder.js';
import { AggregateProducer } from './internals/table-producer.js';
import type { Aggregator, Initializer, Reducer } from './internals/processors/functions.js';
import { timeWindowAggregate } from './internals/processors/time-window-aggregate.js';
import { KTable } from './ktable.js';
import type { Materialized, Named } from './options.js';
import type { Windowed } from '../processor/windowed.js';
import type { TimeWindows } from './windows.js';
import { SlidingWindows } from './sliding-windows.js';
import { slidingWindowAggregate } from './internals/processors/sliding-window-aggregate.js';
import { addEmitIndex, emitIndexName, timeWindowLayout, WindowCloseEmitter, type EmitBounds } from './internals/processors/window-close-emitter.js';
import { EmitStrategy } from './emit-strategy.js';

/** A grouped stream cut into fixed time windows (tumbling or hopping), or into sliding windows. */
export class TimeWindowedKStream<K, V> {
  /** @internal */
  constructor(
    private readonly graph: InternalBuilder,
    private readonly source: GroupedSource,
    private readonly windows: TimeWindows | SlidingWindows,
  ) {}

  private emit: EmitStrategy = EmitStrategy.onWindowUpdate();

  /**
   * `EmitStrategy.onWindowClose()`: each window's final result once, when it closes (end + grace passed),
   * instead of every update; the windows to emit are indexed in a logged store `<store>-emit-index`.
   */
  emitStrategy(strategy: EmitStrategy): this {
    this.emit = strategy;
    return this;
  }

  /** Records per window of each key. A `Named` names the processor. */
  count(named?: Named | Materialized<K, number>, materialized?: Materialized<K, number>): KTable<Windowed<K>, number> {
    // Kafka Streams' count(Materialized) takes a store index first for time windows, not for sliding ones.
    const burns = !(this.windows instanceof SlidingWindows);
    return this.build<number>('KSTREAM-AGGREGATE-', () => 0, (_k, _v, n) => n + 1, namedAndMaterialized(named, materialized), Serdes.Int64(), burns);
  }

  /** Combines the values of each window of a key with `reducer`; the first value is the first aggregate. A `Named` names the processor. */
  reduce(reducer: Reducer<V>, named?: Named | Materialized<K, V>, materialized?: Materialized<K, V>): KTable<Windowed<K>, V> {
    const values = (this.source.grouped?.valueSerde ?? this.source.valueSerde) as Serde<V> | undefined;
    return this.build<V>('KSTREAM-REDUCE-', undefined, (_k, v, agg) => reducer(agg, v), namedAndMaterialized(named, materialized), values);
  }

  /** Folds the values of each window of a key into an aggregate that starts as `initializer()`. A `Named` names the processor. */
  aggregate<VA>(
    initializer: Initializer<VA>,
    aggregator: Aggregator<K, V, VA>,
    named?: Named | Materialized<K, VA>,
    materialized?: Materialized<K, VA>,
  ): KTable<Windowed<K>, VA> {
    return this.build('KSTREAM-AGGREGATE-', initializer, aggregator, namedAndMaterialized(named, materialized), undefined);
  }

  private build<VA>(
    prefix: string,
    initializer: Initializer<VA> | undefined,
    aggregator: Aggregator<K, V, VA>,
    given: { readonly named: string | undefined; readonly materialized: Materialized<K, VA> | undefined },
    defaultValueSerde: Serde<VA> | undefined,
    burnsStoreIndex = false,
  ): KTable<Windowed<K>, VA> {
    const onClose = this.emit.type === 'onWindowClose';
    let keys: Serde<unknown> | undefined;
    const producer = new AggregateProducer(undefined);
    const sendOldValues = (): boolean => producer.sendOldValues;
    const result = addAggregation(this.graph, this.source, {
      prefix,
      materialized: given.materialized,
      named: given.named,
      burnsStoreIndex,
      storeType: 'window',
      defaultValueSerde: defaultValueSerde,
      retentionMs: this.windows.defaultRetentionMs(),
      windowSizeMs: this.windows.sizeMs,
      timeOrderedStore: onClose,
      supplier: (store) => {
        const windows = this.windows;
        const aggregate = aggregator as Aggregator<unknown, unknown, unknown>;
        const emitter = onClose ? () => new WindowCloseEmitter(emitIndexName(store), keys!, timeWindowLayout(windows.sizeMs), emitBounds(windows)) : undefined;
        return (
          windows instanceof SlidingWindows
            ? slidingWindowAggregate(store, windows, initializer, aggregate, emitter, sendOldValues)
            : timeWindowAggregate(store, windows, initializer, aggregate, emitter, sendOldValues)
        );
      },
    });
    keys = result.keySerde;
    if (onClose) addEmitIndex(this.graph, result.storeName, result.processorName);
    const keySerde = WindowedSerdes.timeWindowed(result.keySerde as Serde<K>, this.windows.sizeMs);
    return new KTable<Windowed<K>, VA>(this.graph, result.processorName, keySerde, result.valueSerde as Serde<VA>, producer, {
      closeAfterMs: this.windows.gracePeriodMs,
    });
  }
}

/** Kafka Streams' emit ranges of final results: KStreamWindowAggregate's and KStreamSlidingWindowAggregate's. */
function emitBounds(windows: TimeWindows | SlidingWindows): EmitBounds {
  if (windows instanceof SlidingWindows) {
    const d = windows.timeDifferenceMs;
    return {
      lower: (last) => (last === undefined ? 0 : Math.max(0, last - d)),
      upper: (close) => close - d - 1,
      shouldFetch: () => true,
    };
  }
  const size = windows.sizeMs;
  const same = (a: number[], b: number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
  return {
    // Window ends are exclusive: a window ending at the last close time was emitted then.
    lower: (last) => (last === undefined ? 0 : Math.max(0, last - size) + 1),
    upper: (close) => close - size,
    // Nothing to emit when no window boundary lies between the two bounds.
    shouldFetch: (lower, upper, last) => last === undefined || !same(windows.windowStartsFor(upper), windows.windowStartsFor(lower - 1)),
  };
}
