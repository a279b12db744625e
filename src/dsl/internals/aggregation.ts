import type { Serde } from '../../serdes/serde.js';
import type { StoreType } from '../../processor/store-definition.js';
import { Named, type Grouped, type Materialized } from '../options.js';
import type { ProcessorSupplier } from '../../processor/processor-api.js';
import type { InternalBuilder } from './internal-builder.js';
import { insertRepartition } from './repartition.js';

/** What a grouped stream hands to its aggregations. */
export interface GroupedSource {
  readonly parentName: string;
  readonly keySerde: Serde<unknown> | undefined;
  readonly valueSerde: Serde<unknown> | undefined;
  readonly grouped: Grouped<unknown, unknown> | undefined;
  readonly repartitionRequired: boolean;
}

export interface AggregationSpec {
  /** `KSTREAM-AGGREGATE-` or `KSTREAM-REDUCE-`: names the processor and a generated store. */
  readonly prefix: string;
  readonly materialized: Materialized<unknown, unknown> | undefined;
  /** The processor's name (`Named`); undefined: generated. */
  readonly named?: string;
  /**
   * `count(Materialized)` of grouped streams and of time and session windows takes a store index before
   * its store's (Kafka Streams: "we used to burn a topology name here, so we have to keep doing it").
   */
  readonly burnsStoreIndex?: boolean;
  readonly storeType: StoreType;
  /**
   * The value serde when Materialized gives none: count's Int64, reduce's input value serde (same type);
   * undefined for aggregate, whose values are of a new type (then the builder's default, or a problem).
   */
  readonly defaultValueSerde: Serde<unknown> | undefined;
  readonly retentionMs?: number;
  readonly windowSizeMs?: number;
  /**
   * `onWindowClose` windowed stores: Kafka Streams keeps them in a time-ordered store, which still serves a
   * window starting exactly `retention` before its observed time (others stop one ms earlier).
   */
  readonly timeOrderedStore?: boolean;
  readonly supplier: (storeName: string) => ProcessorSupplier<unknown, unknown, unknown, unknown>;
}

export interface AggregationResult {
  readonly processorName: string;
  readonly storeName: string;
  readonly keySerde: Serde<unknown>;
  readonly valueSerde: Serde<unknown>;
}

/**
 * Adds an aggregation the way Kafka Streams names it: the store name (given or generated), then a
 * repartition topic named after the grouping or the store when the key may have changed, then the
 * aggregate processor connected to its store.
 */
export function addAggregation(graph: InternalBuilder, source: GroupedSource, spec: AggregationSpec): AggregationResult {
  if (spec.burnsStoreIndex === true && spec.materialized !== undefined && spec.materialized.storeName === undefined) {
    graph.newStoreName(spec.prefix);
  }
  const storeName = spec.materialized?.storeName ?? graph.newStoreName(spec.prefix);
  const who = `Store '${storeName}' of the ${spec.prefix.replace(/^KSTREAM-|-$/g, '').toLowerCase()}`;
  const keySerde = graph.serdeFor(
    'key',
    who,
    'pass Grouped.with(keySerde, valueSerde) to the grouping, or Materialized.with(keySerde, valueSerde)',
    spec.materialized?.keySerde,
    source.grouped?.keySerde,
    source.keySerde,
  );
  const groupedValueSerde = source.grouped?.valueSerde ?? source.valueSerde;
  const valueSerde = graph.serdeFor(
    'value',
    who,
    "pass Materialized.as<K, V>('name').withValueSerde(serde)",
    spec.materialized?.valueSerde,
    spec.defaultValueSerde,
  );
  // Kafka Streams names the processor first (KGroupedStreamImpl), then GroupedStreamAggregateBuilder#build
  // adds the repartition through KStreamImpl#createRepartitionedSource, which takes three indexes (and uses
  // them as names when the topic is named after a generated store name).
  const processorName = graph.processorNameFor(spec.named, spec.prefix);
  let parent = source.parentName;
  if (source.repartitionRequired) {
    parent = insertRepartition(graph, parent, source.grouped?.name ?? storeName, keySerde, groupedValueSerde, undefined, false, true);
  }
  graph.addProcessor({ name: processorName, parents: [parent], supplier: spec.supplier(storeName), stores: [] });
  const retentionMs = spec.materialized?.retentionMs ?? spec.retentionMs;
  if (spec.materialized?.retentionMs !== undefined && spec.retentionMs !== undefined && spec.materialized.retentionMs < spec.retentionMs) {
    graph.problems.push(
      `Store '${storeName}' keeps data for ${spec.materialized.retentionMs} ms, less than its windows need ` +
        `(${spec.retentionMs} ms = size or gap + grace): raise withRetention().`,
    );
  }
  graph.addStore({
    name: storeName,
    type: spec.storeType,
    keySerde,
    valueSerde,
    persistent: true,
    loggingEnabled: spec.materialized?.loggingEnabled ?? true,
    changelogConfig: spec.materialized?.changelogConfig ?? {},
    retentionMs: retentionMs !== undefined && spec.timeOrderedStore === true ? retentionMs + 1 : retentionMs,
    windowSizeMs: spec.windowSizeMs,
    // Results are stamped with the largest timestamp that went into them (Kafka Streams' timestamped stores).
    timestamped: spec.storeType !== 'session',
    cachingEnabled: spec.materialized?.cachingEnabled ?? true,
  });
  graph.connectStore(processorName, storeName);
  return { processorName, storeName, keySerde, valueSerde };
}

/**
 * The optional trailing arguments of an aggregation, `([named], [materialized])` as Kafka Streams' overloads
 * take them: a Named first, or a Materialized alone.
 */
export function namedAndMaterialized<M>(
  first: Named | M | undefined,
  second: M | undefined,
): { readonly named: string | undefined; readonly materialized: M | undefined } {
  return first instanceof Named ? { named: first.name, materialized: second } : { named: undefined, materialized: first ?? second };
}
