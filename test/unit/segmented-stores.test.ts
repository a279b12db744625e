/**
 * Segmented session and window stores: segment roll-over and drop, reads across segment boundaries, expiry
 * by the store's own observed time (as Kafka Streams' segmented stores), restoration from a changelog that
 * still holds expired records, and the detection of a store written in the previous (bucketed) layout.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Serdes } from '../../src/index.js';
import { encodeSessions, sessionChangelogKey, windowChangelogKey } from '../../src/stores/bucket-codec.js';
import { InMemoryBytesStore, type BytesEntry, type BytesStore } from '../../src/stores/bytes-store.js';
import { ChangeLogging } from '../../src/stores/change-logging.js';
import type { StoreDefinition } from '../../src/processor/store-definition.js';
import { LevelDbBytesStore } from '../../src/stores/leveldb-bytes-store.js';
import type { ManagedStore } from '../../src/stores/managed-store.js';
import { readInt64, readOrderedInt64, writeInt64, writeOrderedInt64 } from '../../src/stores/int64.js';
import { OBSERVED_TIME_KEY, Segments } from '../../src/stores/segments.js';
import type { SessionStore, WindowStore } from '../../src/stores/state-store.js';
import type { ChangelogReader } from '../../src/runtime/changelog-reader.js';
import { replayChangelog } from '../../src/runtime/state/changelog-replay.js';
import { createStore } from '../../src/stores/store-factory.js';
import { StoreLayout } from '../../src/stores/store-layout.js';
import { Stores } from '../../src/stores/stores.js';
import { tempDirs } from './support/temp-dirs.js';

const MINUTE = 60_000;
/** Retention 20 min: segments of 10 min. */
const RETENTION = 20 * MINUTE;
const INTERVAL = 10 * MINUTE;

const sessionDefinition = Stores.sessionStore('s', RETENTION, Serdes.String(), Serdes.Int32());
const windowDefinition = Stores.windowStore('w', RETENTION, MINUTE, Serdes.String(), Serdes.Int32());

type Sessions = SessionStore<string, number> & ManagedStore;
type Windows = WindowStore<string, number> & ManagedStore;

/** What each store's change-logging layer logged since its last commit. */
const logged = new WeakMap<ManagedStore, BytesEntry[]>();

/** A store with its change-logging layer, as a task opens it. */
function openStore(definition: StoreDefinition, bytes: BytesStore, cacheBudgetBytes: number): ManagedStore {
  const records: BytesEntry[] = [];
  const store = createStore(definition, bytes, cacheBudgetBytes, ChangeLogging.of(definition, 'app', { send: (r) => records.push([r.key, r.value]) }));
  logged.set(store, records);
  return store;
}

/** Flushes and writes the store; returns the changelog records the flush logged. */
async function commit(store: ManagedStore): Promise<BytesEntry[]> {
  const local = store.flush();
  await store.bytes.apply(local);
  store.written(store.lastFlush);
  await store.dropExpired();
  return logged.get(store)!.splice(0);
}

/** The segments that hold data in a byte store (the observed-time entry aside). */
function segmentsOnDisk(bytes: InMemoryBytesStore): number[] {
  const segments = new Segments(RETENTION);
  const ids = bytes
    .entriesSync()
    .filter(([key]) => !key.equals(OBSERVED_TIME_KEY))
    .map(([key]) => segments.segmentOfKey(key));
  return [...new Set(ids)];
}

const session = (key: string, start: number, end: number) => ({ key, window: { start, end } });

