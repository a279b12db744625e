/** A fetched record as the group consumer hands it over. */
export interface FetchedRecord {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Milliseconds since the epoch, as a decimal string. */
  readonly timestamp: string;
  readonly headers?: Record<string, Buffer | string | Array<Buffer | string> | undefined>;
}

/** Records of one partition from one fetch. */
export interface FetchedBatch {
  readonly topic: string;
  readonly partition: number;
  /** The offset the fetch started at: the consumer's fetch position. */
  readonly fetchedOffset: string;
  readonly highWatermark: string;
  /** Visible records (no transaction markers, nothing of aborted transactions), in offset order. */
  readonly messages: FetchedRecord[];
  /** The last offset the fetch covered, hidden records included. */
  lastOffset(): string;
}

/**
 * A fetch of a partition that returned no visible record. `firstOffset` is null when nothing at or past
 * the fetch position came back; `lastOffset` is then a guess, never a position to commit.
 */
export interface EmptyFetch {
  readonly topic: string;
  readonly partition: number;
  readonly firstOffset: string | null;
  readonly lastOffset: string;
  readonly highWatermark: string;
}
