import { ByteOrderedMap } from './byte-ordered-map.js';

/** One change to a byte store: a put, or a delete when `value` is null. */
export type BytesEntry = readonly [key: Buffer, value: Buffer | null];

/**
 * The byte-level store at the bottom of every store stack.
 *
 * Contract: `get` is synchronous and may be called at any time between `apply` calls; `apply` writes a batch
 * atomically, together with the changelog position it reflects (when given), so data and position can never
 * disagree after a crash. Calls to `apply` are never concurrent. Buffers a read returns belong to the store:
 * the caller must not modify them.
 */
export interface BytesStore {
  get(key: Buffer): Buffer | undefined;
  apply(entries: readonly BytesEntry[], changelogPosition?: bigint): Promise<void> | void;
  /** The changelog offset the data reflects (the next offset to restore from), if one was ever written. */
  changelogPosition(): bigint | undefined;
  /** Every entry in key order; synchronous only for stores held in memory. */
  entriesSync?(): Array<[Buffer, Buffer]>;
  /**
   * The entries whose key starts with `prefix`, in key order; only stores held in memory have it, and they
   * read no entry outside the prefix.
   */
  prefixScanSync?(prefix: Buffer): Array<[Buffer, Buffer]>;
  entries(): AsyncIterable<[Buffer, Buffer]>;
  /**
   * Deletes every entry with gt < key < lt (a segmented store dropping its expired segments). Never called
   * concurrently with `apply`, and only over keys no later `apply` of the same commit writes.
   */
  clearRange(gt: Buffer, lt: Buffer): Promise<void> | void;
  close(): Promise<void> | void;
}

/**
 * A byte store in memory: the TopologyTestDriver's, and the base of in-memory stores. Its keys are kept in
 * byte order (see ByteOrderedMap), so that a scan of everything, of a prefix or of a range sorts nothing.
 */
export class InMemoryBytesStore implements BytesStore {
  private readonly data = new ByteOrderedMap<Buffer>();
  private position: bigint | undefined;

  get(key: Buffer): Buffer | undefined {
    return this.data.get(key);
  }

  apply(entries: readonly BytesEntry[], changelogPosition?: bigint): void {
    for (const [key, value] of entries) {
      if (value === null) this.data.delete(key);
      else this.data.set(key, value);
    }
    if (changelogPosition !== undefined) this.position = changelogPosition;
  }

  changelogPosition(): bigint | undefined {
    return this.position;
  }

  entriesSync(): Array<[Buffer, Buffer]> {
    return this.data.entries();
  }

  prefixScanSync(prefix: Buffer): Array<[Buffer, Buffer]> {
    return this.data.withPrefix(prefix);
  }

  async *entries(): AsyncIterable<[Buffer, Buffer]> {
    yield* this.entriesSync();
  }

  clearRange(gt: Buffer, lt: Buffer): void {
    for (const [key] of this.data.between(gt, lt)) this.data.delete(key);
  }

  close(): void {
    this.data.clear();
  }
}