describe('Segments', () => {
  it('writes 64-bit times without BigInt, exactly as writeBigInt64BE, and ordered ids in byte order', () => {
    const values = [-(2 ** 53) + 1, -(2 ** 40) - 7, -1, 0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1];
    const ordered: Buffer[] = [];
    for (const value of values) {
      const ours = Buffer.alloc(8);
      const reference = Buffer.alloc(8);
      writeInt64(ours, value, 0);
      reference.writeBigInt64BE(BigInt(value), 0);
      expect(ours).toEqual(reference);
      expect(readInt64(ours, 0)).toBe(value);
      const key = Buffer.alloc(8);
      writeOrderedInt64(key, value, 0);
      expect(readOrderedInt64(key, 0)).toBe(value);
      ordered.push(key);
    }
    expect([...ordered].sort(Buffer.compare)).toEqual(ordered);
  });

  it("takes Kafka Streams' interval: max(retention / 2, 60 s)", () => {
    expect(new Segments(RETENTION).intervalMs).toBe(INTERVAL);
    expect(new Segments(30_000).intervalMs).toBe(60_000);
  });

  it('orders local keys by segment, negative times first, then by record key', () => {
    const segments = new Segments(RETENTION);
    const keys = [-INTERVAL - 1, -1, 0, INTERVAL - 1, INTERVAL].map((t) => segments.key(segments.segmentOf(t), Buffer.from('k')));
    const sorted = [...keys].sort(Buffer.compare);
    expect(sorted).toEqual(keys);
    expect(keys.map((k) => segments.segmentOfKey(k))).toEqual([-2, -1, 0, 0, 1]);
    expect(Buffer.compare(OBSERVED_TIME_KEY, segments.segmentStart(segments.segmentOf(-1e15)))).toBeLessThan(0);
  });
});

