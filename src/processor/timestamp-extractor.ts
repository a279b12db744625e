import { StreamsError } from '../errors/errors.js';
import type { Headers } from './record.js';

/** A record as a timestamp extractor sees it: deserialized, with where it was read and its Kafka timestamp. */
export interface ConsumedRecord<K, V> {
  /** The topic it was read from. */
  readonly topic: string;
  /** Its partition. */
  readonly partition: number;
  /** Its offset (a decimal string). */
  readonly offset: string;
  /** The deserialized key. */
  readonly key: K;
  /** The deserialized value. */
  readonly value: V;
  /** The Kafka record's own timestamp (producer or broker time), epoch ms; negative when it has none. */
  readonly timestamp: number;
  /** Its headers. */
  readonly headers: Headers;
}

/**
 * Chooses a record's event time, as Kafka Streams' TimestampExtractor: stream time, windows and sessions all
 * follow it. `partitionTime` is the largest timestamp extracted so far from the record's partition (-1
 * before the first). A negative result drops the record, counted and logged as an invalid timestamp; a result
 * that is no number (undefined, NaN: a field the value lacks) is a processing error, which the processing
 * exception handler fails on (default), skips or dead-letters.
 *
 * ```ts
 * Consumed.with(Serdes.String(), viewSerde).withTimestampExtractor((record) => record.value.reportedAt)
 * ```
 */
export type TimestampExtractor<K = unknown, V = unknown> = (record: ConsumedRecord<K, V>, partitionTime: number) => number;

/** A record whose timestamp is negative met the default extractor, which refuses it. */
export class InvalidTimestampError extends StreamsError {}

/** Kafka Streams' built-in extractors. */
export const TimestampExtractors = {
  /**
   * The default: the Kafka record's timestamp; a negative one (a producer that set none) is fatal, with an
   * error that names the record (Kafka Streams' FailOnInvalidTimestamp).
   */
  failOnInvalidTimestamp: ((record) => {
    if (record.timestamp < 0) {
      throw new InvalidTimestampError(
        `The record at ${record.topic}-${record.partition}@${record.offset} has an invalid (negative) timestamp ` +
          `${record.timestamp}: its producer set none. Use a timestamp extractor that reads the time from the data ` +
          '(Consumed.withTimestampExtractor), or TimestampExtractors.logAndSkipOnInvalidTimestamp to drop such records.',
      );
    }
    return record.timestamp;
  }) as TimestampExtractor,
  /** The Kafka record's timestamp; a record without one is dropped and counted (LogAndSkipOnInvalidTimestamp). */
  logAndSkipOnInvalidTimestamp: ((record) => record.timestamp) as TimestampExtractor,
  /** The Kafka record's timestamp, or the partition's time for a record without one (UsePartitionTimeOnInvalidTimestamp). */
  usePartitionTimeOnInvalidTimestamp: ((record, partitionTime) => {
    if (record.timestamp >= 0) return record.timestamp;
    if (partitionTime < 0) {
      throw new InvalidTimestampError(
        `The record at ${record.topic}-${record.partition}@${record.offset} has no timestamp and its partition has no time yet`,
      );
    }
    return partitionTime;
  }) as TimestampExtractor,
  /** The time the record is processed (WallclockTimestampExtractor): windows follow arrival, not event time. */
  wallclock: (() => Date.now()) as TimestampExtractor,
} as const;
