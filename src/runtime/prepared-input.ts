import type { Headers } from '../processor/record.js';
import type { SourceNodeDef } from '../processor/internals/graph.js';
import { DeserializationError, ProcessingError, StreamsError, type RecordOrigin } from '../errors/errors.js';
import { TimestampExtractors } from '../processor/timestamp-extractor.js';
import type { DroppedRecordsLog } from './dropped-records-log.js';
import type { TaskCounters } from './record-counts.js';
import { PROGRESS_HEADER, progressMarkerOf, type ProgressMarker } from './progress-marker.js';

/** A raw input record deserialized and timestamped by `StreamTask.prepare`, not processed yet. */
export interface PreparedInput {
  readonly origin: RecordOrigin;
  readonly key: unknown;
  readonly value: unknown;
  /** The time it will be processed with (the source's extractor applied). */
  readonly timestamp: number;
  readonly headers: Headers;
  /** A progress marker (event-time mode), taken out of the stream: never processed; null when malformed. */
  readonly marker?: ProgressMarker | null;
  /** The key and value as read, for a late record (see LateRecordRouter). */
  readonly rawKey: Buffer | null;
  readonly rawValue: Buffer | null;
}

/**
 * The first half of a task's processing, with no effect on stores or output: turns a raw record of a source
 * topic into a PreparedInput (its source's serdes and timestamp extractor applied), and keeps each source
 * topic's partition time for the extractors.
 */
export class InputPreparer {
  /** Per source topic, the largest timestamp its extractor returned (Kafka Streams' partition time). */
  private readonly partitionTimes = new Map<string, number>();

  constructor(
    private readonly counters: TaskCounters,
    private readonly dropped: DroppedRecordsLog,
  ) {}

  /** See `StreamTask.prepare`; `def` is the source node reading `topic`. */
  prepare(
    def: SourceNodeDef,
    topic: string,
    partition: number,
    offset: string,
    key: Buffer | null,
    value: Buffer | null,
    timestamp: number,
    headers: Headers,
  ): PreparedInput | undefined {
    const origin: RecordOrigin = { topic, partition, offset };
    if (headers[PROGRESS_HEADER] !== undefined) {
      // A progress marker: ours, never deserialized or processed (whatever this instance's mode).
      return { origin, key: null, value: null, rawKey: key, rawValue: value, timestamp: Math.max(0, timestamp), headers, marker: progressMarkerOf(headers) ?? null };
    }
    const keySerde = def.keySerde;
    const valueSerde = def.valueSerde;
    let typedKey: unknown = null;
    let typedValue: unknown = null;
    if (key !== null) {
      try {
        typedKey = keySerde.deserialize(key, topic);
      } catch (err) {
        throw new DeserializationError(origin, 'key', keySerde.name, err);
      }
    }
    if (value !== null) {
      try {
        typedValue = valueSerde.deserialize(value, topic);
      } catch (err) {
        throw new DeserializationError(origin, 'value', valueSerde.name, err);
      }
    }
    if (def.timestampExtractor !== undefined || timestamp < 0) {
      timestamp = this.extractTimestamp(def, origin, typedKey, typedValue, timestamp, headers);
      if (!(timestamp >= 0)) {
        this.counters.droppedInvalidTimestamp++;
        this.dropped.record(def.name, 'invalid-timestamp', `${topic}-${partition}@${offset}: extracted timestamp ${timestamp}`);
        return undefined;
      }
    }
    return { origin, key: typedKey, value: typedValue, timestamp, headers, rawKey: key, rawValue: value };
  }

  /**
   * The event time of a record: its source's extractor, or Kafka Streams' default that refuses a negative
   * Kafka timestamp. An extractor that throws fails like any user function (a ProcessingError the record
   * error policy handles); the default's refusal is fatal.
   */
  private extractTimestamp(def: SourceNodeDef, origin: RecordOrigin, key: unknown, value: unknown, timestamp: number, headers: Headers): number {
    const extractor = def.timestampExtractor ?? TimestampExtractors.failOnInvalidTimestamp;
    const partitionTime = this.partitionTimes.get(origin.topic) ?? -1;
    let extracted: number;
    try {
      extracted = extractor({ topic: origin.topic, partition: origin.partition, offset: origin.offset, key, value, timestamp, headers }, partitionTime);
    } catch (err) {
      if (err instanceof StreamsError) throw err;
      throw new ProcessingError(origin, `${def.name} (timestamp extractor)`, err);
    }
    // A bug of the extractor (a field the value lacks), not a record without a time: the processing
    // exception handler decides, as for an extractor that throws, instead of a silent drop.
    if (typeof extracted !== 'number' || Number.isNaN(extracted)) {
      const returned: unknown = extracted; // typed as a number, but JavaScript may return anything
      throw new ProcessingError(
        origin,
        `${def.name} (timestamp extractor)`,
        new TypeError(
          `it returned ${typeof returned === 'number' ? 'NaN' : typeof returned === 'string' ? `the string '${returned}'` : typeof returned}, not a number: ` +
            "return the record's time in ms since the epoch, or a negative number to drop the record (counted as an invalid timestamp)",
        ),
      );
    }
    if (extracted > partitionTime) this.partitionTimes.set(origin.topic, extracted);
    return extracted;
  }
}