describe('segmented session store', () => {
  it('rolls over to a new segment and drops a segment whole once its end + retention is observed', async () => {
    const bytes = new InMemoryBytesStore();
    const store = openStore(sessionDefinition, bytes, 1 << 20) as Sessions;
    store.put(session('a', 0, 5 * MINUTE), 1); // segment 0
    store.put(session('b', 11 * MINUTE, 12 * MINUTE), 2); // segment 1
    await commit(store);
    expect(segmentsOnDisk(bytes)).toEqual([0, 1]);

    // Segment 0 ends at 10 min: it expires once the observed time passes 10 min + retention (30 min).
    store.put(session('c', 29 * MINUTE, 30 * MINUTE - 1), 3);
    await commit(store);
    expect(segmentsOnDisk(bytes)).toEqual([0, 1, 2]);
    store.put(session('c', 30 * MINUTE, 30 * MINUTE), 4);
    await commit(store);
    expect(segmentsOnDisk(bytes)).toEqual([1, 2, 3]);
    expect(store.fetch('a')).toEqual([]);
    expect(store.fetch('b')).toEqual([{ key: session('b', 11 * MINUTE, 12 * MINUTE), value: 2 }]);
  });

  it('evicts the least recently written quarter of its dirty entries, logged and written as a flush, the rest stays dirty', async () => {
    const bytes = new InMemoryBytesStore();
    const store = openStore(sessionDefinition, bytes, 1 << 20) as Sessions;
    store.put(session('a', 0, MINUTE), 1);
    store.put(session('b', 0, MINUTE), 2);
    store.put(session('c', 0, MINUTE), 3);
    store.put(session('a', 0, 2 * MINUTE), 4); // a merged: written last, so it stays
    store.remove(session('a', 0, MINUTE));
    store.put(session('d', 0, MINUTE), 5);
    const local = store.evict();
    // b: the least recently written of four dirty keys, logged as a flush logs it.
    expect(logged.get(store)!.splice(0).map(([k]) => k.subarray(0, 1).toString())).toEqual(['b']);
    bytes.apply(local);
    store.written(store.lastFlush);
    // a, c and d are still dirty: the next flush logs them (a's first window never reached the changelog).
    const flushed = await commit(store);
    expect(flushed.map(([k, v]) => `${k.subarray(0, 1).toString()}${v === null ? ' tombstone' : ''}`)).toEqual(['a', 'c', 'd']);
    expect(store.fetch('a')).toEqual([{ key: session('a', 0, 2 * MINUTE), value: 4 }]);
    expect(store.fetch('b')).toEqual([{ key: session('b', 0, MINUTE), value: 2 }]);
  });

  it('finds the sessions of a key across segment boundaries, by end time', async () => {
    const bytes = new InMemoryBytesStore();
    const store = openStore(sessionDefinition, bytes, 1 << 20) as Sessions;
    store.put(session('a', INTERVAL - 2, INTERVAL - 1), 1); // last ms of segment 0
    store.put(session('a', INTERVAL, INTERVAL), 2); // first ms of segment 1
    store.put(session('a', 2 * INTERVAL - 5, 2 * INTERVAL + 5), 3); // segment 2
    await commit(store);
    expect(segmentsOnDisk(bytes)).toEqual([0, 1, 2]);
    // Read back from disk (a fresh cache), then from the cache.
    for (const s of [openStore(sessionDefinition, bytes, 1 << 20) as Sessions, store]) {
      expect(s.findSessions('a', INTERVAL - 1, INTERVAL).map((kv) => kv.value)).toEqual([1, 2]);
      expect(s.findSessions('a', INTERVAL, Number.MAX_SAFE_INTEGER).map((kv) => kv.value)).toEqual([2, 3]);
      expect(s.fetch('a').map((kv) => kv.value)).toEqual([1, 2, 3]);
      expect(s.fetchSession('a', INTERVAL, INTERVAL)).toBe(2);
    }
  });

  it("expires by its own observed time (served iff end > observed - retention), kept across a reopen", async () => {
    const bytes = new InMemoryBytesStore();
    const store = openStore(sessionDefinition, bytes, 1 << 20) as Sessions;
    store.put(session('a', 0, MINUTE), 1);
    store.put(session('b', 0, MINUTE + 1), 2);
    store.put(session('c', RETENTION + MINUTE, RETENTION + MINUTE), 3); // observed: retention + 1 min
    expect(store.fetch('a')).toEqual([]);
    expect(store.fetch('b').map((kv) => kv.value)).toEqual([2]);
    await commit(store);
    const reopened = openStore(sessionDefinition, bytes, 1 << 20) as Sessions;
    expect(reopened.observedTime()).toBe(RETENTION + MINUTE);
    expect(reopened.fetch('a')).toEqual([]);
    expect(reopened.fetch('b').map((kv) => kv.value)).toEqual([2]);
    // Another key moves the time: b expires too, without b being written again.
    reopened.put(session('c', RETENTION + MINUTE + 1, RETENTION + MINUTE + 1), 4);
    expect(reopened.fetch('b')).toEqual([]);
  });

  it('restores from a changelog holding expired records: skips them, and drops segments that expire meanwhile', async () => {
    const changelog: BytesEntry[] = [
      [sessionChangelogKey(Buffer.from('old'), 0, MINUTE), Buffer.from([0, 0, 0, 1])],
      [sessionChangelogKey(Buffer.from('mid'), 15 * MINUTE, 15 * MINUTE), Buffer.from([0, 0, 0, 2])],
      [sessionChangelogKey(Buffer.from('new'), 30 * MINUTE, 30 * MINUTE), Buffer.from([0, 0, 0, 3])],
      // Written after the time moved on: segment 0 is expired by now, this record is skipped.
      [sessionChangelogKey(Buffer.from('late'), 2 * MINUTE, 2 * MINUTE), Buffer.from([0, 0, 0, 4])],
      [sessionChangelogKey(Buffer.from('mid'), 15 * MINUTE, 16 * MINUTE), Buffer.from([0, 0, 0, 5])],
    ];
    for (const batch of [1, 2, 100]) {
      const bytes = new InMemoryBytesStore();
      const store = openStore(sessionDefinition, bytes, 1 << 20) as Sessions;
      for (let i = 0; i < changelog.length; i += batch) {
        bytes.apply(store.restoreEntries(changelog.slice(i, i + batch)));
        await store.dropExpired();
      }
      // Observed 30 min: segment 0 (up to 10 min) expired; 'late' fell in it after that and was skipped.
      expect(segmentsOnDisk(bytes), `batch ${batch}`).toEqual([1, 3]);
      const restored = openStore(sessionDefinition, bytes, 1 << 20) as Sessions;
      expect(restored.observedTime()).toBe(30 * MINUTE);
      const seen = ['old', 'mid', 'new', 'late'].map((k) => restored.fetch(k).map((kv) => [kv.key.window, kv.value]));
      expect(seen).toEqual([
        [],
        [
          [{ start: 15 * MINUTE, end: 15 * MINUTE }, 2],
          [{ start: 15 * MINUTE, end: 16 * MINUTE }, 5],
        ],
        [[{ start: 30 * MINUTE, end: 30 * MINUTE }, 3]],
        [],
      ]);
    }
  });

  it("replaying a long changelog learns the time at its end first, and skips what is expired by then", async () => {
    const changelog: BytesEntry[] = [0, 1, 2, 3, 4, 5].map((i) => [sessionChangelogKey(Buffer.from(`u${i}`), i * 10 * MINUTE, i * 10 * MINUTE), Buffer.from([0, 0, 0, i])]);
    // A reader over an in-memory log: [from, to) in fetches of two records.
    const reader = {
      async read(_topic: string, _partition: number, from: bigint, to: bigint, _maxBytes: number, onBatch: (records: BytesEntry[], next: bigint, schemas: ReadonlySet<string>) => Promise<void>) {
        for (let offset = Number(from); offset < Number(to); offset += 2) {
          const end = Math.min(offset + 2, Number(to));
          await onBatch(changelog.slice(offset, end), BigInt(end), new Set());
        }
      },
    } as unknown as ChangelogReader;
    class CountingBytes extends InMemoryBytesStore {
      written: string[] = [];
      override apply(entries: readonly BytesEntry[], position?: bigint): void {
        for (const [key] of entries) if (!key.equals(OBSERVED_TIME_KEY)) this.written.push(key.subarray(8).toString());
        super.apply(entries, position);
      }
    }
    const bytes = new CountingBytes();
    const store = openStore(sessionDefinition, bytes, 1 << 20);
    await replayChangelog({ reader, store, bytes, topic: 't', partition: 0, from: 0n, to: 6n, batchRecords: 2, onBatch: () => {} });
    // Observed 50 min from the start: sessions ending at or before 30 min are expired, segments below 3 dropped.
    expect(bytes.written).toEqual(['u3', 'u4', 'u5']);
    expect((store as Sessions).fetch('u4').map((kv) => kv.value)).toEqual([4]);
    expect(bytes.changelogPosition()).toBe(6n);
  });

  it('restoring from the beginning reads only what it wrote itself; a tail restore reads what is on disk', () => {
    class CountingBytes extends InMemoryBytesStore {
      reads = 0;
      override get(key: Buffer): Buffer | undefined {
        if (!key.equals(OBSERVED_TIME_KEY)) this.reads++;
        return super.get(key);
      }
    }
    const value = (n: number) => Buffer.from([0, 0, 0, n]);
    const bytes = new CountingBytes();
    const store = openStore(sessionDefinition, bytes, 1 << 20) as Sessions;
    bytes.apply(store.restoreEntries(['a', 'b', 'c'].map((k) => [sessionChangelogKey(Buffer.from(k), 0, 0), value(1)])));
    expect(bytes.reads).toBe(0);
    bytes.apply(store.restoreEntries([[sessionChangelogKey(Buffer.from('a'), MINUTE, MINUTE), value(2)]]), 4n);
    expect(bytes.reads).toBe(1);
    expect(store.fetch('a').map((kv) => kv.value)).toEqual([1, 2]);

    // Reopened at a changelog position: the tail is merged into what is on disk.
    const tail = openStore(sessionDefinition, bytes, 1 << 20) as Sessions;
    bytes.reads = 0;
    bytes.apply(tail.restoreEntries([[sessionChangelogKey(Buffer.from('b'), MINUTE, MINUTE), value(3)]]), 5n);
    expect(bytes.reads).toBe(1);
    expect(openStore(sessionDefinition, bytes, 1 << 20).observedTime()).toBe(MINUTE);
    expect((openStore(sessionDefinition, bytes, 1 << 20) as Sessions).fetch('b').map((kv) => kv.value)).toEqual([1, 3]);
  });

  it('logs and forwards a write to an already expired segment, but does not store it (as Kafka Streams)', async () => {
    const bytes = new InMemoryBytesStore();
    const store = openStore(sessionDefinition, bytes, 1 << 20) as Sessions;
    store.put(session('now', 60 * MINUTE, 60 * MINUTE), 1);
    await commit(store);
    store.put(session('late', 0, 0), 2);
    const changelog = await commit(store);
    expect(changelog.map(([key]) => key.subarray(0, 4).toString())).toEqual(['late']);
    expect(segmentsOnDisk(bytes)).toEqual([6]);
  });
});

