import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { asError } from '../errors/as-error.js';
import { DamagedStoreError, StateStoreError } from '../errors/errors.js';
import type { BytesEntry, BytesStore } from './bytes-store.js';
import { LevelDbBytesStore } from './leveldb-bytes-store.js';

/** Local keys start with an 8-byte segment id (see Segments); the id of all zero bytes is the lowest. */
const ID_BYTES = 8;
const SEGMENTS_FOLDER = 'segments';
/** Metadata of the meta database naming each segment database that exists (its id in hex). */
const SEGMENT_PREFIX = 'segment/';
const DROPPED_SUFFIX = '.dropped';
const PRESENT = Buffer.alloc(0);
/**
 * The meta database is rewritten at every commit (position, observed time) and at every segment created or
 * dropped: its LevelDB log would grow to the 4 MiB write buffer before LevelDB starts another. Reopening it
 * after this many batches (a few KB of log) keeps the folder flat; see the soak bench.
 */
const META_REOPEN_WRITES = 64;

/** A segment's id as its folder's name: the id's 8 bytes in hex, so names sort as the segments do. */
function segmentName(key: Buffer): string | undefined {
  if (key.length < ID_BYTES) return undefined;
  const name = key.toString('hex', 0, ID_BYTES);
  // The lowest id holds no data: a segmented store keeps its observed time there (OBSERVED_TIME_KEY).
  return /^0+$/.test(name) ? undefined : name;
}

function compareBytes(a: Buffer, b: Buffer): number {
  return Buffer.compare(a, b);
}

/**
 * A byte store for session and window stores made of one LevelDB per time segment (design (b) of issue 16),
 * so that an expired segment leaves the disk by closing its database and deleting its folder: no range
 * delete, no compaction, and none of the LOG and MANIFEST growth each manual compaction leaves behind.
 *
 * Layout under `path`: the folder itself is a small "meta" LevelDB holding every key outside the segments
 * (the observed time), the changelog position and the metadata (layout, schemas, and `segment/<id>` for
 * each segment database); `segments/<id>` is the LevelDB of a segment, keyed by the same local keys. A
 * folder of the earlier single-LevelDB layout opens as a meta database holding segment keys, whose recorded
 * layout (see StoreLayout) tells the caller to rebuild it: it is never read as this layout.
 *
 * Crash atomicity across the databases: `apply` writes the segments' batches first and the meta batch
 * (position, non-segment keys, and the names of segments it created) last. Each batch is atomic, so after a
 * crash the meta position P is a point every segment has reached (every batch up to P wrote its segments
 * before its meta batch), and a segment may be ahead of P, holding data of the batch the crash cut. Restoring
 * from P replays the changelog records after P: a segment value is a function of the latest changelog record
 * of each of its slots, so applying records it already holds gives the same value, and after restoration
 * data and position agree again. (A store without a changelog has no position to agree with: after a crash
 * its segments may be at different commits, as a crash leaves any unlogged store ahead of its input offsets.)
 * A segment folder the meta names but that is missing is damage; one it does not name was created by a batch
 * the crash cut before its meta write, and is adopted. Dropping first forgets a segment in the meta, then
 * renames its folder (atomic) and deletes it, so a crash mid-delete never leaves a half folder that looks live.
 */
export class SegmentedLevelDbBytesStore implements BytesStore {
  private constructor(
    readonly path: string,
    private readonly meta: LevelDbBytesStore,
    /** Open segment databases by name (hex id), in no particular order. */
    private readonly segments: Map<string, LevelDbBytesStore>,
  ) {}

  /** True when there was no store at `path`: this open created it empty. */
  get created(): boolean {
    return this.meta.created;
  }

  /**
   * Opens the store at `path`, creating it when there is none. Every database is verified as
   * LevelDbBytesStore.open verifies it; damage in any raises DamagedStoreError naming the store's folder.
   */
  static async open(path: string): Promise<SegmentedLevelDbBytesStore> {
    // The meta database holds a key or two: what a drop deletes there needs no compaction.
    const meta = await LevelDbBytesStore.open(path, { compactEveryDrops: 0 });
    const segments = new Map<string, LevelDbBytesStore>();
    try {
      const folder = join(path, SEGMENTS_FOLDER);
      // A new meta database means the store's position and segment names are gone: nothing beside it counts.
      if (meta.created) await LevelDbBytesStore.destroy(folder);
      const names = await SegmentedLevelDbBytesStore.folders(folder);
      for (const name of names.filter((n) => n.endsWith(DROPPED_SUFFIX))) await LevelDbBytesStore.destroy(join(folder, name));
      const present = new Set(names.filter((n) => /^[0-9a-f]{16}$/.test(n)));
      const named = (await meta.metadata(SEGMENT_PREFIX)).map(([key]) => key.slice(SEGMENT_PREFIX.length));
      const missing = named.filter((name) => !present.has(name));
      if (missing.length > 0) throw new DamagedStoreError(path, `the folder of segment ${missing[0]} is missing (${missing.length} of ${named.length})`);
      for (const name of present) {
        try {
          segments.set(name, await LevelDbBytesStore.open(join(folder, name)));
        } catch (err) {
          if (err instanceof DamagedStoreError) throw new DamagedStoreError(path, `${err.reason} (segment ${name})`, { cause: err });
          throw err;
        }
      }
      const adopted = [...present].filter((name) => !named.includes(name));
      if (adopted.length > 0) await meta.apply([], undefined, adopted.map((name) => [`${SEGMENT_PREFIX}${name}`, PRESENT]));
      return new SegmentedLevelDbBytesStore(path, meta, segments);
    } catch (err) {
      for (const segment of segments.values()) await segment.close().catch(() => {});
      await meta.close().catch(() => {});
      throw err;
    }
  }

