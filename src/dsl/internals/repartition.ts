import type { Serde } from '../../serdes/serde.js';
import type { InternalBuilder } from './internal-builder.js';
import { dropNullKeys, passThrough } from './processors/stateless.js';

/**
 * Inserts a repartition topic after `parentName`, named from `baseName` as Kafka Streams names it:
 * processors `<base>-repartition-filter` (drops null keys) and `<base>-repartition-sink`, topic
 * `<applicationId>-<base>-repartition`, and the source `<base>-repartition-source` that continues the
 * stream in a new sub-topology. Returns the source's name. `keepNullKeys`: for a left join, which joins a
 * null key too (Kafka Streams 3.7+ keeps them in the repartition before a NULL_KEY_RELAXED_JOIN).
 * `generatedNames`: name (and number) the processors as Kafka Streams does before a join or toTable.
 */
export function insertRepartition(
  graph: InternalBuilder,
  parentName: string,
  baseName: string,
  keySerde: Serde<unknown> | undefined,
  valueSerde: Serde<unknown> | undefined,
  numberOfPartitions?: number,
  keepNullKeys = false,
  generatedNames = false,
): string {
  const topic = { name: `${baseName}-repartition`, internal: true };
  let filterName = `${baseName}-repartition-filter`;
  let sinkName = `${baseName}-repartition-sink`;
  let sourceName = `${baseName}-repartition-source`;
  if (generatedNames) {
    // Kafka Streams' KStreamImpl#createRepartitionedSource (joins, toTable): three names always take an index,
    // and name the processors when the topic is named after a generated name.
    const sink = graph.newProcessorName('KSTREAM-SINK-');
    const filter = graph.newProcessorName('KSTREAM-FILTER-');
    const source = graph.newProcessorName('KSTREAM-SOURCE-');
    if (/^KSTREAM.*-[0-9]{10}$/.test(baseName)) [sinkName, filterName, sourceName] = [sink, filter, source];
  }
  const who = `The repartition topic ${topic.name}`;
  const hint = 'pass Grouped.with(keySerde, valueSerde) to the grouping (or Repartitioned.with to repartition())';
  const keys = graph.serdeFor('key', who, hint, keySerde);
  const values = graph.serdeFor('value', who, hint, valueSerde);
  const filter = keepNullKeys ? passThrough() : dropNullKeys();
  graph.addProcessor({ name: filterName, parents: [parentName], supplier: filter, stores: [] });
  graph.addSink({ name: sinkName, parents: [filterName], topic, keySerde: keys, valueSerde: values });
  graph.addSource({ name: sourceName, topics: [topic], keySerde: keys, valueSerde: values });
  graph.addRepartitionTopic({ name: topic.name, numberOfPartitions });
  return sourceName;
}
