/**
 * The invariant between a task and the consumer that feeds it: a task processes an input partition as one
 * contiguous stream from the position it started at (its committed offset, or the log start when the group
 * has none), and commits only offsets it reached by processing. kafkajs keeps its own fetch position per
 * assigned partition, and that position survives a task: when a task is closed without a commit (its
 * transaction aborted, a broker outage, fencing) and re-created in the same member, kafkajs still fetches
 * from where the previous incarnation stopped. A batch that starts past the task's position therefore
 * carries no proof that the records in between were processed; committing after it would skip them.
 */

/** What a task does with a batch fetched from `fetchedOffset` (kafkajs' fetch position). */
export type BatchPlacement =
  /** Process the messages from this index on (those before it were processed already). */
  | { readonly kind: 'process'; readonly from: number }
  /** Every message was processed already (kafkajs rewound behind the task): resolve them, process nothing. */
  | { readonly kind: 'processed' }
  /** The fetch began past the task's position: records in between were never seen. Seek back to `next`. */
  | { readonly kind: 'ahead' };

export function placeBatch(next: bigint, fetchedOffset: bigint, messageOffsets: readonly string[]): BatchPlacement {
  if (fetchedOffset > next) return { kind: 'ahead' };
  let from = 0;
  while (from < messageOffsets.length && BigInt(messageOffsets[from]!) < next) from++;
  return from === messageOffsets.length ? { kind: 'processed' } : { kind: 'process', from };
}

/**
 * A batch that holds only records a consumer skips (transaction markers, records of aborted transactions)
 * moves the task's position to `lastOffset + 1` only if it continues that position: its first offset (the
 * first record at or past kafkajs' fetch position) is at or before the task's next offset. A batch further
 * on may follow records the task never saw.
 */
export function skippedBatchContinues(next: bigint, firstOffset: bigint): boolean {
  return firstOffset <= next;
}
