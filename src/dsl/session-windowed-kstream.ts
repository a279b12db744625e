import type { Serde } from '../serdes/serde.js';
import { Serdes } from '../serdes/serdes.js';
import { WindowedSerdes } from '../serdes/windowed-serdes.js';
import { addAggregation, namedAndMaterialized, type GroupedSource } from './internals/aggregation.js';
import type { InternalBuilder } from './internals/internal-builder.js';
import { AggregateProducer } from './internals/table-producer.js';
import type { Aggregator, Initializer, Merger, Reducer } from './internals/processors/functions.js';
import { sessionWindowAggregate } from './internals/processors/session-window-aggregate.js';
import { KTable } from './ktable.js';
import type { Materialized, Named } from './options.js';
import type { Windowed } from '../processor/windowed.js';
import type { SessionWindows } from './windows.js';
import { EmitStrategy } from './emit-strategy.js';
import { addEmitIndex, emitIndexName, SESSION_LAYOUT, WindowCloseEmitter, type EmitBounds } from './internals/processors/window-close-emitter.js';

/**
 * KStreamSessionWindowAggregate's emit range: sessions whose end is in [last close time emitted, close
 * time - 1] (session ends are inclusive), fetched even when the range is a single point.
 */
const SESSION_EMIT_BOUNDS: EmitBounds = {
  lower: (last) => (last === undefined ? 0 : Math.max(0, last)),
  upper: (close) => close - 1,
  shouldFetch: (lower, upper) => upper >= lower,
};

/** A grouped stream cut into sessions of activity per key. */
export class SessionWindowedKStream<K, V> {
  /** @internal */
  constructor(
    private readonly graph: InternalBuilder,
    private readonly source: GroupedSource,
    private readonly windows: SessionWindows,
  ) {}

  private emit: EmitStrategy = EmitStrategy.onWindowUpdate();

  /**
   * `EmitStrategy.onWindowClose()`: each session's final result once, when it closes (its end + gap +
   * grace is behind stream time), instead of every update; a session merged into another before it closes
   * is never emitted, nor its tombstone. The sessions to emit are indexed in a logged store
   * `<store>-emit-index`. Kafka Streams' `SessionWindowedKStream#emitStrategy`.
   */
  emitStrategy(strategy: EmitStrategy): this {
    this.emit = strategy;
    return this;
  }

  /** Records per session of each key; merged sessions add up. A `Named` names the processor. */
  count(named?: Named | Materialized<K, number>, materialized?: Materialized<K, number>): KTable<Windowed<K>, number> {
    const given = namedAndMaterialized(named, materialized);
    return this.build(() => 0, (_k, _v, n) => n + 1, (_k, a, b) => a + b, given, Serdes.Int64(), 'KSTREAM-AGGREGATE-', true);
  }

  /** Combines the values of each session with `reducer` (also when two sessions merge). A `Named` names the processor. */
  reduce(reducer: Reducer<V>, named?: Named | Materialized<K, V>, materialized?: Materialized<K, V>): KTable<Windowed<K>, V> {
    // A reduce has no initializer: an empty session starts as null and takes the first value as it is.
    const init = (): V => null as V;
    const add = (_k: K, v: V, agg: V): V => (agg === null ? v : reducer(agg, v));
    const merge = (_k: K, a: V, b: V): V => (a === null ? b : b === null ? a : reducer(a, b));
    const values = (this.source.grouped?.valueSerde ?? this.source.valueSerde) as Serde<V> | undefined;
    return this.build(init, add, merge, namedAndMaterialized(named, materialized), values, 'KSTREAM-REDUCE-');
  }

  /**
   * Aggregates each session: `initializer` starts a session, `aggregator` adds a record, and `merger`
   * combines two sessions that a record joins together. A `Named` before `materialized` names the processor.
   */
  aggregate<VA>(
    initializer: Initializer<VA>,
    aggregator: Aggregator<K, V, VA>,
    merger: Merger<K, VA>,
    named?: Named | Materialized<K, VA>,
    materialized?: Materialized<K, VA>,
  ): KTable<Windowed<K>, VA> {
    return this.build(initializer, aggregator, merger, namedAndMaterialized(named, materialized), undefined, 'KSTREAM-AGGREGATE-');
  }

  private build<VA>(
    initializer: Initializer<VA>,
    aggregator: Aggregator<K, V, VA>,
    merger: Merger<K, VA>,
    given: { readonly named: string | undefined; readonly materialized: Materialized<K, VA> | undefined },
    defaultValueSerde: Serde<VA> | undefined,
    prefix: string,
    burnsStoreIndex = false,
  ): KTable<Windowed<K>, VA> {
    const onClose = this.emit.type === 'onWindowClose';
    let keys: Serde<unknown> | undefined;
    let values: Serde<unknown> | undefined;
    const producer = new AggregateProducer(undefined);
    const result = addAggregation(this.graph, this.source, {
      prefix,
      materialized: given.materialized,
      named: given.named,
      burnsStoreIndex,
      storeType: 'session',
      defaultValueSerde: defaultValueSerde,
      retentionMs: this.windows.defaultRetentionMs(),
      supplier: (store) =>
        sessionWindowAggregate(
          store,
          this.windows,
          initializer,
          aggregator as Aggregator<unknown, unknown, unknown>,
          merger as Merger<unknown, unknown>,
          onClose ? () => new WindowCloseEmitter(emitIndexName(store), keys!, SESSION_LAYOUT, SESSION_EMIT_BOUNDS, values) : undefined,
          () => producer.sendOldValues,
        ),
    });
    keys = result.keySerde;
    values = result.valueSerde;
    if (onClose) addEmitIndex(this.graph, result.storeName, result.processorName);
    const keySerde = WindowedSerdes.sessionWindowed(result.keySerde as Serde<K>);
    return new KTable<Windowed<K>, VA>(this.graph, result.processorName, keySerde, result.valueSerde as Serde<VA>, producer, {
      closeAfterMs: this.windows.inactivityGapMs + this.windows.gracePeriodMs,
    });
  }
}
