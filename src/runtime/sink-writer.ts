import type { SinkNodeDef, TopicRef } from '../processor/internals/graph.js';
import type { RecordMetadata, StreamRecord } from '../processor/record.js';
import { isWindowedSerde } from '../serdes/windowed-serdes.js';
import type { DroppedRecordsLog } from './dropped-records-log.js';
import { partitionForKey } from './murmur2.js';
import { ProductionExceptionPolicy } from './production-exception-policy.js';
import type { TaskCounters } from './record-counts.js';
import type { StreamTaskOptions } from './stream-task.js';
import { refusal, type TopicWriteLimits } from './topic-write-limits.js';

/** Header of a repartition record naming the input record it came from, as `topic-partition@offset`. */
export const ORIGIN_HEADER = 'kstreams.origin';

/**
 * Where a task's sink output goes, as Kafka Streams' RecordCollector: each record is serialized, checked
 * against what its topic accepts (a record the broker refuses would fail its whole batch, or transaction),
 * partitioned and handed to the task's RecordSink; a record that cannot be produced meets the production
 * exception handler here.
 */
export class SinkWriter {
  /** Each sink's full topic name and that topic's write limits, resolved once rather than per record. */
  private readonly sinkTargets = new Map<SinkNodeDef, { readonly topic: string; readonly limits: TopicWriteLimits | undefined }>();
  private readonly production: ProductionExceptionPolicy;
  private readonly maxRecordBytes: number;

  constructor(
    private readonly options: StreamTaskOptions,
    counts: TaskCounters,
    dropped: DroppedRecordsLog,
  ) {
    this.maxRecordBytes = options.maxRecordBytes ?? 1_048_588;
    this.production = new ProductionExceptionPolicy({
      handler: options.productionExceptionHandler ?? 'fail',
      sink: options.sink,
      limits: options.writeLimits,
      maxRecordBytes: this.maxRecordBytes,
      wallClock: options.wallClock,
      counts,
      dropped,
    });
  }

  /** Serializes, checks, partitions and sends one record a sink received; a refusal goes to the handler. */
  write(sink: SinkNodeDef, record: StreamRecord<unknown, unknown>, metadata: RecordMetadata | undefined, inputOrigin: string | undefined): void {
    let topic: string;
    let limits: TopicWriteLimits | undefined;
    if (typeof sink.topic === 'function') {
      topic = sink.topic(record);
      limits = this.options.writeLimits?.get(topic);
    } else {
      const target = this.sinkTarget(sink, sink.topic);
      topic = target.topic;
      limits = target.limits;
    }
    const keySerde = sink.keySerde;
    const valueSerde = sink.valueSerde;
    let key: Buffer | null = null;
    let value: Buffer | null = null;
    try {
      key = record.key === null || record.key === undefined ? null : keySerde.serialize(record.key, topic);
      value = record.value === null || record.value === undefined ? null : valueSerde.serialize(record.value, topic);
    } catch (err) {
      const problem = `could not be serialized (${keySerde.name}, ${valueSerde.name}): ${err instanceof Error ? err.message : String(err)}`;
      this.production.handle({ sinkName: sink.name, topic, key, value, timestamp: record.timestamp, headers: record.headers }, problem, err, metadata, inputOrigin);
      return;
    }
    // Checked before it is sent: a record the broker refuses would fail its whole batch, or transaction.
    const refused = refusal(limits, this.maxRecordBytes, key, value, record.headers, record.timestamp, this.options.wallClock);
    if (refused !== undefined) {
      this.production.handle({ sinkName: sink.name, topic, key, value, timestamp: record.timestamp, headers: record.headers }, refused, undefined, metadata, inputOrigin);
      return;
    }
    let partition: number | undefined;
    let partitionKey: Buffer | undefined;
    if (sink.partitioner !== undefined) {
      partition = sink.partitioner(topic, record.key, record.value, this.options.sink.partitionsFor(topic) ?? 1);
    } else if (key !== null) {
      const partitions = this.options.sink.partitionsFor(topic);
      if (isWindowedSerde(keySerde)) {
        // Windowed results are partitioned by their inner key, as Kafka Streams' WindowedStreamPartitioner does;
        // the windowed bytes begin with it, so it is cut out of them rather than serialized again.
        const inner = keySerde.windowBytes === undefined ? keySerde.inner.serialize((record.key as { key: unknown }).key, topic) : key.subarray(0, key.length - keySerde.windowBytes);
        // A topic the task does not know (picked by an extractor): the producer, which knows its partition
        // count, hashes the inner key.
        if (partitions) partition = partitionForKey(inner, partitions);
        else partitionKey = inner;
      } else if (partitions) {
        // What the producer's default partitioner would pick, without its Long-based murmur2 (an allocation
        // per step of the hash: 11% of all bytes allocated in a catch-up profile).
        partition = partitionForKey(key, partitions);
      }
    }
    let headers = record.headers;
    if (this.options.traceInputOrigins === true && metadata !== undefined && typeof sink.topic !== 'function' && sink.topic.internal) {
      // The first origin stays: a record that crosses two repartitions still names the input record.
      const input = inputOrigin ?? `${metadata.topic}-${metadata.partition}@${metadata.offset}`;
      headers = { ...headers, [ORIGIN_HEADER]: input };
    }
    this.options.sink.send({ topic, key, value, timestamp: record.timestamp, headers, partition, partitionKey });
  }

  private sinkTarget(sink: SinkNodeDef, ref: TopicRef): { readonly topic: string; readonly limits: TopicWriteLimits | undefined } {
    let target = this.sinkTargets.get(sink);
    if (target === undefined) {
      const topic = this.options.topology.topicName(ref);
      this.sinkTargets.set(sink, (target = { topic, limits: this.options.writeLimits?.get(topic) }));
    }
    return target;
  }
}
