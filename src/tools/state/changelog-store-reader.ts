import type { KafkaClient } from '../../client/kafka-client.js';
import { StateStoreError } from '../../errors/errors.js';
import { changelogTopicName } from '../../processor/store-definition.js';
import { formatTaskId } from '../../processor/task-id.js';
import type { Topology } from '../../processor/topology.js';
import { ChangelogReader } from '../../runtime/changelog-reader.js';
import { isSchemaEvolving } from '../../serdes/avro-serde.js';
import { SCHEMA_HEADER } from '../../stores/changelog-schemas.js';
import { ChangelogFold, shapeFromDefinition, type StateEntry } from './store-shape.js';

/** Bytes asked of the broker per fetch. */
const FETCH_BYTES = 4 * 1024 * 1024;

export interface ChangelogStoreReadOptions {
  /** The broker's clients (only the admin and a read_committed partition reader are used). */
  readonly client: KafkaClient;
  /** The store's definition (kind, serdes, retention) and the application id that names its changelog. */
  readonly topology: Topology;
  readonly store: string;
  /** The application whose changelog to read, when another than the topology's (the same topology deployed twice). */
  readonly applicationId?: string;
  /** Only the partitions of these tasks (`0_1`); all by default. */
  readonly tasks?: readonly string[];
}

/** The store's changelog topic and the tasks (one per partition) that own it. */
export interface StoreChangelog {
  readonly topic: string;
  readonly subtopology: number;
}

/** The changelog of a store of the topology; throws, saying why, for a store that has none to read. */
export function storeChangelog(topology: Topology, store: string, applicationId = topology.applicationId): StoreChangelog {
  const definition = topology.stores.get(store);
  if (definition === undefined) throw new StateStoreError(`The topology has no store '${store}' (it has: ${[...topology.stores.keys()].join(', ') || 'none'})`);
  if (topology.globalStoreNames().includes(store)) {
    throw new StateStoreError(`Store '${store}' is a global store: it has no changelog, it is restored from its source topic (read that topic instead)`);
  }
  if (definition.sourceChangelogTopic !== undefined) {
    throw new StateStoreError(`Store '${store}' uses its input topic ${definition.sourceChangelogTopic} as its changelog (topology optimization): read that topic instead`);
  }
  if (!definition.loggingEnabled) throw new StateStoreError(`Store '${store}' has logging disabled: it has no changelog topic`);
  const subtopology = topology.subtopologies.find((s) => s.stores.some((d) => d.name === store));
  if (subtopology === undefined) throw new StateStoreError(`Store '${store}' belongs to no sub-topology of the topology`);
  return { topic: changelogTopicName(applicationId, store), subtopology: subtopology.id };
}

/**
 * The entries of a store as its changelog topic holds them, partition by partition: the latest record per
 * changelog key with tombstones honoured (ChangelogFold), read up to the last stable offset with
 * read_committed, so records of aborted (or still open) transactions are never shown. What it shows is what
 * a task restoring the store from its changelog would hold.
 */
export async function* readStoreChangelog(options: ChangelogStoreReadOptions): AsyncGenerator<StateEntry> {
  const { client, topology, store, tasks } = options;
  const { topic, subtopology } = storeChangelog(topology, store, options.applicationId);
  const shape = shapeFromDefinition(topology.stores.get(store)!);
  const admin = client.admin();
  await admin.connect();
  let partitions: number[];
  try {
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] }).catch((err: unknown) => {
      throw new StateStoreError(`Could not read the metadata of the changelog topic ${topic} (does it exist? the application creates it at start): ${String(err)}`, { cause: err });
    });
    partitions = (metadata.topics[0]?.partitions ?? []).map((p) => p.partitionId).sort((a, b) => a - b);
  } finally {
    await admin.disconnect();
  }
  if (partitions.length === 0) throw new StateStoreError(`The changelog topic ${topic} has no partitions (does it exist?)`);
  const reader = new ChangelogReader(client.partitionReader(true));
  const serde = shape.valueSerde;
  try {
    for (const partition of partitions) {
      const task = formatTaskId({ subtopology, partition });
      if (tasks !== undefined && !tasks.includes(task)) continue;
      const fold = new ChangelogFold(shape, task);
      const end = await reader.endOffset(topic, partition);
      await reader.read(topic, partition, 0n, end, FETCH_BYTES, async (records, _next, schemas) => {
        // Values written with earlier Avro schemas: their schema records (or the earlier format's headers) teach them first.
        if (isSchemaEvolving(serde)) for (const schema of schemas) serde.learnWriterSchema(schema, store);
        for (const [key, value] of records) fold.add(key, value);
      }, SCHEMA_HEADER);
      yield* fold.entries();
    }
  } finally {
    await reader.close();
  }
}
