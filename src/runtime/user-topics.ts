import type { Topology } from '../processor/topology.js';
import type { UserTopicSettings } from '../config/user-topic-settings.js';

/** The topics a topology reads and writes that the application does not own (its internal topics aside). */
export interface UserTopics {
  /** Topics it reads, sorted. */
  readonly sources: readonly string[];
  /** Topics it writes by name and does not read, sorted (topics chosen per record by an extractor are unknown). */
  readonly sinks: readonly string[];
}

export function userTopics(topology: Topology): UserTopics {
  const internal = new Set(topology.internalTopics.map((t) => t.name));
  const sources = topology.externalSourceTopics();
  const read = new Set(sources);
  const sinks = [...new Set(topology.subtopologies.flatMap((s) => s.sinkTopics))].filter((t) => !internal.has(t) && !read.has(t)).sort();
  return { sources, sinks };
}

/** A createTopics entry (the shape kafkajs' admin takes). */
export interface TopicCreation {
  readonly topic: string;
  readonly numPartitions: number;
  readonly replicationFactor: number;
  readonly configEntries: Array<{ name: string; value: string }>;
}

/** The missing user topics, in the order sources then sinks. */
export function userTopicsToCreate(topics: UserTopics, existing: ReadonlySet<string>, settings: UserTopicSettings): TopicCreation[] {
  return [...topics.sources, ...topics.sinks]
    .filter((t) => !existing.has(t))
    .map((topic) => ({
      topic,
      numPartitions: settings.partitions,
      replicationFactor: settings.replicationFactor,
      configEntries: Object.entries(settings.configs).map(([name, value]) => ({ name, value })),
    }));
}
