import { StreamsError } from '../errors/errors.js';
import type { Headers, KeyValue } from '../processor/record.js';
import type { OutgoingRecord } from '../runtime/record-sink.js';
import type { Serde } from '../serdes/serde.js';

/** A record read from a test output topic. */
export interface TestRecord<K, V> {
  /** The key, deserialized (null for a null key). */
  readonly key: K | null;
  /** The value, deserialized (null for a tombstone). */
  readonly value: V | null;
  /** The record's timestamp (ms since the epoch). */
  readonly timestamp: number;
  /** Its headers. */
  readonly headers: Headers;
  /** The partition it was written to: set by the {@link PartitionedTopologyTestDriver} only. */
  readonly partition?: number;
}

/**
 * What a TestInputTopic pipes into: a test driver. `typedKey` and `typedValue` are the record before
 * serialization, for a driver that places records with a StreamPartitioner.
 * @internal
 */
export interface TestInputTarget {
  pipeRaw(topic: string, key: Buffer | null, value: Buffer | null, timestamp: number, headers: Headers, typedKey: unknown, typedValue: unknown): void;
  readonly currentWallClock: number;
}

/**
 * What a TestOutputTopic reads from: a test driver's records of one topic (or of one partition of it),
 * oldest first. `reportsPartitions`: each record read names its partition.
 * @internal
 */
export interface TestOutputSource {
  takeOutput(topic: string, count: number): OutgoingRecord[];
  outputSize(topic: string): number;
  readonly reportsPartitions?: boolean;
}

/** Pipes typed records into one source topic of a test driver. */
export class TestInputTopic<K, V> {
  /** @internal */
  constructor(
    private readonly driver: TestInputTarget,
    /** The source topic records are piped into. */
    readonly topic: string,
    private readonly keySerde: Serde<K>,
    private readonly valueSerde: Serde<V>,
  ) {}

  /** Processes one record now; the timestamp defaults to the driver's wall clock. */
  pipeInput(key: K | null, value: V | null, timestampMs?: number, headers: Headers = {}): void {
    this.driver.pipeRaw(
      this.topic,
      key === null ? null : this.keySerde.serialize(key, this.topic),
      value === null ? null : this.valueSerde.serialize(value, this.topic),
      timestampMs ?? this.driver.currentWallClock,
      headers,
      key,
      value,
    );
  }

  /** Pipes each pair, at `startTimestampMs` and then `advanceMs` apart. */
  pipeKeyValueList(records: ReadonlyArray<KeyValue<K | null, V | null>>, startTimestampMs?: number, advanceMs = 0): void {
    let timestamp = startTimestampMs ?? this.driver.currentWallClock;
    for (const { key, value } of records) {
      this.pipeInput(key, value, timestamp);
      timestamp += advanceMs;
    }
  }
}

/** Reads typed records from one topic the topology wrote to, oldest first. */
export class TestOutputTopic<K, V> {
  /** @internal */
  constructor(
    private readonly driver: TestOutputSource,
    /** The topic read. */
    readonly topic: string,
    private readonly keySerde: Serde<K>,
    private readonly valueSerde: Serde<V>,
  ) {}

  private decode(record: OutgoingRecord): TestRecord<K, V> {
    const decoded = {
      key: record.key === null ? null : this.keySerde.deserialize(record.key, this.topic),
      value: record.value === null ? null : this.valueSerde.deserialize(record.value, this.topic),
      timestamp: record.timestamp,
      headers: record.headers,
    };
    return this.driver.reportsPartitions === true ? { ...decoded, partition: record.partition } : decoded;
  }

  /** True when every record written to the topic has been read. */
  isEmpty(): boolean {
    return this.driver.outputSize(this.topic) === 0;
  }

  /** Records written to the topic and not read yet. */
  getQueueSize(): number {
    return this.driver.outputSize(this.topic);
  }

  /** The oldest unread record with its timestamp and headers; throws when there is none. */
  readRecord(): TestRecord<K, V> {
    const [record] = this.driver.takeOutput(this.topic, 1);
    if (record === undefined) throw new StreamsError(`No record left on output topic '${this.topic}'`);
    return this.decode(record);
  }

  /** The oldest unread record's key and value; throws when there is none. */
  readKeyValue(): KeyValue<K | null, V | null> {
    const { key, value } = this.readRecord();
    return { key, value };
  }

  /** Every unread record, oldest first. */
  readRecordsToList(): TestRecord<K, V>[] {
    return this.driver.takeOutput(this.topic, Number.MAX_SAFE_INTEGER).map((r) => this.decode(r));
  }

  /** Every unread record's key and value, oldest first, e.g. `expect(out.readKeyValuesToList()).toEqual([{ key: 'a', value: 2 }])`. */
  readKeyValuesToList(): KeyValue<K | null, V | null>[] {
    return this.readRecordsToList().map(({ key, value }) => ({ key, value }));
  }
}
