import type { BatchSender, ProducedBatchMetadata, ProducedRecord } from '../client/producer.js';
import { TopicPartitionMap } from '../client/topic-partition.js';
import { StreamsRuntimeError } from '../errors/errors.js';
import { asError } from '../errors/as-error.js';
import type { OutgoingRecord } from './record-sink.js';
import { SendFailedError } from './send-failed-error.js';

/**
 * All output of an instance (sink records, repartition records, changelog records) goes through here.
 *
 * kafkajs lets an idempotent producer have one request in flight, so order per partition holds; throughput
 * comes from batching: while one request is in flight every record enqueued meanwhile waits, and the next
 * request carries all of them, across all partitions. `enqueue` is synchronous; `flush` resolves when every
 * record enqueued before the call is acknowledged. The first failed send poisons the pipeline: every later
 * `flush` rejects with that error, so no commit can succeed past lost output.
 */
export class ProducerPipeline {
  private queue: OutgoingRecord[] = [];
  private enqueued = 0;
  private acknowledged = 0;
  private inFlight: Promise<void> | undefined;
  private failure: Error | undefined;
  /** Flushes waiting for acknowledgements, one per distinct `upTo` (see flush). */
  private waiters: Array<{ upTo: number; resolve: () => void; reject: (err: Error) => void; promise: Promise<void> }> = [];
  /** The highest acknowledged offset per partition, for changelog positions. */
  private readonly lastOffsets = new TopicPartitionMap<bigint>();
  private sentRecords = 0;
  private sentBatches = 0;

  /**
   * `batchBytesFor`: a topic's own bound on a record batch (below its `max.message.bytes`), where it is
   * smaller than `maxBatchBytes`: a batch of small records the topic would refuse fails every one of them.
   */
  constructor(
    private sender: BatchSender,
    private readonly maxRecordsPerRequest = 20_000,
    private readonly maxBatchBytes = 768 * 1024,
    private readonly batchBytesFor?: (topic: string) => number | undefined,
  ) {}

  /** Switches the target, for example to a new transaction; only while nothing is queued or in flight. */
  setSender(sender: BatchSender): void {
    if (this.inFlight !== undefined || this.queue.length > 0) {
      throw new StreamsRuntimeError('cannot switch producer while records are pending');
    }
    this.sender = sender;
  }

  get pending(): number {
    return this.enqueued - this.acknowledged;
  }

  /** Records enqueued since the pipeline was created. */
  get enqueuedTotal(): number {
    return this.enqueued;
  }

  /** Of those, records the broker acknowledged (or that were discarded with an aborted transaction). */
  get acknowledgedTotal(): number {
    return this.acknowledged;
  }

  get stats(): { records: number; batches: number } {
    return { records: this.sentRecords, batches: this.sentBatches };
  }

  enqueue(record: OutgoingRecord): void {
    this.queue.push(record);
    this.enqueued++;
  }

  /** Starts a send if none is in flight. Call after a slice of processing, not per record. */
  kick(): void {
    if (this.inFlight !== undefined || this.queue.length === 0 || this.failure !== undefined) return;
    const count = this.requestLength();
    const batch = count === this.queue.length ? this.queue : this.queue.slice(0, count);
    this.queue = batch === this.queue ? [] : this.queue.slice(count);
    this.inFlight = this.send(batch).finally(() => {
      this.inFlight = undefined;
      this.kick();
    });
  }

  /**
   * How many queued records the next request takes: at most `maxRecordsPerRequest`, and no more than
   * `maxBatchBytes` for any one topic-partition. kafkajs puts a request's records for one partition into one
   * record batch, and the broker rejects a batch above its `message.max.bytes` (1 MiB by default). Records
   * left to the default partitioner are counted together per topic, which errs on the small side.
   */
  private requestLength(): number {
    const limit = Math.min(this.queue.length, this.maxRecordsPerRequest);
    // By topic, then partition (undefined: the default partitioner's records): no string built per record.
    const bytes = new Map<string, { readonly max: number; readonly byPartition: Map<number | undefined, number> }>();
    for (let i = 0; i < limit; i++) {
      const r = this.queue[i]!;
      let size = 70 + (r.key?.length ?? 0) + (r.value?.length ?? 0);
      for (const name in r.headers) size += name.length + (r.headers[name]?.length ?? 0) + 2;
      let ofTopic = bytes.get(r.topic);
      if (ofTopic === undefined) {
        const max = Math.min(this.maxBatchBytes, this.batchBytesFor?.(r.topic) ?? Number.POSITIVE_INFINITY);
        bytes.set(r.topic, (ofTopic = { max, byPartition: new Map() }));
      }
      const total = (ofTopic.byPartition.get(r.partition) ?? 0) + size;
      if (total > ofTopic.max && i > 0) return i;
      ofTopic.byPartition.set(r.partition, total);
    }
    return limit;
  }

