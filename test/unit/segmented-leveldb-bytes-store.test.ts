/**
 * The byte store of session and window stores: one LevelDB per time segment behind the BytesStore contract.
 * Segment roll-over and drop (a dropped segment's folder is gone), reads and batches across segments, the
 * position across a reopen, crashes between the databases of one batch, damage, and the earlier layout.
 */
import { existsSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Serdes } from '../../src/index.js';
import { DamagedStoreError } from '../../src/errors/errors.js';
import type { BytesEntry } from '../../src/stores/bytes-store.js';
import { LevelDbBytesStore } from '../../src/stores/leveldb-bytes-store.js';
import { LocalStores } from '../../src/stores/local-store.js';
import type { ManagedStore } from '../../src/stores/managed-store.js';
import { SegmentedLevelDbBytesStore } from '../../src/stores/segmented-leveldb-bytes-store.js';
import { OBSERVED_TIME_KEY, Segments } from '../../src/stores/segments.js';
import type { SessionStore } from '../../src/stores/state-store.js';
import { createStore } from '../../src/stores/store-factory.js';
import { StoreLayout } from '../../src/stores/store-layout.js';
import { Stores } from '../../src/stores/stores.js';
import { tempDirs } from './support/temp-dirs.js';

const MINUTE = 60_000;
const RETENTION = 20 * MINUTE; // segments of 10 min
const segments = new Segments(RETENTION);
const definition = Stores.sessionStore('s', RETENTION, Serdes.String(), Serdes.Int32());

const tempDir = tempDirs('segment-dbs-');

function storePath(): string {
  return join(tempDir(), 'store');
}

const key = (segment: number, name: string) => segments.key(segment, Buffer.from(name));
const text = (value: Buffer | undefined) => value?.toString();

/** The segment folders on disk (dropped ones included until they are deleted). */
function segmentFolders(path: string): string[] {
  const folder = join(path, 'segments');
  return existsSync(folder) ? readdirSync(folder).sort() : [];
}

async function all(store: SegmentedLevelDbBytesStore): Promise<string[]> {
  const out: string[] = [];
  for await (const [k, v] of store.entries()) out.push(`${k.toString('hex')}=${v.toString()}`);
  return out;
}

