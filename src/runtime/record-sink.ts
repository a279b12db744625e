import type { Headers } from '../processor/record.js';

/** An output record, serialized, on its way to a topic. */
export interface OutgoingRecord {
  readonly topic: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: number;
  readonly headers: Headers;
  /** Undefined: the default partitioner (murmur2 of the key) decides. */
  readonly partition: number | undefined;
  /**
   * Bytes the default partitioner hashes instead of the key: a windowed key's inner key, for a topic whose
   * partition count the task does not know (picked by a TopicNameExtractor).
   */
  readonly partitionKey?: Buffer;
}

/**
 * Where a task's sinks write. `send` is synchronous and only queues the record; the owner decides when the
 * queue is produced (the Kafka runtime in batches, the TopologyTestDriver at once).
 */
export interface RecordSink {
  send(record: OutgoingRecord): void;
  /**
   * Partition count of a topic, for partitioners that need it; undefined (or 0) where the owner does not know
   * the topic (a topic a TopicNameExtractor picked): the producer's default partitioner then decides.
   */
  partitionsFor(topic: string): number | undefined;
}
