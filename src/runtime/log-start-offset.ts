import type { Admin } from '../client/admin.js';

/** The first offset still in a partition's log (older records were deleted by retention); 0 if unknown. */
export async function logStartOffset(admin: Admin, topic: string, partition: number): Promise<bigint> {
  const offsets = await admin.fetchTopicOffsets(topic);
  const low = offsets.find((o) => o.partition === partition)?.low;
  return low === undefined ? 0n : BigInt(low);
}