  private static async folders(folder: string): Promise<string[]> {
    try {
      return (await readdir(folder, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new StateStoreError(`Could not list the segments of the store at ${folder}: ${asError(err).message}`, { cause: err });
    }
  }

  private segmentPath(name: string): string {
    return join(this.path, SEGMENTS_FOLDER, name);
  }

  get(key: Buffer): Buffer | undefined {
    const name = segmentName(key);
    if (name === undefined) return this.meta.get(key);
    return this.segments.get(name)?.get(key);
  }

  async apply(entries: readonly BytesEntry[], changelogPosition?: bigint): Promise<void> {
    const metaEntries: BytesEntry[] = [];
    const bySegment = new Map<string, BytesEntry[]>();
    for (const entry of entries) {
      const name = segmentName(entry[0]);
      if (name === undefined) metaEntries.push(entry);
      else {
        let list = bySegment.get(name);
        if (list === undefined) bySegment.set(name, (list = []));
        list.push(entry);
      }
    }
    const created: Array<readonly [string, Buffer]> = [];
    await Promise.all(
      [...bySegment].map(async ([name, list]) => {
        let segment = this.segments.get(name);
        if (segment === undefined) {
          if (list.every(([, value]) => value === null)) return; // deletes in a segment that has no database
          await mkdir(join(this.path, SEGMENTS_FOLDER), { recursive: true });
          segment = await LevelDbBytesStore.open(this.segmentPath(name));
          this.segments.set(name, segment);
          created.push([`${SEGMENT_PREFIX}${name}`, PRESENT]);
        }
        // The position goes into each segment's batch too (a few bytes): a copy taken mid-commit sees a
        // segment ahead of the meta database's position (see segmentsAhead).
        await segment.apply(list, changelogPosition);
      }),
    );
    // Last: the position a reopened store restores from is one every segment has reached (see the class).
    await this.meta.apply(metaEntries, changelogPosition, created);
  }

  changelogPosition(): bigint | undefined {
    return this.meta.changelogPosition();
  }

  /**
   * Removes the segments whose every key lies in (gt, lt) whole (close, forget, rename, delete); keys of
   * segments the range only partly covers, and of the meta database, are deleted key by key.
   */
  async clearRange(gt: Buffer, lt: Buffer): Promise<void> {
    for (const name of [...this.segments.keys()].sort()) {
      const low = Buffer.from(name, 'hex');
      // Every key of the segment is in [low, high); the last id has no such bound and is never dropped whole.
      const next = BigInt(`0x${name}`) + 1n;
      const high = next < 2n ** 64n ? Buffer.from(next.toString(16).padStart(16, '0'), 'hex') : undefined;
      if (compareBytes(low, gt) > 0 && high !== undefined && compareBytes(high, lt) <= 0) await this.drop(name);
      else if ((high === undefined || compareBytes(high, gt) > 0) && compareBytes(low, lt) < 0) await this.segments.get(name)!.clearRange(gt, lt);
    }
    if (segmentName(gt) === undefined || segmentName(lt) === undefined) await this.meta.clearRange(gt, lt);
    // Here because the contract has no `apply` during `clearRange`, and segmented stores read no meta key then.
    if (this.meta.writesSinceOpen >= META_REOPEN_WRITES) await this.meta.reopen();
  }

  private async drop(name: string): Promise<void> {
    const segment = this.segments.get(name)!;
    this.segments.delete(name);
    await segment.close();
    await this.meta.apply([], undefined, [[`${SEGMENT_PREFIX}${name}`, null]]);
    const path = this.segmentPath(name);
    try {
      await rename(path, `${path}${DROPPED_SUFFIX}`);
      await rm(`${path}${DROPPED_SUFFIX}`, { recursive: true, force: true });
    } catch (err) {
      throw new StateStoreError(`Could not remove the expired segment folder ${path}: ${asError(err).message}`, { cause: err });
    }
  }

  /** Every entry in key order: the meta database's keys merged with the segments' (each a contiguous range). */
  async *entries(): AsyncIterable<[Buffer, Buffer]> {
    const outside: Array<[Buffer, Buffer]> = [];
    for await (const entry of this.meta.entries()) outside.push(entry);
    let next = 0;
    for (const name of [...this.segments.keys()].sort()) {
      const low = Buffer.from(name, 'hex');
      while (next < outside.length && compareBytes(outside[next]![0], low) < 0) yield outside[next++]!;
      yield* this.segments.get(name)!.entries();
    }
    yield* outside.slice(next);
  }

  /** Metadata of the store (layout, schemas), kept in its meta database. */
  metadata(prefix: string): Promise<Array<[string, Buffer]>> {
    return this.meta.metadata(prefix);
  }

  putMetadata(name: string, value: Buffer): Promise<void> {
    return this.meta.putMetadata(name, value);
  }

  /**
   * Segments whose last batch carried a position beyond the store's: written by a commit whose meta batch
   * was not written yet (a copy of the folder taken mid-commit: see store-snapshot.ts) or was cut by a crash.
   */
  segmentsAhead(): string[] {
    const position = this.changelogPosition() ?? -1n;
    return [...this.segments].filter(([, segment]) => (segment.changelogPosition() ?? -1n) > position).map(([name]) => name);
  }

  /** The number of segment databases open (for tests and the soak bench). */
  get segmentCount(): number {
    return this.segments.size;
  }

  async close(): Promise<void> {
    for (const segment of this.segments.values()) await segment.close();
    this.segments.clear();
    await this.meta.close();
  }
}
