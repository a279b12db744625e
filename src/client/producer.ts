import type { OffsetToCommit } from './topic-partitions.js';

/** A serialized record to produce; without a partition, the default partitioner (murmur2 of the key) picks one. */
export interface ProducedRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Milliseconds since the epoch, as a decimal string. */
  readonly timestamp: string;
  readonly headers: Record<string, Buffer | string | undefined>;
  readonly partition: number | undefined;
  /** Bytes the default partitioner hashes instead of the key, when `partition` is undefined. */
  readonly partitionKey?: Buffer;
}

/** What the broker acknowledged for one partition of a request. */
export interface ProducedBatchMetadata {
  readonly topicName: string;
  readonly partition: number;
  /** Offset of the partition's first record of the request. */
  readonly baseOffset?: string;
}

/** Sends one request of records for several topics, acknowledged by all in-sync replicas. */
export interface BatchSender {
  sendBatch(request: {
    topicMessages: Array<{ topic: string; messages: ProducedRecord[] }>;
    acks: -1;
  }): Promise<ProducedBatchMetadata[]>;
}

/**
 * An open transaction. Its errors are told apart with `isClientError` (`fenced`,
 * `concurrent-transactions`…, see client-error.ts).
 */
export interface Transaction extends BatchSender {
  /** Adds the group's input offsets to the transaction (committed with it). */
  sendOffsets(request: { consumerGroupId: string; topics: Array<{ topic: string; partitions: Array<Omit<OffsetToCommit, 'topic'>> }> }): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  isActive(): boolean;
}

/** An idempotent producer (one request in flight, so order per partition holds). */
export interface Producer extends BatchSender {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}

/** An idempotent producer with a transactional id: its start fences every earlier producer of that id. */
export interface TransactionalProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  transaction(): Promise<Transaction>;
}
