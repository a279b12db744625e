/** A changelog partition being restored into a store. */
export interface RestoringPartition {
  /** The changelog topic. */
  readonly topic: string;
  /** Its partition (= the task's partition). */
  readonly partition: number;
  /** The store it restores. */
  readonly storeName: string;
  /** The task the store belongs to. */
  readonly taskId: string;
}

/**
 * Progress of restorations, as Kafka Streams' StateRestoreListener reports it. Offsets are changelog
 * offsets as bigint; counts are records applied.
 */
export interface StateRestoreListener {
  /** Restoring begins: from `startingOffset` (the checkpoint, or the start) up to `endingOffset`. */
  onRestoreStart?(partition: RestoringPartition, startingOffset: bigint, endingOffset: bigint): void;
  /** A batch of `numRestored` records was written to the store, up to `batchEndOffset`. */
  onBatchRestored?(partition: RestoringPartition, batchEndOffset: bigint, numRestored: number): void;
  /** The store is caught up, after `totalRestored` records. */
  onRestoreEnd?(partition: RestoringPartition, totalRestored: number): void;
}