describe('segmented window store', () => {
  it('fetches ranges across segments, drops expired segments, restores skipping expired windows', async () => {
    const bytes = new InMemoryBytesStore();
    const store = openStore(windowDefinition, bytes, 1 << 20) as Windows;
    for (const start of [INTERVAL - MINUTE, INTERVAL, 2 * INTERVAL]) store.put('a', start / MINUTE, start);
    const changelog = await commit(store);
    expect(segmentsOnDisk(bytes)).toEqual([0, 1, 2]);
    const fresh = openStore(windowDefinition, bytes, 1 << 20) as Windows;
    expect(fresh.fetchRange('a', INTERVAL - MINUTE, INTERVAL)).toEqual([
      { key: INTERVAL - MINUTE, value: 9 },
      { key: INTERVAL, value: 10 },
    ]);
    expect(fresh.fetch('a', 2 * INTERVAL)).toBe(20);

    // Window start 30 min: windows starting at or before 10 min expire; segment 0 (up to 10 min) is dropped,
    // segment 1 stays on disk until its end (20 min) + retention is observed.
    store.put('b', 1, 3 * INTERVAL);
    changelog.push(...(await commit(store)));
    expect(segmentsOnDisk(bytes)).toEqual([1, 2, 3]);
    expect(store.fetchRange('a', 0, Number.MAX_SAFE_INTEGER).map((kv) => kv.key)).toEqual([2 * INTERVAL]);

    const restoredBytes = new InMemoryBytesStore();
    const restoring = openStore(windowDefinition, restoredBytes, 1 << 20) as Windows;
    restoredBytes.apply(restoring.restoreEntries([...changelog.slice(3), ...changelog.slice(0, 3)]));
    await restoring.dropExpired();
    expect(changelog[0]![0]).toEqual(windowChangelogKey(Buffer.from('a'), INTERVAL - MINUTE));
    expect(segmentsOnDisk(restoredBytes)).toEqual([1, 2, 3]);
    expect(restoring.fetchRange('a', 0, Number.MAX_SAFE_INTEGER)).toEqual([{ key: 2 * INTERVAL, value: 20 }]);
  });
});