describe('one LevelDB per segment', () => {
  it('writes one batch across segments and the meta keys, reads each back, and lists them in key order', async () => {
    const path = storePath();
    const store = await SegmentedLevelDbBytesStore.open(path);
    expect(store.created).toBe(true);
    const entries: BytesEntry[] = [
      [key(3, 'b'), Buffer.from('3b')],
      [key(1, 'a'), Buffer.from('1a')],
      [OBSERVED_TIME_KEY, Buffer.from('t')],
      [key(2, 'a'), Buffer.from('2a')],
    ];
    await store.apply(entries, 5n);
    expect(store.segmentCount).toBe(3);
    expect(segmentFolders(path)).toHaveLength(3);
    expect(text(store.get(key(1, 'a')))).toBe('1a');
    expect(text(store.get(key(3, 'b')))).toBe('3b');
    expect(text(store.get(OBSERVED_TIME_KEY))).toBe('t');
    expect(store.get(key(2, 'b'))).toBeUndefined();
    expect(store.get(key(9, 'a'))).toBeUndefined(); // a segment with no database
    const sorted = [...entries].sort(([a], [b]) => Buffer.compare(a, b)).map(([k, v]) => `${k.toString('hex')}=${v!.toString()}`);
    expect(await all(store)).toEqual(sorted);
    // A delete in a segment that has no database creates none.
    await store.apply([[key(7, 'x'), null]]);
    expect(store.segmentCount).toBe(3);
    await store.close();
  });

  it('keeps data and position across a reopen', async () => {
    const path = storePath();
    const store = await SegmentedLevelDbBytesStore.open(path);
    await store.apply([[key(1, 'a'), Buffer.from('1a')]], 3n);
    await store.apply([[key(2, 'a'), Buffer.from('2a')], [key(1, 'a'), null]], 8n);
    await store.close();
    const again = await SegmentedLevelDbBytesStore.open(path);
    expect(again.created).toBe(false);
    expect(again.changelogPosition()).toBe(8n);
    expect(again.get(key(1, 'a'))).toBeUndefined();
    expect(text(again.get(key(2, 'a')))).toBe('2a');
    await again.close();
  });

  it('drops expired segments by deleting their folders; a partly covered segment loses only the range', async () => {
    const path = storePath();
    const store = await SegmentedLevelDbBytesStore.open(path);
    await store.apply([1, 2, 3].flatMap((s) => [[key(s, 'a'), Buffer.from(`${s}a`)], [key(s, 'b'), Buffer.from(`${s}b`)]] as BytesEntry[]), 1n);
    const [first, second] = segmentFolders(path);
    await store.clearRange(OBSERVED_TIME_KEY, segments.segmentStart(3));
    expect(segmentFolders(path)).toHaveLength(1);
    expect(segmentFolders(path)).not.toContain(first);
    expect(segmentFolders(path)).not.toContain(second);
    expect(store.get(key(2, 'a'))).toBeUndefined();
    expect(text(store.get(key(3, 'a')))).toBe('3a');
    await store.clearRange(OBSERVED_TIME_KEY, key(3, 'b'));
    expect(store.segmentCount).toBe(1);
    expect(store.get(key(3, 'a'))).toBeUndefined();
    expect(text(store.get(key(3, 'b')))).toBe('3b');
    await store.close();
    // A dropped segment stays dropped after a reopen (the meta no longer names it; its folder is gone).
    const again = await SegmentedLevelDbBytesStore.open(path);
    expect(again.segmentCount).toBe(1);
    await again.close();
  });

  it('a session store over it rolls over to new segments and leaves only the live ones on disk', async () => {
    const path = storePath();
    const bytes = await LocalStores.open(definition, path);
    const store = createStore(definition, bytes, 1 << 20) as SessionStore<string, number> & ManagedStore;
    for (let i = 0; i < 200; i++) {
      store.put({ key: `u${i}`, window: { start: i * MINUTE, end: i * MINUTE } }, i);
      if (i % 10 === 9) {
        await bytes.apply(store.flush());
        store.written(store.lastFlush);
        await store.dropExpired();
      }
    }
    // Observed 199 min, retention 20: live from 179 min, so segments 17, 18 and 19 (of 10 min each).
    expect(segmentFolders(path)).toHaveLength(3);
    expect(store.fetch('u185')).toHaveLength(1);
    expect(store.fetch('u100')).toEqual([]);
    await bytes.close();
  });

  it('a crash between the segments and the meta of a batch: the position is the one before, and replaying it agrees', async () => {
    const path = storePath();
    const store = await SegmentedLevelDbBytesStore.open(path);
    await store.apply([[key(1, 'a'), Buffer.from('old')], [OBSERVED_TIME_KEY, Buffer.from('t1')]], 10n);
    await store.close();
    // The crash: the next batch reached segment 1 and created segment 2, but not the meta database.
    for (const [segment, value] of [[1, 'new'], [2, 'new2']] as const) {
      const folder = join(path, 'segments', key(segment, '').toString('hex'));
      const db = await LevelDbBytesStore.open(folder);
      await db.apply([[key(segment, 'a'), Buffer.from(value)]]);
      await db.close();
    }
    const reopened = await SegmentedLevelDbBytesStore.open(path);
    // The position restoration resumes from is the last one every database reached.
    expect(reopened.changelogPosition()).toBe(10n);
    expect(reopened.segmentCount).toBe(2); // the segment the cut batch created is adopted, not lost
    expect(text(reopened.get(OBSERVED_TIME_KEY))).toBe('t1');
    // Restoring from 10 applies the cut batch again: the same values, now with their position.
    await reopened.apply([[key(1, 'a'), Buffer.from('new')], [key(2, 'a'), Buffer.from('new2')], [OBSERVED_TIME_KEY, Buffer.from('t2')]], 11n);
    await reopened.close();
    const after = await SegmentedLevelDbBytesStore.open(path);
    expect(after.changelogPosition()).toBe(11n);
    expect([text(after.get(key(1, 'a'))), text(after.get(key(2, 'a'))), text(after.get(OBSERVED_TIME_KEY))]).toEqual(['new', 'new2', 't2']);
    await after.close();
  });

  it('a crash while a dropped segment folder was being deleted: the leftover is removed on open', async () => {
    const path = storePath();
    const store = await SegmentedLevelDbBytesStore.open(path);
    await store.apply([[key(1, 'a'), Buffer.from('1a')], [key(2, 'a'), Buffer.from('2a')]], 1n);
    await store.clearRange(OBSERVED_TIME_KEY, segments.segmentStart(2));
    await store.close();
    // What a crash after the rename leaves: the renamed folder, half deleted.
    const leftover = join(path, 'segments', `${key(1, '').toString('hex')}.dropped`);
    const db = await LevelDbBytesStore.open(leftover);
    await db.apply([[key(1, 'a'), Buffer.from('1a')]]);
    await db.close();
    unlinkSync(join(leftover, 'CURRENT'));
    const again = await SegmentedLevelDbBytesStore.open(path);
    expect(segmentFolders(path)).toEqual([key(2, '').toString('hex')]);
    expect(again.get(key(1, 'a'))).toBeUndefined();
    await again.close();
  });

  it('damage in a segment, or a segment folder gone, is DamagedStoreError naming the store', async () => {
    const path = storePath();
    const store = await SegmentedLevelDbBytesStore.open(path);
    await store.apply([[key(1, 'a'), Buffer.from('1a')], [key(2, 'a'), Buffer.from('2a')]], 1n);
    await store.close();
    const [first, second] = segmentFolders(path);
    unlinkSync(join(path, 'segments', first!, 'CURRENT'));
    const damaged = await SegmentedLevelDbBytesStore.open(path).then(() => undefined, (err: unknown) => err);
    expect(damaged).toBeInstanceOf(DamagedStoreError);
    expect((damaged as DamagedStoreError).path).toBe(path);
    expect((damaged as DamagedStoreError).reason).toMatch(new RegExp(`its CURRENT file is missing .*\\(segment ${first}\\)`));
    rmSync(join(path, 'segments', first!), { recursive: true });
    const missing = await SegmentedLevelDbBytesStore.open(path).then(() => undefined, (err: unknown) => err);
    expect((missing as DamagedStoreError).reason).toMatch(`the folder of segment ${first} is missing`);
    expect(segmentFolders(path)).toEqual([second]); // left as found, for the caller to wipe
  });

  it('a folder of the single-LevelDB layout opens as its meta database, and its recorded layout says rebuild', async () => {
    const path = storePath();
    const old = await LevelDbBytesStore.open(path);
    await old.apply([[key(1, 'a'), Buffer.from('1a')]], 4n);
    await old.putMetadata('layout', Buffer.from('session/segmented-v2'));
    await old.close();
    const bytes = await LocalStores.open(definition, path);
    expect(bytes).toBeInstanceOf(SegmentedLevelDbBytesStore);
    expect(await StoreLayout.outdated(definition, bytes)).toMatch(/written in layout session\/segmented-v2, this version reads session\/segment-databases-v3/);
    await bytes.close();
  });

  it('key-value stores keep a single LevelDB', async () => {
    const bytes = await LocalStores.open(Stores.keyValueStore('kv', Serdes.String(), Serdes.String()), storePath());
    expect(bytes).toBeInstanceOf(LevelDbBytesStore);
    await bytes.close();
  });
});
