/** Some partitions of one topic, as pause, resume and assignments name them. */
export interface TopicPartitions {
  readonly topic: string;
  readonly partitions: number[];
}

/** Partitions by topic: what a group member is assigned. */
export type PartitionsByTopic = Record<string, number[]>;

/** A partition's position to commit, with the metadata the group keeps beside it. */
export interface OffsetToCommit {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly metadata: string;
}
