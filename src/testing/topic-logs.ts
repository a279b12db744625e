import type { ChangelogReader } from '../runtime/changelog-reader.js';
import type { OutgoingRecord } from '../runtime/record-sink.js';
import type { TestOutputSource } from './test-topics.js';

/** A record on a partition of a test topic: its partition is known. */
export type PlacedRecord = OutgoingRecord & { readonly partition: number };

/** What the runtime's ChangelogReader reads partitions through (the client's PartitionReader: testing does not import client). */
type PartitionReader = ConstructorParameters<typeof ChangelogReader>[0];
type PartitionFetch = NonNullable<Awaited<ReturnType<PartitionReader['fetch']>>>;
type ReadRecord = PartitionFetch['records'][number];

/** Records per fetch of a restoration: small, so that restoring in several batches is exercised too. */
const RECORDS_PER_FETCH = 500;

/**
 * The partitioned test driver's topics, in memory: every record written to a topic partition, kept at its
 * offset (the driver's tasks restore their stores from here, through the runtime's ChangelogReader, which
 * reads it as the broker's partitions: this is a PartitionReader), and the records nobody has read yet as
 * output, in the order they were written.
 * @internal
 */
export class TopicLogs implements PartitionReader {
  private readonly logs = new Map<string, PlacedRecord[][]>();
  private readonly unread = new Map<string, PlacedRecord[]>();

  /**
   * Appends a record to its partition; returns its offset. `output`: false for a record piped in by the
   * test, which (as in the TopologyTestDriver) is not read back as output.
   */
  append(record: PlacedRecord, output = true): number {
    const log = this.partition(record.topic, record.partition);
    log.push(record);
    if (!output) return log.length - 1;
    const unread = this.unread.get(record.topic);
    if (unread === undefined) this.unread.set(record.topic, [record]);
    else unread.push(record);
    return log.length - 1;
  }

  /** Records on a partition so far: the offset of the next one. */
  size(topic: string, partition: number): number {
    return this.logs.get(topic)?.[partition]?.length ?? 0;
  }

  /** The offset of the last record of a partition; undefined when it has none. */
  lastOffset(topic: string, partition: number): bigint | undefined {
    const size = this.size(topic, partition);
    return size === 0 ? undefined : BigInt(size - 1);
  }

  private partition(topic: string, partition: number): PlacedRecord[] {
    let partitions = this.logs.get(topic);
    if (partitions === undefined) this.logs.set(topic, (partitions = []));
    return (partitions[partition] ??= []);
  }

  /** The unread records of one topic (of one partition of it, when given) as a TestOutputTopic reads them. */
  outputOf(partition: number | undefined): TestOutputSource {
    return {
      reportsPartitions: true,
      takeOutput: (topic, count) => this.take(topic, count, partition),
      outputSize: (topic) => {
        const unread = this.unread.get(topic) ?? [];
        return partition === undefined ? unread.length : unread.filter((r) => r.partition === partition).length;
      },
    };
  }

  private take(topic: string, count: number, partition: number | undefined): PlacedRecord[] {
    const unread = this.unread.get(topic) ?? [];
    if (partition === undefined) return unread.splice(0, count);
    const taken: PlacedRecord[] = [];
    const kept: PlacedRecord[] = [];
    for (const record of unread) (record.partition === partition && taken.length < count ? taken : kept).push(record);
    this.unread.set(topic, kept);
    return taken;
  }

  // As a PartitionReader: the topics' partitions, read by offset.

  offset(topic: string, partition: number, which: 'start' | 'end'): Promise<bigint> {
    return Promise.resolve(which === 'start' ? 0n : BigInt(this.size(topic, partition)));
  }

  fetch(topic: string, partition: number, offset: bigint, _maxBytes: number): Promise<PartitionFetch> {
    const log = this.logs.get(topic)?.[partition] ?? [];
    const from = Number(offset);
    const records: ReadRecord[] = log.slice(from, from + RECORDS_PER_FETCH).map((record, i) => ({
      offset: String(from + i),
      key: record.key,
      value: record.value,
      headers: Object.fromEntries(Object.entries(record.headers).map(([name, v]) => [name, typeof v === 'string' ? Buffer.from(v) : v])),
      timestamp: String(record.timestamp),
    }));
    const nextOffset = records.length === 0 ? undefined : BigInt(from + records.length);
    return Promise.resolve({ records, nextOffset, stableOffset: BigInt(log.length) });
  }

  refreshMetadata(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
