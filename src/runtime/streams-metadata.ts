import type { KafkaClient } from '../client/kafka-client.js';
import type { ResolvedStreamsConfig } from '../config/streams-config.js';
import type { Topology } from '../processor/topology.js';
import type { Serde } from '../serdes/serde.js';
import { describeGroupMembers, statefulTaskIds } from './group-members.js';
import type { TopologyMetadata } from './internal-topic-manager.js';
import { partitionForKey } from './murmur2.js';
import { InvalidStateStoreError } from './queryable-stores.js';
import { computeStandbys } from './task-assignor.js';
import { formatTaskId } from '../processor/task-id.js';

/** Where a key's state lives (see `metadataForKey`). */
export interface KeyQueryMetadata {
  /** The owner's `applicationServer` setting (host:port), undefined if it set none. */
  readonly applicationServer: string | undefined;
  /** The owner's client id. */
  readonly clientId: string;
  /** The task that holds the key (`<sub-topology>_<partition>`). */
  readonly taskId: string;
  /** The key's partition. */
  readonly partition: number;
}

/** One member of the application's group. */
export interface StreamsClientMetadata {
  /** Its member id in the consumer group. */
  readonly memberId: string;
  /** Its client id. */
  readonly clientId: string;
  /** Its `applicationServer` setting (host:port), undefined if it set none. */
  readonly applicationServer: string | undefined;
  /** Tasks it processes. */
  readonly activeTasks: readonly string[];
  /** Tasks it keeps warm replicas of (with `numStandbyReplicas`). */
  readonly standbyTasks: readonly string[];
}

/**
 * The task and partition that hold a key of a store: the key serialized with `keySerde` (default: the store's
 * key serde) and partitioned as the default partitioner does (murmur2), as Kafka Streams' metadataForKey does.
 * `metadata`: the partition counts of a started instance.
 */
export function taskOfKey<K>(
  topology: Topology,
  metadata: TopologyMetadata | undefined,
  storeName: string,
  key: K,
  keySerde?: Serde<K>,
): { taskId: string; partition: number } {
  const definition = topology.stores.get(storeName);
  const sub = topology.subtopologies.find((s) => s.stores.some((d) => d.name === storeName));
  if (definition === undefined || sub === undefined) throw new InvalidStateStoreError(`The topology has no store '${storeName}'`);
  const partitions = metadata?.partitionsBySubtopology.get(sub.id);
  if (partitions === undefined) throw new InvalidStateStoreError('metadataForKey() needs a started instance');
  const serde = keySerde ?? (definition.keySerde as Serde<K>);
  const bytes = serde.serialize(key, sub.sourceTopics[0] ?? storeName);
  if (bytes === null) throw new InvalidStateStoreError('A null key has no partition');
  const partition = partitionForKey(bytes, partitions);
  return { taskId: formatTaskId({ subtopology: sub.id, partition }), partition };
}

/** Every assigned member of the application's group, by member id: its `applicationServer`, client id, active and standby tasks. */
export async function describeStreamsClients(
  client: KafkaClient,
  topology: Topology,
  config: ResolvedStreamsConfig,
  metadata: TopologyMetadata | undefined,
): Promise<StreamsClientMetadata[]> {
  const admin = client.admin();
  await admin.connect();
  try {
    const members = (await describeGroupMembers(admin, config.applicationId, topology)).filter((m) => m.assigned);
    // Standby placement is computed by every member alike (see computeStandbys): do the same here.
    const standbys =
      config.numStandbyReplicas > 0 && metadata !== undefined
        ? computeStandbys(
            members.map((m) => ({ memberId: m.memberId, active: m.activeTasks, state: m.subscription.state })),
            statefulTaskIds(topology, metadata.partitionsBySubtopology),
            config.numStandbyReplicas,
          )
        : new Map<string, string[]>();
    const clients: StreamsClientMetadata[] = members.map((m) => ({
      memberId: m.memberId,
      clientId: m.clientId,
      applicationServer: m.subscription.server,
      activeTasks: m.activeTasks,
      standbyTasks: (standbys.get(m.memberId) ?? []).filter((t) => !m.activeTasks.includes(t)).sort(),
    }));
    return clients.sort((a, b) => (a.memberId < b.memberId ? -1 : 1));
  } finally {
    await admin.disconnect();
  }
}
