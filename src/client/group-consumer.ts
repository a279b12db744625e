import type { RetrySettings } from './connection-settings.js';
import type { EmptyFetch, FetchedBatch } from './fetched-batch.js';
import type { GroupAssignor } from './group-assignor.js';
import type { PartitionsByTopic, OffsetToCommit, TopicPartitions } from './topic-partitions.js';

/** What the group consumer reports; every callback is called from the consumer's own loop. */
export interface GroupConsumerListener {
  /** The group began a rebalance. */
  onRebalancing(): void;
  /** This member joined (or rejoined) the group with this assignment. */
  onJoin(memberId: string, assignment: PartitionsByTopic): void;
  /**
   * A fetched batch. The consumer fetches the partition again only once the promise resolves; `resolveOffset`
   * moves its fetch position past `offset`. `isStale()` is true when a rebalance or a seek made the batch void.
   */
  onBatch(batch: FetchedBatch, resolveOffset: (offset: string) => void, isStale: () => boolean): Promise<void>;
  /** A fetch that returned no visible record (only transaction markers or aborted records, or nothing). */
  onEmptyFetch(fetch: EmptyFetch): void;
  /** The consumer failed and left the group; `restarting` when it rejoins by itself. */
  onCrash(error: Error, restarting: boolean): void;
}

export interface GroupConsumerOptions {
  readonly groupId: string;
  readonly assignor: GroupAssignor;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly rebalanceTimeoutMs: number;
  /** Records of open or aborted transactions stay invisible (exactly-once). */
  readonly readCommitted: boolean;
  /** Partitions whose batches are handed over side by side. */
  readonly partitionsConsumedConcurrently: number;
  /** Record bytes one fetch returns per partition, and in all. */
  readonly maxPartitionFetchBytes: number;
  readonly fetchMaxBytes: number;
  /**
   * Static membership (Kafka's `group.instance.id`): the member keeps its place in the group across a
   * restart within the session timeout, and does not leave the group when it disconnects.
   */
  readonly groupInstanceId?: string;
  readonly retry?: RetrySettings;
  /** Asked after a retriable failure: rejoin the group by itself? */
  restartOnFailure(): boolean;
}

/**
 * A member of a consumer group: joins with a custom assignor, fetches the assigned partitions, and lets the
 * runtime pause, resume and seek each of them. It never commits on its own.
 *
 * What the runtime assumes of it (kafkajs behaves so): it rejoins the group by itself after a rebalance or
 * a retriable failure, with no callback before partitions move; after each join it fetches every assigned
 * partition from the group's committed offset (the log start where there is none) unless seeked, so the
 * runtime seeks its tasks back to their own positions; a batch may start past where a seek pointed (its
 * position outlives a task), which the runtime detects from the batch's `fetchedOffset`.
 */
export interface GroupConsumer {
  connect(): Promise<void>;
  /** Subscribes; partitions without a committed offset start at the log start. */
  subscribe(topics: string[]): Promise<void>;
  /** Starts (or restarts, after a crash without restart) fetching and reporting to its listener. */
  run(): Promise<void>;
  /** pause, resume and seek throw while the consumer re-creates its group state after a crash. */
  pause(partitions: TopicPartitions[]): void;
  resume(partitions: TopicPartitions[]): void;
  seek(topic: string, partition: number, offset: string): void;
  /** Commits offsets as this member of the group (fails with a rebalance error if it is no longer one). */
  commitOffsets(offsets: OffsetToCommit[]): Promise<void>;
  disconnect(): Promise<void>;
}
