/** A changelog partition being restored into a store. */
export interface RestoringPartition {
  readonly topic: string;
  readonly partition: number;
  readonly storeName: string;
  readonly taskId: string;
}

/**
 * Progress of restorations, as Kafka Streams' StateRestoreListener reports it. Offsets are changelog
 * offsets as bigint; counts are records applied.
 */
export interface StateRestoreListener {
  onRestoreStart?(partition: RestoringPartition, startingOffset: bigint, endingOffset: bigint): void;
  onBatchRestored?(partition: RestoringPartition, batchEndOffset: bigint, numRestored: number): void;
  onRestoreEnd?(partition: RestoringPartition, totalRestored: number): void;
}
