import { readFileSync, readdirSync, statSync } from 'node:fs';
import { copyFile, link, mkdir, open, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { asError } from '../errors/as-error.js';
import { StateStoreError } from '../errors/errors.js';
import { inspectLevelDbFolder, readManifest } from './leveldb-files.js';

/**
 * A consistent copy of a local store's folder taken without opening it, so that a store can be read while
 * the instance that owns it runs (LevelDB lets one process open a database, and opening one writes to it).
 *
 * Why the copy is sound. LevelDB's files are of three kinds: tables (`.ldb`/`.sst`) are written whole and
 * synced before a manifest record names them, and never change after; the MANIFEST and the write-ahead logs
 * (`.log`) only grow by appends (a new one gets a new number); CURRENT is replaced by a rename. So the
 * state of a database at an instant is: CURRENT's text, and the size of its manifest and of each log. The
 * copy:
 * 1. looks at every database of the store (a key-value store's one; a session or window store's meta
 *    database and each segment's) twice in a row: CURRENT, the size of the manifest it names, the logs and
 *    their sizes, the segment folders. When both looks agree, no file changed between the end of the
 *    first and the start of the second (append-only files with the same size at both ends did not change),
 *    so at that instant every database was exactly as looked at. Looking takes a few stat calls per database
 *    (synchronous, under a millisecond), so an owner that commits every 100 ms rarely interrupts it;
 * 2. copies exactly that: the manifest and logs up to the sizes seen (what they held at that instant, as
 *    they only grew since), and the tables that manifest names, hard-linked (a link keeps a table readable
 *    after LevelDB deletes it in a compaction; copied where the temp folder is on another file system). A
 *    log or table deleted in the meantime fails the copy, which is taken again.
 * The instant matters for session and window stores, whose commit writes several databases (segments, then
 * the meta database with the position): databases copied at different moments could show a session both in
 * its old and in its merged segment, or segments ahead of the position. A log may end in a record cut short
 * (LevelDB was appending at that instant): that is what a crash leaves, and LevelDB ignores it on open. The
 * copy is verified against its checksums before it is used.
 */

/** How often a copy is taken again while the store keeps changing under it. */
const ATTEMPTS = 50;
/** Session and window stores keep a LevelDB per time segment in this subfolder (SegmentedLevelDbBytesStore). */
const SEGMENTS_FOLDER = 'segments';
const SEGMENT_NAME = /^[0-9a-f]{16}$/;

/** The store changed while it was looked at or copied: take the copy again. */
class Changed extends Error {}

/** One database at an instant: CURRENT's text, its manifest's size, and the logs LevelDB would replay. */
interface DbState {
  readonly folder: string;
  readonly current: string;
  readonly manifestSize: number;
  /** Every `.log` in the folder with its size (those LevelDB would not replay are left out of the copy). */
  readonly logs: ReadonlyMap<string, number>;
}

/** What `snapshotStore` took. */
export interface StoreSnapshot {
  /** The copy: a folder laid out as the store's, which can be opened as it (and removed afterwards). */
  readonly path: string;
  /** How many times the store was looked at before it held still (1: at once). */
  readonly attempts: number;
  /** The state copied (CURRENT, manifest and log sizes of each database): equal for two copies of an unchanged store. */
  readonly state: string;
}

/**
 * Copies the store folder `source` (a key-value store's LevelDB, or a session or window store's meta
 * database with its `segments/`) into `target` at one instant (see above). Throws StateStoreError when
 * `source` holds no LevelDB, or when it changed under every attempt.
 */
export async function snapshotStore(source: string, target: string): Promise<StoreSnapshot> {
  let lastChange = '';
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    await rm(target, { recursive: true, force: true });
    try {
      const seen = lookStill(source);
      const copyOf = (db: DbState): string => (db.folder === source ? target : join(target, SEGMENTS_FOLDER, basename(db.folder)));
      for (const db of seen) await copyDb(db, copyOf(db));
      for (const db of seen) {
        const state = await inspectLevelDbFolder(copyOf(db));
        if (state.kind === 'damaged') throw new Changed(`the copy of ${db.folder} does not check out (${state.reason})`);
      }
      const state = JSON.stringify(seen.map((db) => [db.folder, db.current, db.manifestSize, [...db.logs]]));
      return { path: target, attempts: attempt, state };
    } catch (err) {
      if (!(err instanceof Changed)) {
        await rm(target, { recursive: true, force: true });
        if (err instanceof StateStoreError) throw err;
        throw new StateStoreError(`Could not copy the store folder ${source}: ${asError(err).message}`, { cause: err });
      }
      lastChange = err.message;
      // A commit in flight writes for a few milliseconds: let it finish.
      await new Promise((resolve) => setTimeout(resolve, Math.min(2 * attempt, 50)));
    }
  }
  await rm(target, { recursive: true, force: true });
  throw new StateStoreError(
    `The store at ${source} changed while it was copied, ${ATTEMPTS} times (last: ${lastChange}); try again, or stop the instance that owns it`,
  );
}