  private async send(batch: OutgoingRecord[]): Promise<void> {
    const byTopic = new Map<string, ProducedRecord[]>();
    for (const r of batch) {
      let messages = byTopic.get(r.topic);
      if (messages === undefined) byTopic.set(r.topic, (messages = []));
      messages.push({
        key: r.key,
        value: r.value,
        timestamp: String(r.timestamp),
        headers: r.headers,
        partition: r.partition,
        partitionKey: r.partitionKey,
      });
    }
    let metadata: ProducedBatchMetadata[];
    const beganAt = Date.now();
    try {
      metadata = await this.sender.sendBatch({
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        acks: -1,
      });
    } catch (err) {
      this.fail(new SendFailedError(`Producing ${batch.length} records failed: ${asError(err).message}`, beganAt, { cause: err }));
      return;
    }
    // A partition's records of one request are consecutive from its base offset.
    const counts = new Map<string, number[]>();
    for (const r of batch) {
      if (r.partition === undefined) continue;
      let ofTopic = counts.get(r.topic);
      if (ofTopic === undefined) counts.set(r.topic, (ofTopic = []));
      ofTopic[r.partition] = (ofTopic[r.partition] ?? 0) + 1;
    }
    for (const m of metadata) {
      const count = counts.get(m.topicName)?.[m.partition];
      if (count === undefined || m.baseOffset === undefined) continue;
      const last = BigInt(m.baseOffset) + BigInt(count) - 1n;
      if (last > (this.lastOffsets.get(m.topicName, m.partition) ?? -1n)) this.lastOffsets.set(m.topicName, m.partition, last);
    }
    this.acknowledged += batch.length;
    this.sentRecords += batch.length;
    this.sentBatches++;
    this.waiters = this.waiters.filter((w) => {
      if (w.upTo > this.acknowledged) return true;
      w.resolve();
      return false;
    });
  }

  private fail(err: Error): void {
    // The first failure stays: a send that fails after the pipeline was retired reports the retirement.
    this.failure ??= err;
    for (const w of this.waiters) w.reject(this.failure);
    this.waiters = [];
  }

  get error(): Error | undefined {
    return this.failure;
  }

  /**
   * Resolves once everything enqueued so far is acknowledged. Flushes of the same records share one waiter:
   * the processing loop flushes gated tasks at every wait (TaskExecutor.waitForWork), so the waiters stay as
   * many as the enqueues between two acknowledgements, however often the loop waits meanwhile (issue 31).
   */
  flush(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const upTo = this.enqueued;
    if (this.acknowledged >= upTo) return Promise.resolve();
    this.kick();
    const last = this.waiters[this.waiters.length - 1];
    if (last !== undefined && last.upTo === upTo) return last.promise;
    let resolve: () => void = () => {};
    let reject: (err: Error) => void = () => {};
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.waiters.push({ upTo, resolve, reject, promise });
    return promise;
  }

  /** Flushes waiting for acknowledgements (for tests of the bound above). */
  get waitingFlushes(): number {
    return this.waiters.length;
  }

  /** Resolves once at most `limit` records are pending: back-pressure for processing. */
  async drainBelow(limit: number): Promise<void> {
    while (this.pending > limit && this.failure === undefined) {
      this.kick();
      const current = this.inFlight;
      if (current === undefined) break;
      await current;
    }
    if (this.failure !== undefined) throw this.failure;
  }

  /** The highest acknowledged offset of a partition, if this pipeline wrote to it. */
  lastOffset(topic: string, partition: number): bigint | undefined {
    return this.lastOffsets.get(topic, partition);
  }

  /** Forgets queued records that were not sent (an aborted transaction); only with nothing in flight. */
  discardQueued(): void {
    this.acknowledged += this.queue.length;
    this.queue = [];
  }

  /**
   * Ends the pipeline for good: queued records are dropped, nothing more is sent, and every `flush` (one
   * waiting now included) rejects with `reason`. For a task taken down while a send is in flight: the send
   * may still succeed later, and must not let a commit of the retired task go on.
   */
  retire(reason: Error): void {
    this.queue = [];
    this.fail(reason);
  }

  /** Clears a failure after the owner recovered from it (a new transaction). */
  reset(): void {
    this.failure = undefined;
    this.discardQueued();
  }
}
