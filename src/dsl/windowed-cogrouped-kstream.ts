import type { Serde } from '../serdes/serde.js';
import { WindowedSerdes } from '../serdes/windowed-serdes.js';
import type { Windowed } from '../processor/windowed.js';
import { namedAndMaterialized } from './internals/aggregation.js';
import { addCogroupProcessors, cogroupStore, type CogroupedInput } from './internals/cogroup-builder.js';
import type { InternalBuilder } from './internals/internal-builder.js';
import type { Initializer, Merger } from './internals/processors/functions.js';
import { sessionWindowAggregate } from './internals/processors/session-window-aggregate.js';
import { slidingWindowAggregate } from './internals/processors/sliding-window-aggregate.js';
import { timeWindowAggregate } from './internals/processors/time-window-aggregate.js';
import { AggregateProducer } from './internals/table-producer.js';
import { KTable } from './ktable.js';
import type { Materialized, Named } from './options.js';
import { SlidingWindows } from './sliding-windows.js';
import type { SessionWindows, TimeWindows } from './windows.js';

type Given<K, VA> = { readonly named: string | undefined; readonly materialized: Materialized<K, VA> | undefined };

/**
 * The store, the value serde and the processors of a windowed cogroup, named as Kafka Streams'
 * CogroupedStreamAggregateBuilder names them; returns the merge node, the store and the serdes.
 */
function buildWindowedCogroup<K, VA>(
  graph: InternalBuilder,
  inputs: readonly CogroupedInput[],
  given: Given<K, VA>,
  store: { readonly type: 'window' | 'session'; readonly retentionMs: number; readonly windowSizeMs?: number },
  processorFor: (storeName: string, aggregator: CogroupedInput['aggregator']) => ReturnType<Parameters<typeof addCogroupProcessors>[5]>,
): { readonly mergeName: string; readonly keySerde: Serde<unknown>; readonly valueSerde: Serde<unknown> } {
  const materialized = given.materialized as Materialized<unknown, unknown> | undefined;
  const { storeName, keySerde } = cogroupStore(graph, inputs, materialized);
  const valueSerde = graph.serdeFor(
    'value',
    `Store '${storeName}' of the windowed cogroup`,
    "pass Materialized.as<K, V>('name').withValueSerde(serde)",
    materialized?.valueSerde,
  );
  const mergeName = addCogroupProcessors(graph, inputs, given.named, storeName, keySerde, (aggregator) => processorFor(storeName, aggregator));
  const retentionMs = materialized?.retentionMs ?? store.retentionMs;
  if (retentionMs < store.retentionMs) {
    graph.problems.push(
      `Store '${storeName}' keeps data for ${retentionMs} ms, less than its windows need ` +
        `(${store.retentionMs} ms = size or gap + grace): raise withRetention().`,
    );
  }
  graph.addStore({
    name: storeName,
    type: store.type,
    keySerde,
    valueSerde,
    persistent: true,
    loggingEnabled: materialized?.loggingEnabled ?? true,
    changelogConfig: materialized?.changelogConfig ?? {},
    retentionMs,
    windowSizeMs: store.windowSizeMs,
    // Window aggregates are stamped with the largest timestamp that went into them; session stores are not timestamped.
    timestamped: store.type === 'window',
    cachingEnabled: materialized?.cachingEnabled ?? true,
  });
  return { mergeName, keySerde, valueSerde };
}

/**
 * A cogroup cut into time windows (tumbling or hopping) or sliding windows: Kafka Streams'
 * TimeWindowedCogroupedKStream. Every update of a window is forwarded (there is no emit strategy here, as in
 * Kafka Streams), through the store's cache when it caches.
 */
export class TimeWindowedCogroupedKStream<K, VA> {
  /** @internal Created by `CogroupedKStream.windowedBy`. */
  constructor(
    private readonly graph: InternalBuilder,
    private readonly inputs: readonly CogroupedInput[],
    private readonly windows: TimeWindows | SlidingWindows,
  ) {}

  /**
   * The table of each window's aggregate per key: `initializer()` starts a window, each stream's aggregator
   * adds its records. `materialized` names the window store (`withRetention` at least size + grace, or
   * 2 × time difference + grace for sliding windows) and gives the aggregate's serde; a `Named` names the
   * processors (`<name>-cogroup-agg-<i>`, `<name>-cogroup-merge`).
   */
  aggregate(initializer: Initializer<VA>, named?: Named | Materialized<K, VA>, materialized?: Materialized<K, VA>): KTable<Windowed<K>, VA> {
    const windows = this.windows;
    const producer = new AggregateProducer(undefined);
    const sendOldValues = (): boolean => producer.sendOldValues;
    const built = buildWindowedCogroup(
      this.graph,
      this.inputs,
      namedAndMaterialized(named, materialized),
      { type: 'window', retentionMs: windows.defaultRetentionMs(), windowSizeMs: windows.sizeMs },
      (store, aggregator) =>
        windows instanceof SlidingWindows
          ? slidingWindowAggregate(store, windows, initializer, aggregator, undefined, sendOldValues)
          : timeWindowAggregate(store, windows, initializer, aggregator, undefined, sendOldValues),
    );
    const keySerde = WindowedSerdes.timeWindowed(built.keySerde as Serde<K>, windows.sizeMs);
    return new KTable<Windowed<K>, VA>(this.graph, built.mergeName, keySerde, built.valueSerde as Serde<VA>, producer, {
      closeAfterMs: windows.gracePeriodMs,
    });
  }
}

/**
 * A cogroup cut into sessions of activity per key: Kafka Streams' SessionWindowedCogroupedKStream. A record
 * of any stream extends or opens a session of its key, and sessions it joins together are merged.
 */
export class SessionWindowedCogroupedKStream<K, VA> {
  /** @internal Created by `CogroupedKStream.windowedBy`. */
  constructor(
    private readonly graph: InternalBuilder,
    private readonly inputs: readonly CogroupedInput[],
    private readonly windows: SessionWindows,
  ) {}

  /**
   * The table of each session's aggregate per key: `initializer()` starts a session, each stream's aggregator
   * adds its records, `sessionMerger` combines two sessions that a record joins together. `materialized`
   * names the session store and gives the aggregate's serde; a `Named` names the processors.
   */
  aggregate(
    initializer: Initializer<VA>,
    sessionMerger: Merger<K, VA>,
    named?: Named | Materialized<K, VA>,
    materialized?: Materialized<K, VA>,
  ): KTable<Windowed<K>, VA> {
    const windows = this.windows;
    const producer = new AggregateProducer(undefined);
    const merger = sessionMerger as Merger<unknown, unknown>;
    const built = buildWindowedCogroup(
      this.graph,
      this.inputs,
      namedAndMaterialized(named, materialized),
      { type: 'session', retentionMs: windows.defaultRetentionMs() },
      (store, aggregator) => sessionWindowAggregate(store, windows, initializer, aggregator, merger, undefined, () => producer.sendOldValues),
    );
    const keySerde = WindowedSerdes.sessionWindowed(built.keySerde as Serde<K>);
    return new KTable<Windowed<K>, VA>(this.graph, built.mergeName, keySerde, built.valueSerde as Serde<VA>, producer, {
      closeAfterMs: windows.inactivityGapMs + windows.gracePeriodMs,
    });
  }
}
