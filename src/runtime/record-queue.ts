import type { FetchedRecord } from '../client/fetched-batch.js';

/** What the task makes of a record before it can be ordered: at least the time it will be processed with. */
export interface PreparedRecord {
  readonly timestamp: number;
}

/**
 * Turns the queue's head into a prepared record (deserialize, extract the timestamp), or undefined when
 * the record is dropped on the spot (already counted). Throws when the record cannot be read; the caller
 * applies its error policy to `rawHead` and calls `skipHead`.
 */
export type Preparer<P extends PreparedRecord> = (record: FetchedRecord) => P | undefined;

interface Chunk {
  readonly records: readonly FetchedRecord[];
  next: number;
  /** Offset after the fetched batch: past its last record, or past control records and aborted ones. */
  readonly endOffset: bigint;
}

/**
 * The records fetched for one input partition and not processed yet (Kafka Streams' RecordQueue), in
 * offset order. Contract: single-threaded; `position` only ever moves past records that were taken, so a
 * commit of `position` never covers a record that was fetched but not processed. The end of a fetched batch
 * (its `lastOffset() + 1`, which includes transaction markers) becomes the position only once every record
 * of that batch was taken.
 */
export class RecordQueue<P extends PreparedRecord> {
  private readonly chunks: Chunk[] = [];
  private buffered = 0;
  private head: P | undefined;
  private pos: bigint | undefined;
  /**
   * The offset of the record taken last, when `pos` is not yet past it: the position is computed when asked
   * (once per round), not parsed into a bigint for every record.
   */
  private takenOffset: string | undefined;
  /** The offset the next fetched record must have at least: records below it are duplicates of a rewind. */
  private fetched: bigint | undefined;
  /** Records on the broker beyond what was fetched, as of the last fetch; undefined before the first. */
  private lag: bigint | undefined;
  private highWatermark: bigint | undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly prepare: Preparer<P>,
  ) {}

  /** Starts (again) at `offset`, forgetting what is buffered: after a seek or a rebalance. */
  reset(offset: bigint | undefined): void {
    this.chunks.length = 0;
    this.buffered = 0;
    this.head = undefined;
    this.pos = offset;
    this.takenOffset = undefined;
    this.fetched = offset;
    this.lag = undefined;
  }

  /**
   * Appends a fetched batch. Records below the fetch position seen so far are skipped (the consumer
   * rewinds after rebalances). Returns true when the position moved (a batch of only control records).
   */
  add(records: readonly FetchedRecord[], endOffset: bigint, highWatermark: bigint): boolean {
    this.highWatermark = highWatermark;
    if (this.fetched !== undefined && endOffset <= this.fetched) return false;
    let first = 0;
    if (this.fetched !== undefined) while (first < records.length && BigInt(records[first]!.offset) < this.fetched) first++;
    const lag = highWatermark - endOffset;
    this.lag = lag > 0n ? lag : 0n;
    this.fetched = endOffset;
    this.chunks.push({ records, next: first, endOffset });
    this.buffered += records.length - first;
    const before = this.position;
    this.settle();
    return this.position !== before;
  }

  get size(): number {
    return this.buffered;
  }

  get isEmpty(): boolean {
    return this.buffered === 0;
  }

  /**
   * The offset the next fetched batch must start at or before: past what was fetched so far. A batch fetched
   * from further on would leave records unseen.
   */
  get fetchPosition(): bigint | undefined {
    return this.fetched;
  }

  /** The offset after the last record taken (or skipped); what a commit of this partition may say. */
  get position(): bigint | undefined {
    if (this.takenOffset !== undefined) {
      this.pos = BigInt(this.takenOffset) + 1n;
      this.takenOffset = undefined;
    }
    return this.pos;
  }

  /** Records on the broker not fetched yet, as of the last fetch; undefined before any fetch answered. */
  get fetchedLag(): bigint | undefined {
    return this.lag;
  }

  /** Records behind the partition's end: buffered and not fetched. */
  get recordsLag(): bigint | undefined {
    const position = this.position;
    if (this.highWatermark === undefined || position === undefined) return undefined;
    const behind = this.highWatermark - position;
    return behind > 0n ? behind : 0n;
  }

  /** The raw record at the head; undefined when empty. */
  get rawHead(): FetchedRecord | undefined {
    const c = this.chunks[0];
    return c === undefined ? undefined : c.records[c.next];
  }

  /**
   * The prepared head, preparing it if needed; records the preparer drops are skipped. Throws what the
   * preparer throws, with the record still at the head.
   */
  peek(): P | undefined {
    while (this.head === undefined) {
      const raw = this.rawHead;
      if (raw === undefined) return undefined;
      const prepared = this.prepare(raw);
      if (prepared === undefined) this.skipHead();
      else this.head = prepared;
    }
    return this.head;
  }

  /** Timestamp of the prepared head (preparing it); undefined when empty. */
  headTimestamp(): number | undefined {
    return this.peek()?.timestamp;
  }

  /** Takes the head (prepared by `peek`) off the queue; the position moves past it. */
  take(): P {
    const head = this.peek();
    if (head === undefined) throw new Error(`record queue ${this.topic}-${this.partition} is empty`);
    this.skipHead();
    return head;
  }

  /** Drops the head unprocessed (unreadable, or dropped by the preparer): the position moves past it. */
  skipHead(): void {
    const c = this.chunks[0];
    if (c === undefined || c.next >= c.records.length) return;
    this.takenOffset = c.records[c.next]!.offset;
    c.next++;
    this.buffered--;
    this.head = undefined;
    this.settle();
  }

  /** Pops batches that have nothing left: the position becomes their end. */
  private settle(): void {
    for (let c = this.chunks[0]; c !== undefined && c.next >= c.records.length; c = this.chunks[0]) {
      this.pos = c.endOffset;
      this.takenOffset = undefined;
      this.chunks.shift();
    }
  }
}
