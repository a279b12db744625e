import { StreamsRuntimeError } from '../errors/errors.js';
import type { Topology } from '../processor/topology.js';

/** Partition counts the running application works with. */
export interface TopologyMetadata {
  /** Tasks per sub-topology = its partition count. */
  readonly partitionsBySubtopology: ReadonlyMap<number, number>;
  readonly partitionsByTopic: ReadonlyMap<string, number>;
}

/**
 * The partition count of every sub-topology and internal topic, from the counts of the topics that exist
 * (`counts`: at least every external source topic), as Kafka Streams' InternalTopicManager and
 * CopartitionedTopicsEnforcer work them out; the one computation of the runtime (ensureTopics) and the
 * PartitionedTopologyTestDriver:
 *  - topics read by one sub-topology must have equal partition counts (co-partitioning), else a
 *    StreamsRuntimeError names the join and each topic's count;
 *  - a repartition topic gets the partition count of the sub-topology that writes it, or its explicit count,
 *    or (read next to user topics, a join after a key change) theirs;
 *  - a changelog gets one partition per task of its sub-topology.
 * In `partitionsByTopic`: every source topic, every internal topic (the count it must have) and every
 * sink topic named in the topology (its count in `counts`, 0 where unknown).
 */
export function resolvePartitionCounts(topology: Topology, counts: ReadonlyMap<string, number>): TopologyMetadata {
  const bySubtopology = new Map<number, number>();
  const byTopic = new Map<string, number>(counts);
  const repartitions = topology.internalTopics.filter((t) => t.kind === 'repartition');
  // Resolve sub-topologies in dependency order: a repartition topic's count comes from its writer.
  for (let pass = 0; pass <= topology.subtopologies.length && bySubtopology.size < topology.subtopologies.length; pass++) {
    for (const sub of topology.subtopologies) {
      if (bySubtopology.has(sub.id)) continue;
      const sourceCounts: Array<[string, number]> = [];
      let unresolved = false;
      // As Kafka Streams' co-partitioning: a repartition topic read next to user topics (a join after a key
      // change) takes their partition count, not its writer's.
      const externalCounts = sub.sourceTopics.filter((t) => !repartitions.some((r) => r.name === t)).map((t) => counts.get(t)!);
      for (const topic of sub.sourceTopics) {
        const repartition = repartitions.find((r) => r.name === topic);
        if (repartition !== undefined) {
          if (repartition.numberOfPartitions !== undefined) {
            sourceCounts.push([topic, repartition.numberOfPartitions]);
            continue;
          }
          if (externalCounts.length > 0) {
            sourceCounts.push([topic, Math.max(...externalCounts)]);
            continue;
          }
          const writer = topology.subtopologies.find((s) => s.sinkTopics.includes(topic));
          const writerCount = writer === undefined ? undefined : bySubtopology.get(writer.id);
          if (writerCount === undefined) {
            unresolved = true;
            break;
          }
          sourceCounts.push([topic, writerCount]);
        } else {
          sourceCounts.push([topic, counts.get(topic)!]);
        }
      }
      if (unresolved) continue;
      const distinct = new Set(sourceCounts.map(([, n]) => n));
      if (distinct.size > 1) {
        const joins = topology.copartitionGroups.filter((g) => g.topics.some((t) => sub.sourceTopics.includes(t))).map((g) => g.join);
        throw new StreamsRuntimeError(
          `Sub-topology ${sub.id}${joins.length > 0 ? ` (the join ${joins.join(', ')})` : ''} reads topics that are not co-partitioned: ` +
            `${sourceCounts.map(([t, n]) => `${t} (${n} partitions)`).join(', ')}. ` +
            'Give them the same partition count, or repartition() one of them.',
        );
      }
      const n = sourceCounts[0]?.[1] ?? 1;
      bySubtopology.set(sub.id, n);
      for (const [topic, count] of sourceCounts) byTopic.set(topic, count);
    }
  }
  if (bySubtopology.size < topology.subtopologies.length) {
    throw new StreamsRuntimeError('Could not work out the partition counts of the repartition topics (a cycle?)');
  }
  for (const internal of topology.internalTopics) {
    byTopic.set(internal.name, internal.kind === 'repartition' ? byTopic.get(internal.name)! : bySubtopology.get(internal.subtopologyId)!);
  }
  for (const sub of topology.subtopologies) for (const topic of sub.sinkTopics) if (!byTopic.has(topic)) byTopic.set(topic, counts.get(topic) ?? 0);
  return { partitionsBySubtopology: bySubtopology, partitionsByTopic: byTopic };
}
