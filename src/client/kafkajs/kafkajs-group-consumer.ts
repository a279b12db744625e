import type { Consumer, ConsumerRunConfig, EachBatchPayload, Kafka } from 'kafkajs';
import type { FetchedBatch } from '../fetched-batch.js';
import type { GroupConsumer, GroupConsumerListener, GroupConsumerOptions } from '../group-consumer.js';
import type { OffsetToCommit, TopicPartitions } from '../topic-partitions.js';
import { kafkajsAssignor } from './kafkajs-assignor.js';

/** kafkajs' Batch keeps the offset it was fetched from, which its type does not declare. */
function asFetchedBatch(batch: EachBatchPayload['batch']): FetchedBatch {
  return batch as unknown as FetchedBatch;
}

/** {@link GroupConsumer} on a kafkajs consumer: no auto-commit, offsets resolved only by the runtime. */
export class KafkajsGroupConsumer implements GroupConsumer {
  private readonly consumer: Consumer;
  private readonly runConfig: ConsumerRunConfig;

  constructor(kafka: Kafka, options: GroupConsumerOptions, listener: GroupConsumerListener) {
    const consumer = kafka.consumer({
      groupId: options.groupId,
      partitionAssigners: [kafkajsAssignor(options.assignor)],
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      rebalanceTimeout: options.rebalanceTimeoutMs,
      readUncommitted: !options.readCommitted,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 100,
      maxBytesPerPartition: options.maxPartitionFetchBytes,
      maxBytes: options.fetchMaxBytes,
      retry: { ...options.retry, restartOnFailure: () => Promise.resolve(options.restartOnFailure()) },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.REBALANCING, () => listener.onRebalancing());
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => listener.onJoin(payload.memberId, payload.memberAssignment));
    // Batches that hold only transaction markers (or aborted records) never reach eachBatch: kafkajs moves
    // past them itself and says so only here.
    consumer.on(consumer.events.START_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize !== 0) return;
      const { topic, partition, firstOffset, lastOffset, highWatermark } = payload;
      listener.onEmptyFetch({ topic, partition, firstOffset: firstOffset ?? null, lastOffset, highWatermark });
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => listener.onCrash(payload.error, payload.restart));
    this.runConfig = {
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently,
      eachBatch: ({ batch, resolveOffset, isStale }) => listener.onBatch(asFetchedBatch(batch), resolveOffset, isStale),
    };
  }

  connect(): Promise<void> {
    return this.consumer.connect();
  }

  subscribe(topics: string[]): Promise<void> {
    return this.consumer.subscribe({ topics, fromBeginning: true });
  }

  run(): Promise<void> {
    return this.consumer.run(this.runConfig);
  }

  pause(partitions: TopicPartitions[]): void {
    this.consumer.pause(partitions);
  }

  resume(partitions: TopicPartitions[]): void {
    this.consumer.resume(partitions);
  }

  seek(topic: string, partition: number, offset: string): void {
    this.consumer.seek({ topic, partition, offset });
  }

  commitOffsets(offsets: OffsetToCommit[]): Promise<void> {
    return this.consumer.commitOffsets(offsets);
  }

  disconnect(): Promise<void> {
    return this.consumer.disconnect();
  }
}
