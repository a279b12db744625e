/** One changelog record as the change-logging layer hands it over: a store's key and value bytes. */
export interface ChangelogRecord {
  readonly topic: string;
  readonly key: Buffer;
  /** Null: a tombstone. */
  readonly value: Buffer | null;
  /**
   * The record's Kafka timestamp, when the store gives one (a versioned store: the version's timestamp, as
   * Kafka Streams logs it); otherwise the sink stamps it with its clock.
   */
  readonly timestamp?: number;
  /** Shared by every record of a store: the receiver must not change it. */
  readonly headers: Record<string, Buffer>;
}

/**
 * Where the change-logging layer sends a store's changelog records: the runtime's enqueues them into the
 * task's producer pipeline (on the task's partition), the TopologyTestDriver's appends them to its output
 * topics.
 *
 * Contract: `send` is called synchronously from a store's flush, in the order the records must reach the
 * changelog, by the one task that owns the store; never concurrently. It must not throw for a record it
 * cannot deliver yet (the producer reports failures at the commit's flush). The sink knows the position a
 * record gets once its producer acknowledged it; the commit writes that position with the store's data.
 */
export interface ChangelogSink {
  send(record: ChangelogRecord): void;
}
