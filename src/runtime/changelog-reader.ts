import type { PartitionReader, ReadRecord } from '../client/partition-reader.js';
import type { BytesEntry } from '../stores/bytes-store.js';
import { StreamsRuntimeError } from '../errors/errors.js';
import { schemaOfRecord } from '../stores/changelog-schemas.js';

/**
 * Reads ranges of changelog partitions without a consumer group, as Kafka Streams' restore consumer does
 * with `assign` and `seek`. Under exactly-once it reads committed records only (aborted transactions and
 * transaction markers are skipped). One instance serves every restoration of a KafkaStreams instance.
 */
export class ChangelogReader {
  constructor(private readonly reader: PartitionReader) {}

  /** The end of the partition: the high watermark, or under read_committed the last stable offset. */
  endOffset(topic: string, partition: number): Promise<bigint> {
    return this.reader.offset(topic, partition, 'end');
  }

  /** The first offset still in the log (older records were deleted by retention). */
  beginningOffset(topic: string, partition: number): Promise<bigint> {
    return this.reader.offset(topic, partition, 'start');
  }

  /**
   * Reads [from, to) and hands each fetched batch to `onBatch` with the offset to continue from. Starts at
   * the log's beginning when `from` is below it. A schema record (see changelog-schemas.ts) is never an
   * entry: its schema joins the batch's `schemas`, as do the values of `header` (the earlier format).
   */
  async read(
    topic: string,
    partition: number,
    from: bigint,
    to: bigint,
    maxBytes: number,
    onBatch: (records: BytesEntry[], nextOffset: bigint, schemas: ReadonlySet<string>) => Promise<void>,
    /** A record header whose distinct values each batch also reports as schemas (the earlier changelog format's writer schema header). */
    header?: string,
    /** Makes the entry of each record (undefined: none); default: its key and value, records without key skipped. */
    convert?: (record: ReadRecord) => BytesEntry | undefined,
  ): Promise<void> {
    let offset = from;
    const beginning = await this.beginningOffset(topic, partition);
    if (offset < beginning) offset = beginning;
    let failures = 0;
    while (offset < to) {
      let fetched;
      try {
        fetched = await this.reader.fetch(topic, partition, offset, maxBytes);
        failures = 0;
      } catch (err) {
        if (++failures > 10) {
          throw new StreamsRuntimeError(`Reading changelog ${topic}-${partition} at offset ${offset} failed: ${String(err)}`, {
            cause: err,
          });
        }
        await new Promise((r) => setTimeout(r, Math.min(100 * failures, 1000)));
        await this.reader.refreshMetadata().catch(() => {});
        continue;
      }
      if (fetched === undefined) continue;
      const next = fetched.nextOffset;
      if (next === undefined) {
        // Nothing visible yet (for example an open transaction before the last stable offset): look again.
        if (fetched.stableOffset <= offset) return;
        continue;
      }
      const records: BytesEntry[] = [];
      const schemas = new Set<string>();
      for (const m of fetched.records) {
        if (BigInt(m.offset) >= to) break;
        const schema = m.headers === undefined ? undefined : schemaOfRecord(m.key, m.value, m.headers);
        if (schema !== undefined) {
          schemas.add(schema);
          continue;
        }
        if (convert !== undefined) {
          const entry = convert(m);
          if (entry !== undefined) records.push(entry);
        } else if (m.key !== null) records.push([m.key, m.value]);
        const value = header === undefined ? undefined : m.headers?.[header];
        if (value !== undefined) schemas.add(value.toString());
      }
      await onBatch(records, next < to ? next : to, schemas);
      offset = next;
    }
  }

  close(): Promise<void> {
    return this.reader.close();
  }
}
