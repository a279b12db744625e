import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { asError } from '../errors/as-error.js';
import { DamagedStoreError, StateStoreError } from '../errors/errors.js';
import type { BytesEntry, BytesStore } from './bytes-store.js';
import { inspectLevelDbFolder } from './leveldb-files.js';

/** Data keys start with 0x01; 0x00 holds the store's own metadata, so no user key can collide with it. */
const DATA_PREFIX = 0x01;
const POSITION_KEY = Buffer.from('\x00changelog-position', 'latin1');

function metadataKey(name: string): Buffer {
  return Buffer.from(`\x00${name}`, 'latin1');
}

/**
 * How a store drops ranges (design (a) of issue 16, kept measurable by the soak bench): LevelDB deletes a
 * range key by key, and only a compaction removes the deleted entries from disk. Each manual compaction adds
 * LOG lines and MANIFEST records that stay until the database is next opened, so a store that drops often
 * can also reopen itself now and then, which starts both files afresh.
 */
export interface LevelDbOptions {
  /** Compact after every this many `clearRange` calls (default 1; 0: never, LevelDB compacts when it likes). */
  readonly compactEveryDrops?: number;
  /** Close and reopen the database after every this many `clearRange` calls (default 0: never). */
  readonly reopenEveryDrops?: number;
  /** LevelDB's memtable size before it becomes a level-0 table (default: DEFAULT_WRITE_BUFFER_BYTES). */
  readonly writeBufferSize?: number;
}

/**
 * Memory of each database, below LevelDB's own defaults (4 MiB memtable, twice while one is written out, and
 * an 8 MiB block cache): a session or window store keeps one database per time segment and an instance has
 * one store per task, so LevelDB's defaults add up to 16 MiB per database that a long catch-up fills. With
 * 1 MiB each, a catch-up of 500 000 events (6 tasks) peaked at 30 MB less memory off the JS heap, at the
 * same CPU time, and a restoration of 770 000 changelog records ran at the same speed (issue 18). The write
 * cache above, not LevelDB's block cache, is what serves a task's hot keys.
 */
const DEFAULT_WRITE_BUFFER_BYTES = 1024 * 1024;
const BLOCK_CACHE_BYTES = 1024 * 1024;

function dataKey(key: Buffer): Buffer {
  const out = Buffer.allocUnsafe(key.length + 1);
  out[0] = DATA_PREFIX;
  key.copy(out, 1);
  return out;
}

/**
 * A byte store on LevelDB (classic-level). The changelog position is kept inside the same database and
 * written in the same batch as the data it describes (an idea taken from Goka's storage), so a crash at any
 * moment leaves a store whose data matches its recorded position.
 */
export class LevelDbBytesStore implements BytesStore {
  private position: bigint | undefined;
  private drops = 0;
  private writes = 0;

  private constructor(
    readonly path: string,
    private db: ClassicLevel<Buffer, Buffer>,
    /** True when there was no store at `path`: this open created it empty. */
    readonly created: boolean,
    private readonly options: LevelDbOptions,
  ) {
    const raw = this.read(POSITION_KEY);
    this.position = raw === undefined ? undefined : BigInt(raw.toString('latin1'));
  }

  /**
   * Opens the store at `path`, creating it when there is none. Its files are verified first (see
   * inspectLevelDbFolder): a damaged store raises DamagedStoreError and is left as found, for the caller to
   * wipe and restore. Any other failure (permissions, a read-only disk, a lock held) raises StateStoreError.
   */
  static async open(path: string, options: LevelDbOptions = {}): Promise<LevelDbBytesStore> {
    let created: boolean;
    try {
      const state = await inspectLevelDbFolder(path);
      if (state.kind === 'damaged') throw new DamagedStoreError(path, state.reason);
      created = state.kind === 'absent';
      await mkdir(path, { recursive: true });
    } catch (err) {
      if (err instanceof StateStoreError) throw err;
      throw new StateStoreError(`Could not open the store folder ${path}: ${asError(err).message}`, { cause: err });
    }
    const db = await LevelDbBytesStore.openDb(path, options);
    try {
      const dropped = await LevelDbBytesStore.droppedOnOpen(path);
      if (dropped !== undefined) {
        // The damaged log is already replayed and deleted: remove the rest too, or the next open would trust it.
        await db.close();
        await LevelDbBytesStore.destroy(path);
        throw new DamagedStoreError(path, `LevelDB dropped data while opening it (${dropped}); the store was removed`);
      }
      return new LevelDbBytesStore(path, db, created, options);
    } catch (err) {
      if (db.status === 'open') await db.close().catch(() => {});
      throw err;
    }
  }

  private static async openDb(path: string, options: LevelDbOptions): Promise<ClassicLevel<Buffer, Buffer>> {
    const db = new ClassicLevel<Buffer, Buffer>(path, {
      keyEncoding: 'buffer',
      valueEncoding: 'buffer',
      writeBufferSize: options.writeBufferSize ?? DEFAULT_WRITE_BUFFER_BYTES,
      cacheSize: BLOCK_CACHE_BYTES,
    });
    try {
      await db.open();
    } catch (err) {
      throw LevelDbBytesStore.failure(path, 'open', err);
    }
    return db;
  }

  /**
   * What LevelDB says it ignored while replaying its logs (without paranoid checks it drops bad records and
   * goes on). Its LOG file is new at each open, so such a line means data was lost just now.
   */
  private static async droppedOnOpen(path: string): Promise<string | undefined> {
    const log = await readFile(join(path, 'LOG'), 'utf8').catch(() => '');
    const line = log.split('\n').find((l) => l.includes('(ignoring error)'));
    return line?.slice(line.indexOf('(ignoring error)'));
  }

