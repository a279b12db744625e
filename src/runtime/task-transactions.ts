import { isClientError } from '../client/client-error.js';
import type { KafkaClient } from '../client/kafka-client.js';
import type { OffsetToCommit } from '../client/topic-partitions.js';
import type { Transaction, TransactionalProducer } from '../client/producer.js';
import { StreamsRuntimeError } from '../errors/errors.js';
import { ProducerPipeline } from './producer-pipeline.js';

/** Offsets of a commit, with the metadata the group keeps beside each. */
export type OffsetsToCommit = readonly OffsetToCommit[];

export class TaskFencedError extends StreamsRuntimeError {}

/** The task's transactional producer was abandoned (the task was suspended): nothing of it may commit. */
export class TaskAbandonedError extends StreamsRuntimeError {}

/**
 * Exactly-once output of one task: a transactional producer whose transactional id is stable per task,
 * `<applicationId>-<taskId>`.
 *
 * Why per task and not per instance (Kafka Streams' exactly_once_v2 uses one producer per thread): that
 * scheme relies on KIP-447, where the transaction's offset commit carries the consumer group's generation
 * so the broker fences a zombie that lost its partitions. kafkajs' `sendOffsets` sends only the group id,
 * so nothing would stop a zombie instance from committing a transaction for a task that moved. With a
 * transactional id per task, the new owner's InitProducerId bumps the epoch of that id: the zombie's open
 * transaction is aborted and every later write of the zombie is rejected. The cost is one producer (and one
 * transaction per commit) per task.
 */
export class TaskTransactions {
  readonly pipeline: ProducerPipeline;
  private readonly producer: TransactionalProducer;
  private transaction: Transaction | undefined;
  /** Set by abandon(): a commit in progress must stop at its next step, whatever the broker answers. */
  private abandoned: TaskAbandonedError | undefined;

  constructor(
    client: KafkaClient,
    readonly transactionalId: string,
    private readonly groupId: string,
    /** Each topic's own bound on a record batch (see ProducerPipeline). */
    batchBytesFor?: (topic: string) => number | undefined,
  ) {
    this.producer = client.transactionalProducer(transactionalId);
    this.pipeline = new ProducerPipeline({ sendBatch: () => Promise.reject(new StreamsRuntimeError('no open transaction')) }, undefined, undefined, batchBytesFor);
  }

  /** Connects and opens the first transaction; this fences any earlier producer of the task. */
  async start(): Promise<void> {
    await this.producer.connect();
    await this.begin();
  }

  private async begin(): Promise<void> {
    try {
      this.transaction = await this.producer.transaction();
    } catch (err) {
      throw isClientError(err, 'fenced') ? new TaskFencedError(`${this.transactionalId} was fenced`, { cause: err }) : err;
    }
    this.pipeline.setSender(this.transaction);
  }

  /** Sends what is pending, adds the offsets to the transaction, commits it and opens the next one. */
  async commit(offsets: OffsetsToCommit): Promise<void> {
    const transaction = this.transaction;
    if (transaction === undefined) throw new StreamsRuntimeError(`${this.transactionalId} has no open transaction`);
    try {
      await this.pipeline.flush();
      this.throwIfAbandoned();
      if (offsets.length > 0) {
        const topics = new Map<string, Array<{ partition: number; offset: string; metadata: string }>>();
        for (const o of offsets) {
          const list = topics.get(o.topic) ?? [];
          list.push({ partition: o.partition, offset: o.offset, metadata: o.metadata });
          topics.set(o.topic, list);
        }
        // A coordinator still completing the previous commit is retried by the client (transaction-retry.ts).
        await transaction.sendOffsets({
          consumerGroupId: this.groupId,
          topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })),
        });
      }
      this.throwIfAbandoned();
      await transaction.commit();
    } catch (err) {
      throw isClientError(err, 'fenced') ? new TaskFencedError(`${this.transactionalId} was fenced`, { cause: err }) : err;
    }
    this.transaction = undefined;
    await this.begin();
  }

  private throwIfAbandoned(): void {
    if (this.abandoned !== undefined) throw this.abandoned;
  }

  /** Aborts the open transaction (its records stay invisible to read_committed readers). */
  async abort(): Promise<void> {
    const transaction = this.transaction;
    this.transaction = undefined;
    if (transaction?.isActive()) await transaction.abort().catch(() => {});
    this.pipeline.reset();
  }

  async close(): Promise<void> {
    await this.abort();
    await this.producer.disconnect().catch(() => {});
  }

  /**
   * Drops the open transaction without aborting it and disconnects: for a broker that cannot be reached,
   * where an abort would only retry. The next producer of this transactional id aborts it when it starts.
   *
   * A commit of this transaction in progress stops at its next step: a send kafkajs still retries may
   * succeed once the broker is back, and the commit waiting on it must then neither add the offsets nor
   * commit, or a transaction missing the dropped records (and under its offsets) would become visible.
   */
  async abandon(): Promise<void> {
    this.transaction = undefined;
    this.abandoned = new TaskAbandonedError(`${this.transactionalId} was abandoned while the broker was away; its transaction is left to the next producer of this id`);
    this.pipeline.retire(this.abandoned);
    await this.producer.disconnect().catch(() => {});
  }
}
