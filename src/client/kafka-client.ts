import type { Admin } from './admin.js';
import type { GroupConsumer, GroupConsumerListener, GroupConsumerOptions } from './group-consumer.js';
import type { PartitionReader } from './partition-reader.js';
import type { Producer, TransactionalProducer } from './producer.js';

/** The Kafka clients an instance uses, all configured alike (brokers, client id, TLS, SASL). */
export interface KafkaClient {
  admin(): Admin;
  /** An idempotent producer; partitions records without one by murmur2 of the key, as Kafka's clients do. */
  producer(): Producer;
  transactionalProducer(transactionalId: string): TransactionalProducer;
  groupConsumer(options: GroupConsumerOptions, listener: GroupConsumerListener): GroupConsumer;
  /** Connects on first use; `readCommitted` hides records of open and aborted transactions. */
  partitionReader(readCommitted: boolean): PartitionReader;
}