  /** A LevelDB error as ours: corruption means a damaged store, anything else a store that cannot be used. */
  private static failure(path: string, action: string, err: unknown): StateStoreError {
    // abstract-level wraps LevelDB's error (e.g. 'Database failed to open'): the cause says what happened.
    const messages: string[] = [];
    let corrupt = false;
    for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
      messages.push(e.message);
      if ((e as { code?: unknown }).code === 'LEVEL_CORRUPTION') corrupt = true;
    }
    const message = messages.length === 0 ? String(err) : messages.join(': ');
    if (corrupt) return new DamagedStoreError(path, `${action}: ${message}`, { cause: err });
    return new StateStoreError(`Could not ${action} the LevelDB store at ${path}: ${message}`, { cause: err });
  }

  private read(key: Buffer): Buffer | undefined {
    try {
      return this.db.getSync(key) ?? undefined;
    } catch (err) {
      throw LevelDbBytesStore.failure(this.path, 'read', err);
    }
  }

  /** Removes the store's files; the next open starts empty. */
  static async destroy(path: string): Promise<void> {
    try {
      await rm(path, { recursive: true, force: true });
    } catch (err) {
      throw new StateStoreError(`Could not remove the store folder ${path}: ${asError(err).message}`, { cause: err });
    }
  }

  get(key: Buffer): Buffer | undefined {
    return this.read(dataKey(key));
  }

  /**
   * Writes `entries` and the position in one batch; `metadata` entries (null: delete) go in the same batch,
   * for a store built of several databases that records which of them exist beside its position.
   */
  async apply(entries: readonly BytesEntry[], changelogPosition?: bigint, metadata: ReadonlyArray<readonly [string, Buffer | null]> = []): Promise<void> {
    if (entries.length === 0 && changelogPosition === undefined && metadata.length === 0) return;
    const batch = this.db.batch();
    for (const [key, value] of entries) {
      if (value === null) batch.del(dataKey(key));
      else batch.put(dataKey(key), value);
    }
    for (const [name, value] of metadata) {
      if (value === null) batch.del(metadataKey(name));
      else batch.put(metadataKey(name), value);
    }
    if (changelogPosition !== undefined) batch.put(POSITION_KEY, Buffer.from(changelogPosition.toString(), 'latin1'));
    try {
      await batch.write();
    } catch (err) {
      throw LevelDbBytesStore.failure(this.path, `write ${entries.length} entries to`, err);
    }
    this.writes++;
    if (changelogPosition !== undefined) this.position = changelogPosition;
  }

  changelogPosition(): bigint | undefined {
    return this.position;
  }

  /**
   * LevelDB has no range tombstone: `clear` deletes key by key in the native layer, then (see LevelDbOptions)
   * the range is compacted so that the deleted entries leave the disk now rather than at some later
   * compaction, and the database may be reopened to start its MANIFEST and LOG afresh. Reads wait for no
   * reopen: the contract has no `get` during `clearRange`.
   */
  async clearRange(gt: Buffer, lt: Buffer): Promise<void> {
    const from = dataKey(gt);
    const to = dataKey(lt);
    const { compactEveryDrops = 1, reopenEveryDrops = 0 } = this.options;
    this.drops++;
    try {
      await this.db.clear({ gt: from, lt: to });
      // Compacting everything below `to` also removes what drops skipped since the last compaction left.
      if (compactEveryDrops > 0 && this.drops % compactEveryDrops === 0) await this.db.compactRange(dataKey(Buffer.alloc(0)), to);
    } catch (err) {
      throw LevelDbBytesStore.failure(this.path, 'clear a range of', err);
    }
    if (reopenEveryDrops > 0 && this.drops % reopenEveryDrops === 0) await this.reopen();
  }

  /**
   * Closes and opens the database again: LevelDB then writes its log to a table, starts a new log and a new
   * MANIFEST, and rotates its LOG, so none of them keeps growing. Not concurrent with any other call.
   */
  async reopen(): Promise<void> {
    await this.db.close();
    this.db = await LevelDbBytesStore.openDb(this.path, this.options);
    this.writes = 0;
  }

  /** Batches written since the database was opened (what its current log holds, at most). */
  get writesSinceOpen(): number {
    return this.writes;
  }

  /** Metadata entries of the store whose names start with `prefix` (kept beside the data, never in it). */
  async metadata(prefix: string): Promise<Array<[string, Buffer]>> {
    const gte = metadataKey(prefix);
    const lt = Buffer.concat([gte, Buffer.from([0xff])]);
    const out: Array<[string, Buffer]> = [];
    try {
      for await (const [key, value] of this.db.iterator({ gte, lt })) out.push([key.toString('latin1', 1), value]);
    } catch (err) {
      throw LevelDbBytesStore.failure(this.path, 'read', err);
    }
    return out;
  }

  async putMetadata(name: string, value: Buffer): Promise<void> {
    try {
      await this.db.put(metadataKey(name), value);
    } catch (err) {
      throw LevelDbBytesStore.failure(this.path, 'write to', err);
    }
  }

  async *entries(): AsyncIterable<[Buffer, Buffer]> {
    const gte = Buffer.from([DATA_PREFIX]);
    const lt = Buffer.from([DATA_PREFIX + 1]);
    const iterator = this.db.iterator({ gte, lt });
    try {
      for (;;) {
        let entry: [Buffer, Buffer] | undefined;
        try {
          entry = await iterator.next();
        } catch (err) {
          throw LevelDbBytesStore.failure(this.path, 'read', err);
        }
        if (entry === undefined) return;
        yield [entry[0].subarray(1), entry[1]];
      }
    } finally {
      await iterator.close();
    }
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
