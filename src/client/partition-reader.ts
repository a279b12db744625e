/** A record read from a partition by offset. */
export interface ReadRecord {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: Record<string, Buffer | undefined>;
  /** The record's timestamp in ms since the epoch, as a decimal string (what global stores keep). */
  readonly timestamp?: string;
}

/** What one fetch of a partition returned. */
export interface PartitionFetch {
  /** Visible records at or after the fetch offset (no transaction markers, nothing of aborted transactions). */
  readonly records: ReadRecord[];
  /** The offset after the last record the fetch covered, hidden ones included; undefined if it covered none. */
  readonly nextOffset: bigint | undefined;
  /** The last stable offset under read_committed, else the high watermark. */
  readonly stableOffset: bigint;
}

/**
 * Reads a partition by offset without a consumer group, as Kafka Streams' restore consumer does with
 * `assign` and `seek`: for restoration and standby replicas.
 */
export interface PartitionReader {
  /** The first offset still in the log ('start') or its end ('end': the last stable offset under read_committed). */
  offset(topic: string, partition: number, which: 'start' | 'end'): Promise<bigint>;
  /** One fetch from `offset`; undefined when the broker returned nothing for the partition. */
  fetch(topic: string, partition: number, offset: bigint, maxBytes: number): Promise<PartitionFetch | undefined>;
  /** After a failed fetch: learn partition leaders anew. */
  refreshMetadata(): Promise<void>;
  close(): Promise<void>;
}
