import type { Serde } from '../../serdes/serde.js';
import type { ProcessorSupplier } from '../../processor/processor-api.js';
import type { Materialized } from '../options.js';
import type { GroupedSource } from './aggregation.js';
import type { InternalBuilder } from './internal-builder.js';
import type { Aggregator } from './processors/functions.js';
import { passThrough } from './processors/stateless.js';
import { insertRepartition } from './repartition.js';

/** One grouped stream of a cogroup and the aggregator that folds its values in. */
export interface CogroupedInput {
  readonly source: GroupedSource;
  readonly aggregator: Aggregator<unknown, unknown, unknown>;
}

/** Kafka Streams' names of a cogroup's generated store and processors (CogroupedKStreamImpl). */
export const COGROUP_AGGREGATE_PREFIX = 'COGROUPKSTREAM-AGGREGATE-';
const COGROUP_MERGE_PREFIX = 'COGROUPKSTREAM-MERGE-';

/** The store's name (given or generated) and key serde (Materialized's, else the first grouping's). */
export function cogroupStore(
  graph: InternalBuilder,
  inputs: readonly CogroupedInput[],
  materialized: Materialized<unknown, unknown> | undefined,
): { readonly storeName: string; readonly keySerde: Serde<unknown> } {
  const storeName = materialized?.storeName ?? graph.newStoreName(COGROUP_AGGREGATE_PREFIX);
  const first = inputs[0]!.source;
  const keySerde = graph.serdeFor(
    'key',
    `Store '${storeName}' of the cogroup`,
    'pass Grouped.with(keySerde, valueSerde) to the groupings, or Materialized.with(keySerde, valueSerde)',
    materialized?.keySerde,
    first.grouped?.keySerde,
    first.keySerde,
  );
  return { storeName, keySerde };
}

/**
 * Kafka Streams' CogroupedStreamAggregateBuilder: a repartition per stream whose key may have changed (each
 * topic named after its grouping or the store), then one aggregate processor per stream (`<name>-cogroup-agg-<i>`
 * or `COGROUPKSTREAM-AGGREGATE-<n>`), all sharing the store, then a pass-through merge node
 * (`<name>-cogroup-merge` or `COGROUPKSTREAM-MERGE-<n>`) whose name is returned. The caller adds the store.
 */
export function addCogroupProcessors(
  graph: InternalBuilder,
  inputs: readonly CogroupedInput[],
  named: string | undefined,
  storeName: string,
  keySerde: Serde<unknown>,
  aggregateProcessor: (aggregator: Aggregator<unknown, unknown, unknown>) => ProcessorSupplier<unknown, unknown, unknown, unknown>,
): string {
  const parents = inputs.map(({ source }) => {
    if (!source.repartitionRequired) return source.parentName;
    const values = source.grouped?.valueSerde ?? source.valueSerde;
    return insertRepartition(graph, source.parentName, source.grouped?.name ?? storeName, keySerde, values, undefined, false, true);
  });
  const aggregators = inputs.map(({ aggregator }, i) => {
    const name = graph.processorNameFor(named, COGROUP_AGGREGATE_PREFIX, `-cogroup-agg-${i}`);
    graph.addProcessor({ name, parents: [parents[i]!], supplier: aggregateProcessor(aggregator), stores: [] });
    graph.connectStore(name, storeName);
    return name;
  });
  const mergeName = graph.processorNameFor(named, COGROUP_MERGE_PREFIX, '-cogroup-merge');
  graph.addProcessor({ name: mergeName, parents: aggregators, supplier: passThrough(), stores: [] });
  if (parents.length > 1) graph.addCopartitionGroup(mergeName, parents);
  return mergeName;
}