/** Every database of the store, looked at twice in a row; Changed unless both looks agree. */
function lookStill(source: string): DbState[] {
  const first = look(source);
  const second = look(source);
  if (first.length !== second.length) throw new Changed('a segment was created or dropped');
  first.forEach((db, i) => {
    const again = second[i]!;
    const same =
      db.folder === again.folder &&
      db.current === again.current &&
      db.manifestSize === again.manifestSize &&
      db.logs.size === again.logs.size &&
      [...db.logs].every(([name, size]) => again.logs.get(name) === size);
    if (!same) throw new Changed(`${db.folder} changed while looked at`);
  });
  return first;
}

function look(source: string): DbState[] {
  const dbs = [lookAt(source, false)];
  let segments: string[] = [];
  try {
    segments = readdirSync(join(source, SEGMENTS_FOLDER)).filter((name) => SEGMENT_NAME.test(name)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  for (const name of segments) dbs.push(lookAt(join(source, SEGMENTS_FOLDER, name), true));
  return dbs;
}

/** One database's state; a segment's may be in the middle of being created (its folder made, CURRENT not yet). */
function lookAt(folder: string, segment: boolean): DbState {
  let current: string;
  try {
    current = readFileSync(join(folder, 'CURRENT'), 'latin1').trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw err;
    if (segment) throw new Changed(`${folder} is being created or dropped`);
    throw new StateStoreError(`${folder} holds no LevelDB store (no CURRENT file)`);
  }
  if (!/^MANIFEST-\d+$/.test(current)) throw new StateStoreError(`${folder}: CURRENT does not name a manifest (${JSON.stringify(current.slice(0, 40))})`);
  try {
    const manifestSize = statSync(join(folder, current)).size;
    const logs = new Map<string, number>();
    for (const name of readdirSync(folder)) if (/^\d+\.log$/.test(name)) logs.set(name, statSync(join(folder, name)).size);
    return { folder, current, manifestSize, logs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Changed(`a file of ${folder} was deleted while looked at`);
    throw err;
  }
}

/** The first `size` bytes of a file (what it held when it had that size); Changed when it is gone or shorter. */
async function prefix(file: string, size: number): Promise<Buffer> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Changed(`${file} was deleted before it was copied`);
    throw err;
  }
  try {
    const out = Buffer.alloc(size);
    let read = 0;
    while (read < size) {
      const { bytesRead } = await handle.read(out, read, size - read, read);
      if (bytesRead === 0) throw new Changed(`${file} is shorter than when looked at`);
      read += bytesRead;
    }
    return out;
  } finally {
    await handle.close();
  }
}

/** Copies one database as `state` saw it: manifest and logs up to the sizes seen, and the manifest's tables. */
async function copyDb(state: DbState, target: string): Promise<void> {
  const { folder, current } = state;
  await mkdir(target, { recursive: true });
  const manifestBytes = await prefix(join(folder, current), state.manifestSize);
  let manifest;
  try {
    manifest = readManifest(manifestBytes);
  } catch (err) {
    throw new Changed(`${join(folder, current)} did not check out (${asError(err).message})`);
  }
  await writeFile(join(target, current), manifestBytes);
  await writeFile(join(target, 'CURRENT'), `${current}\n`);
  const names = readdirSync(folder);
  for (const [number, size] of manifest.tables) {
    const stem = String(number).padStart(6, '0');
    const name = names.find((n) => n === `${stem}.ldb` || n === `${stem}.sst`);
    if (name === undefined) throw new Changed(`table ${stem} of ${folder} was deleted before it was copied`);
    await linkOrCopy(join(folder, name), join(target, name));
    if (statSync(join(target, name)).size !== size) throw new StateStoreError(`${folder}: table ${name} does not have the size its manifest records (${size})`);
  }
  for (const [name, size] of state.logs) {
    const number = Number(name.slice(0, name.indexOf('.')));
    if (number < manifest.logNumber && number !== manifest.prevLogNumber) continue;
    await writeFile(join(target, name), await prefix(join(folder, name), size));
  }
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Changed(`${from} was deleted before it was copied`);
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP') throw err;
    try {
      await copyFile(from, to);
    } catch (copyErr) {
      if ((copyErr as NodeJS.ErrnoException).code === 'ENOENT') throw new Changed(`${from} was deleted before it was copied`);
      throw copyErr;
    }
  }
}
