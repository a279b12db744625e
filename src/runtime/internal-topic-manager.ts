import kafkajs, { type Admin } from 'kafkajs';

// Node's ESM loader does not see this enum among kafkajs' named (CommonJS) exports.
const { ConfigResourceTypes } = kafkajs;
import type { Topology } from '../processor/topology.js';
import { StreamsRuntimeError } from '../errors/errors.js';
import type { Logger } from '../logging/logger.js';

/** Partition counts the running application works with. */
export interface TopologyMetadata {
  /** Tasks per sub-topology = its partition count. */
  readonly partitionsBySubtopology: ReadonlyMap<number, number>;
  readonly partitionsByTopic: ReadonlyMap<string, number>;
}

async function partitionCounts(admin: Admin, topics: string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (topics.length === 0) return counts;
  const existing = new Set(await admin.listTopics());
  const present = topics.filter((t) => existing.has(t));
  if (present.length === 0) return counts;
  const { topics: metadata } = await admin.fetchTopicMetadata({ topics: present });
  for (const t of metadata) counts.set(t.name, t.partitions.length);
  return counts;
}

/**
 * Checks the topics a topology needs before it runs, and creates the internal ones, as Kafka Streams'
 * InternalTopicManager does:
 *  - every source topic must exist (we never create a user's topic);
 *  - topics read by one sub-topology must have equal partition counts (co-partitioning);
 *  - a repartition topic gets the partition count of the sub-topology that writes it (or its explicit count);
 *  - a changelog gets one partition per task of its sub-topology;
 *  - an existing internal topic with another partition count or cleanup policy stops the start.
 */
export async function ensureTopics(
  admin: Admin,
  topology: Topology,
  replicationFactor: number,
  logger: Logger,
): Promise<TopologyMetadata> {
  const external = topology.externalSourceTopics();
  const sinkTopics = [...new Set(topology.subtopologies.flatMap((s) => s.sinkTopics))];
  const internalNames = topology.internalTopics.map((t) => t.name);
  const counts = await partitionCounts(admin, [...new Set([...external, ...sinkTopics, ...internalNames])]);

  const missing = external.filter((t) => !counts.has(t));
  if (missing.length > 0) {
    throw new StreamsRuntimeError(
      `Source topic(s) ${missing.join(', ')} do not exist. Create them before starting the application ` +
        `(for example: kafka-topics.sh --create --topic ${missing[0]} --partitions 6).`,
    );
  }

  const bySubtopology = new Map<number, number>();
  const byTopic = new Map<string, number>(counts);
  const repartitions = topology.internalTopics.filter((t) => t.kind === 'repartition');
  // Resolve sub-topologies in dependency order: a repartition topic's count comes from its writer.
  for (let pass = 0; pass <= topology.subtopologies.length && bySubtopology.size < topology.subtopologies.length; pass++) {
    for (const sub of topology.subtopologies) {
      if (bySubtopology.has(sub.id)) continue;
      const sourceCounts: Array<[string, number]> = [];
      let unresolved = false;
      for (const topic of sub.sourceTopics) {
        const repartition = repartitions.find((r) => r.name === topic);
        if (repartition !== undefined) {
          if (repartition.numberOfPartitions !== undefined) {
            sourceCounts.push([topic, repartition.numberOfPartitions]);
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
        throw new StreamsRuntimeError(
          `Sub-topology ${sub.id} reads topics that are not co-partitioned: ` +
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

  const toCreate: Array<{ topic: string; numPartitions: number; replicationFactor: number; configEntries: Array<{ name: string; value: string }> }> = [];
  const problems: string[] = [];
  for (const internal of topology.internalTopics) {
    const expected = internal.kind === 'repartition' ? byTopic.get(internal.name)! : bySubtopology.get(internal.subtopologyId)!;
    byTopic.set(internal.name, expected);
    const actual = counts.get(internal.name);
    if (actual === undefined) {
      toCreate.push({
        topic: internal.name,
        numPartitions: expected,
        replicationFactor,
        configEntries: Object.entries(internal.config).map(([name, value]) => ({ name, value })),
      });
    } else if (actual !== expected) {
      problems.push(`${internal.name} has ${actual} partitions, the application needs ${expected}`);
    }
  }
  const existingInternal = topology.internalTopics.filter((t) => counts.has(t.name));
  if (existingInternal.length > 0) {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: existingInternal.map((t) => ({ type: ConfigResourceTypes.TOPIC, name: t.name, configNames: ['cleanup.policy'] })),
    });
    for (const resource of described.resources) {
      const internal = existingInternal.find((t) => t.name === resource.resourceName)!;
      const actual = resource.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue ?? 'delete';
      const wanted = internal.config['cleanup.policy'] ?? 'delete';
      const normalize = (p: string) => p.split(',').map((s) => s.trim()).sort().join(',');
      if (normalize(actual) !== normalize(wanted)) {
        problems.push(`${internal.name} has cleanup.policy=${actual}, the application needs ${wanted}`);
      }
    }
  }
  if (problems.length > 0) {
    throw new StreamsRuntimeError(
      `Internal topics do not match the topology:\n - ${problems.join('\n - ')}\n` +
        'If the topology changed on purpose, reset the application (kstreams reset) to recreate them.',
    );
  }
  if (toCreate.length > 0) {
    try {
      await admin.createTopics({ topics: toCreate, waitForLeaders: true });
    } catch (err) {
      // Another instance may have created them at the same moment; check once more.
      const after = await partitionCounts(admin, toCreate.map((t) => t.topic));
      const stillMissing = toCreate.filter((t) => !after.has(t.topic));
      if (stillMissing.length > 0) {
        throw new StreamsRuntimeError(
          `Could not create internal topics ${stillMissing.map((t) => t.topic).join(', ')}: ${(err as Error).message}`,
          { cause: err },
        );
      }
    }
    logger.info(`created internal topics: ${toCreate.map((t) => `${t.topic} (${t.numPartitions})`).join(', ')}`);
  }
  for (const topic of sinkTopics) if (!byTopic.has(topic)) byTopic.set(topic, counts.get(topic) ?? 0);
  return { partitionsBySubtopology: bySubtopology, partitionsByTopic: byTopic };
}
