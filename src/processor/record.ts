/** Headers of a record, as Kafka carries them. */
export type Headers = Record<string, Buffer | string | undefined>;

/**
 * One record flowing through a topology. Processors receive it and forward new ones; they never mutate a
 * record they did not create.
 */
export interface StreamRecord<K, V> {
  /** The key (null for a record without one). */
  readonly key: K;
  /** The value (null for a tombstone). */
  readonly value: V;
  /** Event time in epoch milliseconds: the Kafka record's timestamp unless a processor changed it. */
  readonly timestamp: number;
  /** Headers, passed on to the records a processor forwards unless it sets others. */
  readonly headers: Headers;
}

/** Where the record being processed was read from; absent for records a punctuator creates. */
export interface RecordMetadata {
  /** The topic. */
  readonly topic: string;
  /** The partition. */
  readonly partition: number;
  /** The offset as Kafka reports it: a decimal string, exact beyond 2^53. */
  readonly offset: string;
}

/** A key and a value, as aggregations and range queries return them. */
export interface KeyValue<K, V> {
  /** The key. */
  readonly key: K;
  /** The value. */
  readonly value: V;
}
