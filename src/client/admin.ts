import type { PartitionsByTopic } from './topic-partitions.js';

/** Offsets of a partition: `low` is the log start, `high` the end (the high watermark). */
export interface PartitionOffsets {
  /** The partition number. */
  readonly partition: number;
  /** The offset asked for (for `fetchTopicOffsets`, the end), as a decimal string. */
  readonly offset: string;
  /** The first offset still in the log, as a decimal string. */
  readonly low: string;
  /** The high watermark, as a decimal string. */
  readonly high: string;
}

/** One committed offset of a group. */
export interface CommittedOffset {
  /** The partition number. */
  readonly partition: number;
  /** The committed offset (the next record to read), as a decimal string; -1 where the group committed nothing. */
  readonly offset: string;
  /** The metadata committed with it, if any. */
  readonly metadata: string | null;
}

/** A group's committed offsets of one topic. */
export interface GroupOffsets {
  /** The topic. */
  readonly topic: string;
  /** Its partitions' committed offsets. */
  readonly partitions: ReadonlyArray<CommittedOffset>;
}

/**
 * The admin operations `consumerLag` needs; any admin client of this shape will do (kafkajs' `Admin` is one).
 */
export interface OffsetsAdmin {
  /** The group's committed offsets of these topics. */
  fetchOffsets(request: { groupId: string; topics?: string[] }): Promise<GroupOffsets[]>;
  /** The log start and end of every partition of a topic. */
  fetchTopicOffsets(topic: string): Promise<PartitionOffsets[]>;
}

/** A topic to create. */
export interface TopicToCreate {
  /** Its name. */
  readonly topic: string;
  /** Partitions; the broker's `num.partitions` when left out. */
  readonly numPartitions?: number;
  /** Replicas of each partition; the broker's `default.replication.factor` when left out. */
  readonly replicationFactor?: number;
  /** Topic configs, e.g. `{ name: 'cleanup.policy', value: 'compact' }`. */
  readonly configEntries?: ReadonlyArray<TopicConfigEntry>;
}

/** One topic config. */
export interface TopicConfigEntry {
  /** The config's name, e.g. `retention.ms`. */
  readonly name: string;
  /** Its value. */
  readonly value: string;
}

export interface TopicMetadata {
  readonly name: string;
  /** `leader` is -1 while the partition has none. */
  readonly partitions: ReadonlyArray<{ readonly partitionId: number; readonly leader: number }>;
}

/** One member of a consumer group, its subscription and assignment as our assignor wrote them. */
export interface DescribedMember {
  readonly memberId: string;
  readonly clientId: string;
  /** The userData of its subscription (empty if none); undefined while it has no readable subscription. */
  readonly subscriptionUserData: Buffer | undefined;
  /** Its assignment; undefined while it has none (between a join and its sync) or it cannot be read. */
  readonly assignment: { readonly partitions: PartitionsByTopic; readonly userData: Buffer } | undefined;
}

export interface DescribedGroup {
  /** `Stable`, `PreparingRebalance`, `CompletingRebalance`, `Empty` or `Dead`. */
  readonly state: string;
  readonly members: readonly DescribedMember[];
}

/** The cluster administration the runtime and the tools use. */
export interface Admin extends OffsetsAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  listTopics(): Promise<string[]>;
  fetchTopicMetadata(request: { topics: string[] }): Promise<{ topics: TopicMetadata[] }>;
  /** Resolves once the controller accepted; partition leaders may appear later (see createTopicsAndWait). */
  createTopics(request: { topics: TopicToCreate[] }): Promise<void>;
  deleteTopics(request: { topics: string[] }): Promise<void>;
  /** The named configs of each topic (only those the broker returned). */
  topicConfigs(topics: string[], configNames: string[]): Promise<Map<string, Map<string, string>>>;
  fetchTopicOffsetsByTimestamp(topic: string, timestamp: number): Promise<Array<{ partition: number; offset: string }>>;
  setOffsets(request: { groupId: string; topic: string; partitions: Array<{ partition: number; offset: string }> }): Promise<void>;
  deleteTopicRecords(request: { topic: string; partitions: Array<{ partition: number; offset: string }> }): Promise<void>;
  describeGroup(groupId: string): Promise<DescribedGroup>;
  /**
   * The group's committed offsets of these topics, as `fetchOffsets` returns them. With `requireStable`, offsets
   * a transaction is committing are returned only once the group coordinator completed them (it waits, bounded,
   * as Kafka's read_committed consumer does, KIP-447), never the older ones; on a broker older than Kafka 2.5
   * it reads as `fetchOffsets` does, with a warning. With `partition`, only that partition of each topic is
   * asked for (a task's): a stable fetch waits while ANY partition it asks for has a transaction completing,
   * and another task's abandoned transaction (it ends only when that task's next producer starts) must not
   * hold this one up.
   */
  fetchCommittedOffsets(request: { groupId: string; topics: string[]; partition?: number; requireStable: boolean }): Promise<GroupOffsets[]>;
}
