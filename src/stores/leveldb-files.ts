import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { asError } from '../errors/as-error.js';
import { crc32c, unmaskCrc } from './crc32c.js';
import { snappyUncompress } from './snappy.js';

/**
 * Checks a LevelDB folder before it is opened, because classic-level cannot open with LevelDB's
 * `paranoid_checks`: without them LevelDB drops log records that fail their checksum and carries on, and a
 * missing CURRENT makes it create an empty database over the old files. Here every file LevelDB would read
 * is verified against its own checksums: the manifest, the logs it would replay, and every block of every
 * live table (whose size must also match the manifest). Reads each byte once; see the store's tests for cost.
 */
export type LevelDbFolderState =
  | { readonly kind: 'absent' }
  | { readonly kind: 'sound' }
  | { readonly kind: 'damaged'; readonly reason: string };

const LOG_BLOCK = 32768;
const LOG_HEADER = 7;
const FOOTER = 48;
const TABLE_MAGIC = Buffer.from([0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb]);

/** A file that does not match its own structure or checksums. */
class Damage extends Error {}

export async function inspectLevelDbFolder(path: string): Promise<LevelDbFolderState> {
  let names: string[];
  try {
    names = await readdir(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' };
    throw err;
  }
  const tables = new Map<number, string>();
  const logs = new Map<number, string>();
  for (const name of names) {
    const m = /^(\d+)\.(log|ldb|sst)$/.exec(name);
    if (m === null) continue;
    (m[2] === 'log' ? logs : tables).set(Number(m[1]), name);
  }
  if (!names.includes('CURRENT')) {
    let logBytes = 0;
    for (const name of logs.values()) logBytes += (await stat(join(path, name))).size;
    // A folder left by a crash during the very first open holds no data: nothing was lost.
    if (tables.size === 0 && logBytes === 0) return { kind: 'absent' };
    return { kind: 'damaged', reason: `its CURRENT file is missing (${tables.size} tables and ${logBytes} log bytes remain)` };
  }
  try {
    const current = (await readFile(join(path, 'CURRENT'), 'latin1')).trim();
    if (!/^MANIFEST-\d+$/.test(current)) throw new Damage(`CURRENT does not name a manifest (${JSON.stringify(current.slice(0, 40))})`);
    const manifest = await readOrNull(join(path, current));
    if (manifest === null) throw new Damage(`CURRENT names ${current}, which is missing`);
    const version = new VersionState();
    try {
      readLog(manifest, (record) => version.apply(record));
    } catch (err) {
      throw new Damage(`${current}: ${asError(err).message}`);
    }
    for (const [number, size] of version.liveTables()) {
      const name = tables.get(number);
      if (name === undefined) throw new Damage(`table ${String(number).padStart(6, '0')}.ldb is missing`);
      const data = await readFile(join(path, name));
      if (data.length !== size) throw new Damage(`table ${name} is ${data.length} bytes where the manifest says ${size}`);
      try {
        verifyTable(data);
      } catch (err) {
        throw new Damage(`table ${name}: ${asError(err).message}`);
      }
    }
    for (const [number, name] of logs) {
      // The logs LevelDB replays on open; older ones are obsolete and deleted unread.
      if (number < version.logNumber && number !== version.prevLogNumber) continue;
      try {
        readLog(await readFile(join(path, name)), () => {});
      } catch (err) {
        throw new Damage(`log ${name}: ${asError(err).message}`);
      }
    }
  } catch (err) {
    if (err instanceof Damage) return { kind: 'damaged', reason: err.message };
    throw err;
  }
  return { kind: 'sound' };
}

/** What a database's manifest says is live: its tables (number → size) and the logs LevelDB would replay. */
export interface LevelDbManifest {
  readonly tables: ReadonlyMap<number, number>;
  /** Logs numbered at or above this are replayed on open (older ones are obsolete)... */
  readonly logNumber: number;
  /** ...and so is this one (0: none; only databases of old LevelDB versions set it). */
  readonly prevLogNumber: number;
}

/**
 * Reads a manifest's version edits (a copy taken while LevelDB appends to it is fine: a record cut short at
 * the end is ignored, as LevelDB ignores it). Throws when the manifest does not check out.
 */
export function readManifest(data: Uint8Array): LevelDbManifest {
  const version = new VersionState();
  readLog(data, (record) => version.apply(record));
  return { tables: version.liveTables(), logNumber: version.logNumber, prevLogNumber: version.prevLogNumber };
}

async function readOrNull(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Reads LevelDB's log format (32 KiB blocks of checksummed fragments), calling `onRecord` per whole record.
 * A record cut short at the very end is what a crash mid-write leaves, and LevelDB ignores it too; anything
 * else that does not check out throws.
 */
function readLog(data: Uint8Array, onRecord: (record: Uint8Array) => void): void {
  let fragments: Uint8Array[] | undefined;
  for (let block = 0; block < data.length; block += LOG_BLOCK) {
    const end = Math.min(block + LOG_BLOCK, data.length);
    const lastBlock = end - block < LOG_BLOCK;
    let pos = block;
    while (end - pos >= LOG_HEADER) {
      const length = data[pos + 4]! | (data[pos + 5]! << 8);
      const type = data[pos + 6]!;
      if (type === 0 && length === 0) {
        // Zeros are padding only when the rest of the block is zeros too.
        for (let i = pos; i < end; i++) if (data[i] !== 0) throw new Error(`zeroed record header at offset ${pos}`);
        break;
      }
      if (pos + LOG_HEADER + length > end) {
        if (lastBlock) return;
        throw new Error(`bad record length at offset ${pos}`);
      }
      const stored = (data[pos]! | (data[pos + 1]! << 8) | (data[pos + 2]! << 16) | (data[pos + 3]! << 24)) >>> 0;
      if (crc32c(data, pos + 6, pos + LOG_HEADER + length) !== unmaskCrc(stored)) throw new Error(`checksum mismatch at offset ${pos}`);
      const payload = data.subarray(pos + LOG_HEADER, pos + LOG_HEADER + length);
      if (type === 1) {
        if (fragments !== undefined) throw new Error(`unfinished record before offset ${pos}`);
        onRecord(payload);
      } else if (type === 2) {
        if (fragments !== undefined) throw new Error(`unfinished record before offset ${pos}`);
        fragments = [payload];
      } else if (type === 3 || type === 4) {
        if (fragments === undefined) throw new Error(`record fragment without a start at offset ${pos}`);
        fragments.push(payload);
        if (type === 4) {
          onRecord(Buffer.concat(fragments));
          fragments = undefined;
        }
      } else {
        throw new Error(`unknown record type ${type} at offset ${pos}`);
      }
      pos += LOG_HEADER + length;
    }
  }
}

/** A cursor over LevelDB's varints and length-prefixed slices. */
class Reader {
  pos = 0;
  constructor(private readonly data: Uint8Array, private readonly end = data.length) {}

  get done(): boolean {
    return this.pos >= this.end;
  }

  varint(): number {
    let value = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (this.pos >= this.end) throw new Error('varint past the end');
      const b = this.data[this.pos++]!;
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
    }
    throw new Error('varint too long');
  }

  skip(n: number): void {
    if (this.pos + n > this.end) throw new Error('slice past the end');
    this.pos += n;
  }

  slice(n: number): Uint8Array {
    const start = this.pos;
    this.skip(n);
    return this.data.subarray(start, start + n);
  }
}

/** The live files of a database, from the manifest's version edits. */
class VersionState {
  logNumber = 0;
  prevLogNumber = 0;
  private readonly files = new Map<string, { number: number; size: number }>();

  apply(record: Uint8Array): void {
    const r = new Reader(record);
    while (!r.done) {
      const tag = r.varint();
      switch (tag) {
        case 1: // comparator
          r.skip(r.varint());
          break;
        case 2:
          this.logNumber = r.varint();
          break;
        case 3: // next file number
        case 4: // last sequence
          r.varint();
          break;
        case 5: // compact pointer
          r.varint();
          r.skip(r.varint());
          break;
        case 6: {
          const level = r.varint();
          this.files.delete(`${level}:${r.varint()}`);
          break;
        }
        case 7: {
          const level = r.varint();
          const number = r.varint();
          const size = r.varint();
          r.skip(r.varint());
          r.skip(r.varint());
          this.files.set(`${level}:${number}`, { number, size });
          break;
        }
        case 9:
          this.prevLogNumber = r.varint();
          break;
        default:
          throw new Error(`unknown version edit tag ${tag}`);
      }
    }
  }

  liveTables(): Map<number, number> {
    return new Map([...this.files.values()].map((f) => [f.number, f.size]));
  }
}

/** Verifies a table: its footer, and the checksum of every block the index and meta-index point to. */
function verifyTable(data: Buffer): void {
  if (data.length < FOOTER) throw new Error('shorter than a table footer');
  if (!data.subarray(data.length - 8).equals(TABLE_MAGIC)) throw new Error('no table magic number at its end (truncated?)');
  const footer = new Reader(data, data.length - 8);
  footer.pos = data.length - FOOTER;
  const metaIndex = { offset: footer.varint(), size: footer.varint() };
  const index = { offset: footer.varint(), size: footer.varint() };
  const blocksEnd = data.length - FOOTER;
  for (const handle of [...blockHandles(block(data, index, blocksEnd)), ...blockHandles(block(data, metaIndex, blocksEnd))]) {
    block(data, handle, blocksEnd, false);
  }
}

/** A block's contents after checking its trailer's checksum (uncompressed when `contents`). */
function block(data: Buffer, handle: { offset: number; size: number }, limit: number, contents = true): Uint8Array {
  const { offset, size } = handle;
  if (offset + size + 5 > limit) throw new Error(`block [${offset}, +${size}] past the end of the data`);
  const type = data[offset + size]!;
  if (crc32c(data, offset, offset + size + 1) !== unmaskCrc(data.readUInt32LE(offset + size + 1))) {
    throw new Error(`checksum mismatch in the block at offset ${offset}`);
  }
  if (!contents) return data.subarray(0, 0);
  const raw = data.subarray(offset, offset + size);
  if (type === 0) return raw;
  if (type === 1) return snappyUncompress(raw);
  throw new Error(`unknown block compression ${type} at offset ${offset}`);
}

/** The block handles stored as values of an index or meta-index block. */
function blockHandles(contents: Uint8Array): Array<{ offset: number; size: number }> {
  if (contents.length < 4) throw new Error('block too short');
  const view = Buffer.from(contents.buffer, contents.byteOffset, contents.length);
  const restarts = view.readUInt32LE(contents.length - 4);
  const limit = contents.length - 4 - 4 * restarts;
  if (limit < 0) throw new Error('bad restart count');
  const r = new Reader(contents, limit);
  const handles: Array<{ offset: number; size: number }> = [];
  while (!r.done) {
    r.varint(); // bytes shared with the previous key
    const unshared = r.varint();
    const valueLength = r.varint();
    r.skip(unshared);
    const value = new Reader(r.slice(valueLength));
    handles.push({ offset: value.varint(), size: value.varint() });
  }
  return handles;
}
