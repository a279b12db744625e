import { mkdir, rm } from 'node:fs/promises';
import { ClassicLevel } from 'classic-level';
import { StateStoreError } from '../errors/errors.js';
import type { BytesEntry, BytesStore } from './bytes-store.js';

/** Data keys start with 0x01; 0x00 holds the store's own metadata, so no user key can collide with it. */
const DATA_PREFIX = 0x01;
const POSITION_KEY = Buffer.from('\x00changelog-position', 'latin1');

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

  private constructor(
    readonly path: string,
    private readonly db: ClassicLevel<Buffer, Buffer>,
  ) {
    const raw = db.getSync(POSITION_KEY);
    this.position = raw === undefined ? undefined : BigInt(raw.toString('latin1'));
  }

  /** Opens (creating when missing) the store at `path`; a store that fails to open raises StateStoreError. */
  static async open(path: string): Promise<LevelDbBytesStore> {
    await mkdir(path, { recursive: true });
    const db = new ClassicLevel<Buffer, Buffer>(path, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    try {
      await db.open();
    } catch (err) {
      throw new StateStoreError(`Could not open the LevelDB store at ${path}: ${(err as Error).message}`, { cause: err });
    }
    return new LevelDbBytesStore(path, db);
  }

  /** Removes the store's files; the next open starts empty. */
  static async destroy(path: string): Promise<void> {
    await rm(path, { recursive: true, force: true });
  }

  get(key: Buffer): Buffer | undefined {
    return this.db.getSync(dataKey(key)) ?? undefined;
  }

  async apply(entries: readonly BytesEntry[], changelogPosition?: bigint): Promise<void> {
    if (entries.length === 0 && changelogPosition === undefined) return;
    const batch = this.db.batch();
    for (const [key, value] of entries) {
      if (value === null) batch.del(dataKey(key));
      else batch.put(dataKey(key), value);
    }
    if (changelogPosition !== undefined) batch.put(POSITION_KEY, Buffer.from(changelogPosition.toString(), 'latin1'));
    try {
      await batch.write();
    } catch (err) {
      throw new StateStoreError(`Could not write ${entries.length} entries to ${this.path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (changelogPosition !== undefined) this.position = changelogPosition;
  }

  changelogPosition(): bigint | undefined {
    return this.position;
  }

  /** Metadata entries of the store whose names start with `prefix` (kept beside the data, never in it). */
  async metadata(prefix: string): Promise<Array<[string, Buffer]>> {
    const gte = Buffer.from(`\x00${prefix}`, 'latin1');
    const lt = Buffer.concat([gte, Buffer.from([0xff])]);
    const out: Array<[string, Buffer]> = [];
    for await (const [key, value] of this.db.iterator({ gte, lt })) out.push([key.toString('latin1', 1), value]);
    return out;
  }

  async putMetadata(name: string, value: Buffer): Promise<void> {
    await this.db.put(Buffer.from(`\x00${name}`, 'latin1'), value);
  }

  async *entries(): AsyncIterable<[Buffer, Buffer]> {
    const gte = Buffer.from([DATA_PREFIX]);
    const lt = Buffer.from([DATA_PREFIX + 1]);
    for await (const [key, value] of this.db.iterator({ gte, lt })) {
      yield [key.subarray(1), value];
    }
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
