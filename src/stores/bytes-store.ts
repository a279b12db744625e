/** One change to a byte store: a put, or a delete when `value` is null. */
export type BytesEntry = readonly [key: Buffer, value: Buffer | null];

/**
 * The byte-level store at the bottom of every store stack.
 *
 * Contract: `get` is synchronous and may be called at any time between `apply` calls; `apply` writes a batch
 * atomically, together with the changelog position it reflects (when given), so data and position can never
 * disagree after a crash. Calls to `apply` are never concurrent.
 */
export interface BytesStore {
  get(key: Buffer): Buffer | undefined;
  apply(entries: readonly BytesEntry[], changelogPosition?: bigint): Promise<void> | void;
  /** The changelog offset the data reflects (the next offset to restore from), if one was ever written. */
  changelogPosition(): bigint | undefined;
  /** Every entry in key order; synchronous only for stores held in memory. */
  entriesSync?(): Array<[Buffer, Buffer]>;
  entries(): AsyncIterable<[Buffer, Buffer]>;
  /**
   * Deletes every entry with gt < key < lt (a segmented store dropping its expired segments). Never called
   * concurrently with `apply`, and only over keys no later `apply` of the same commit writes.
   */
  clearRange(gt: Buffer, lt: Buffer): Promise<void> | void;
  close(): Promise<void> | void;
}

/** A byte store in memory: the TopologyTestDriver's, and the base of in-memory stores. */
export class InMemoryBytesStore implements BytesStore {
  private readonly data = new Map<string, Buffer>();
  private position: bigint | undefined;

  get(key: Buffer): Buffer | undefined {
    return this.data.get(key.toString('latin1'));
  }

  apply(entries: readonly BytesEntry[], changelogPosition?: bigint): void {
    for (const [key, value] of entries) {
      if (value === null) this.data.delete(key.toString('latin1'));
      else this.data.set(key.toString('latin1'), value);
    }
    if (changelogPosition !== undefined) this.position = changelogPosition;
  }

  changelogPosition(): bigint | undefined {
    return this.position;
  }

  entriesSync(): Array<[Buffer, Buffer]> {
    return [...this.data.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => [Buffer.from(k, 'latin1'), v]);
  }

  async *entries(): AsyncIterable<[Buffer, Buffer]> {
    yield* this.entriesSync();
  }

  clearRange(gt: Buffer, lt: Buffer): void {
    // latin1 strings compare by char code, that is by byte: the same order as the keys' bytes.
    const low = gt.toString('latin1');
    const high = lt.toString('latin1');
    for (const key of [...this.data.keys()]) if (key > low && key < high) this.data.delete(key);
  }

  close(): void {
    this.data.clear();
  }
}
