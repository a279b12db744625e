import type { OffsetsAdmin } from '../client/admin.js';

/** Committed offset, end offset and lag of one partition for a consumer group. */
export interface PartitionLag {
  /** The topic. */
  readonly topic: string;
  /** The partition. */
  readonly partition: number;
  /** -1 when the group has committed nothing for the partition. */
  readonly committed: bigint;
  /** The offset the next record written will get. */
  readonly end: bigint;
  /** Records between the commit (or the partition's start) and the end. */
  readonly lag: bigint;
}

/** Lag of a group on the given topics, per partition (what `kstreams lag` prints). */
export async function consumerLag(admin: OffsetsAdmin, groupId: string, topics: readonly string[]): Promise<PartitionLag[]> {
  const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
  const result: PartitionLag[] = [];
  for (const topic of topics) {
    const ends = await admin.fetchTopicOffsets(topic);
    const group = committed.find((c) => c.topic === topic);
    for (const { partition, high, low } of ends) {
      const c = BigInt(group?.partitions.find((p) => p.partition === partition)?.offset ?? '-1');
      const end = BigInt(high);
      const from = c >= 0n ? c : BigInt(low);
      result.push({ topic, partition, committed: c, end, lag: end > from ? end - from : 0n });
    }
  }
  return result.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
}
