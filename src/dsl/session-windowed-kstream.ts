import type { Serde } from '../serdes/serde.js';
import { Serdes } from '../serdes/serdes.js';
import { WindowedSerdes } from '../serdes/windowed-serdes.js';
import { addAggregation, type GroupedSource } from './internals/aggregation.js';
import type { InternalBuilder } from './internals/internal-builder.js';
import { AggregateProducer } from './internals/table-producer.js';
import type { Aggregator, Initializer, Merger, Reducer } from './internals/processors/functions.js';
import { sessionWindowAggregate } from './internals/processors/session-window-aggregate.js';
import { KTable } from './ktable.js';
import type { Materialized } from './options.js';
import type { Windowed } from '../processor/windowed.js';
import type { SessionWindows } from './windows.js';

/** A grouped stream cut into sessions of activity per key. */
export class SessionWindowedKStream<K, V> {
  /** @internal */
  constructor(
    private readonly graph: InternalBuilder,
    private readonly source: GroupedSource,
    private readonly windows: SessionWindows,
  ) {}

  /** Records per session of each key; merged sessions add up. */
  count(materialized?: Materialized<K, number>): KTable<Windowed<K>, number> {
    return this.build(() => 0, (_k, _v, n) => (n as number) + 1, (_k, a, b) => a + b, materialized, Serdes.Int64(), 'KSTREAM-AGGREGATE-');
  }

  /** Combines the values of each session with `reducer` (also when two sessions merge). */
  reduce(reducer: Reducer<V>, materialized?: Materialized<K, V>): KTable<Windowed<K>, V> {
    // A reduce has no initializer: an empty session starts as null and takes the first value as it is.
    const init = (): V => null as V;
    const add = (_k: K, v: V, agg: V): V => (agg === null ? v : reducer(agg, v));
    const merge = (_k: K, a: V, b: V): V => (a === null ? b : b === null ? a : reducer(a, b));
    return this.build(init, add, merge, materialized, (this.source.grouped?.valueSerde ?? this.source.valueSerde) as Serde<V> | undefined, 'KSTREAM-REDUCE-');
  }

  /**
   * Aggregates each session: `initializer` starts a session, `aggregator` adds a record, and `merger`
   * combines two sessions that a record joins together.
   */
  aggregate<VA>(
    initializer: Initializer<VA>,
    aggregator: Aggregator<K, V, VA>,
    merger: Merger<K, VA>,
    materialized?: Materialized<K, VA>,
  ): KTable<Windowed<K>, VA> {
    return this.build(initializer, aggregator, merger, materialized, undefined, 'KSTREAM-AGGREGATE-');
  }

  private build<VA>(
    initializer: Initializer<VA>,
    aggregator: Aggregator<K, V, VA>,
    merger: Merger<K, VA>,
    materialized: Materialized<K, VA> | undefined,
    defaultValueSerde: Serde<VA> | undefined,
    prefix: string,
  ): KTable<Windowed<K>, VA> {
    const result = addAggregation(this.graph, this.source, {
      prefix,
      materialized: materialized as Materialized<unknown, unknown> | undefined,
      storeType: 'session',
      defaultValueSerde: defaultValueSerde as Serde<unknown> | undefined,
      retentionMs: this.windows.defaultRetentionMs(),
      supplier: (store) =>
        sessionWindowAggregate(
          store,
          this.windows,
          initializer,
          aggregator as Aggregator<unknown, unknown, unknown>,
          merger as Merger<unknown, unknown>,
        ) as never,
    });
    const keySerde = WindowedSerdes.sessionWindowed(result.keySerde as Serde<K>);
    return new KTable<Windowed<K>, VA>(this.graph, result.processorName, keySerde, result.valueSerde as Serde<VA>, new AggregateProducer(undefined), {
      closeAfterMs: this.windows.inactivityGapMs + this.windows.gracePeriodMs,
    });
  }
}