describe('segment drop on LevelDB', () => {
  const tempDir = tempDirs('segments-');

  it('removes the expired range and nothing else', async () => {
    const dir = tempDir();
    const bytes = await LevelDbBytesStore.open(join(dir, 's'));
    const store = openStore(sessionDefinition, bytes, 1 << 20) as Sessions;
    for (let i = 0; i < 200; i++) store.put(session(`u${i}`, i * MINUTE, i * MINUTE), i);
    await commit(store);
    const live: number[] = [];
    for (let i = 0; i < 200; i++) if (store.fetch(`u${i}`).length > 0) live.push(i);
    let onDisk = 0;
    for await (const [key] of bytes.entries()) if (!key.equals(OBSERVED_TIME_KEY)) onDisk++;
    // Observed 199 min: live from 179 min on; segments below 170 min are dropped whole.
    expect(live[0]).toBe(180);
    expect(onDisk).toBe(200 - 170);
    await bytes.close();
  });
});

describe('store layout', () => {
  const tempDir = tempDirs('layout-');

  async function open(): Promise<LevelDbBytesStore> {
    return LevelDbBytesStore.open(join(tempDir(), 'store'));
  }

  it('detects a session store of the previous layout (a bucket per key, no recorded layout)', async () => {
    const written = await open();
    await written.apply([[Buffer.from('user-1'), encodeSessions([{ start: 0, end: 10, value: Buffer.from([1]) }], (b) => b)]], 42n);
    await written.close();
    const bytes = await LevelDbBytesStore.open(written.path);
    const reason = await StoreLayout.outdated(sessionDefinition, bytes);
    expect(reason).toMatch(/earlier version.*without segments/);
    await bytes.close();
  });

  it('accepts a new store, a store of its own layout, and key-value stores written before layouts were recorded', async () => {
    const bytes = await open();
    expect(await StoreLayout.outdated(sessionDefinition, bytes)).toBeUndefined();
    await bytes.apply([[Buffer.from('k'), Buffer.from('v')]], 1n);
    expect(await StoreLayout.outdated(Stores.keyValueStore('kv', Serdes.String(), Serdes.String()), bytes)).toBeUndefined();
    await StoreLayout.record(sessionDefinition, bytes);
    expect(await StoreLayout.outdated(sessionDefinition, bytes)).toBeUndefined();
    expect(await StoreLayout.outdated(windowDefinition, bytes)).toMatch(/layout session\/segment-databases-v3, this version reads window/);
    await bytes.close();
  });
});
