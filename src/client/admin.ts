import type { PartitionsByTopic } from './topic-partitions.js';

/** Offsets of a partition: `low` is the log start, `high` the end (the high watermark). */
export interface PartitionOffsets {
  readonly partition: number;
  readonly offset: string;
  readonly low: string;
  readonly high: string;
}

/** A group's committed offsets per topic; -1 where it committed nothing. */
export interface GroupOffsets {
  readonly topic: string;
  readonly partitions: ReadonlyArray<{ readonly partition: number; readonly offset: string; readonly metadata: string | null }>;
}

/** The admin operations `consumerLag` needs; any admin client of this shape will do. */
export interface OffsetsAdmin {
  fetchOffsets(request: { groupId: string; topics?: string[] }): Promise<GroupOffsets[]>;
  fetchTopicOffsets(topic: string): Promise<PartitionOffsets[]>;
}

export interface TopicToCreate {
  readonly topic: string;
  readonly numPartitions?: number;
  readonly replicationFactor?: number;
  readonly configEntries?: ReadonlyArray<{ readonly name: string; readonly value: string }>;
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
}
