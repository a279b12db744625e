/**
 * Prefix scans: the in-memory byte store keeps its keys in byte order (scans of everything, of a prefix and
 * of a range agree with a sorted reference, across chunk splits and keys at the 0x00 / 0xff boundaries), and
 * a key-value store's `prefixScan` reads through its write cache exactly as `all()` does: dirty entries
 * replace flushed ones, deleted ones hide them, and an aborted transaction leaves only what was committed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Serdes, StateStoreError } from '../../src/index.js';
import { bufferStore } from '../../src/dsl/internals/table-store.js';
import { ByteOrderedMap } from '../../src/stores/byte-ordered-map.js';
import { InMemoryBytesStore } from '../../src/stores/bytes-store.js';
import { LevelDbBytesStore } from '../../src/stores/leveldb-bytes-store.js';
import type { KeyValueStore } from '../../src/stores/state-store.js';
import { createStore } from '../../src/stores/store-factory.js';
import { Stores } from '../../src/stores/stores.js';
import { LoggedStore } from './support/logged-store.js';

/** A seeded generator (mulberry32), so that a failure replays. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A key of 1 to 3 bytes drawn from few values, boundaries included: prefixes are shared often. */
function randomKey(next: () => number): Buffer {
  const bytes = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];
  return Buffer.from(Array.from({ length: 1 + Math.floor(next() * 3) }, () => bytes[Math.floor(next() * bytes.length)]!));
}

const hex = (entries: ReadonlyArray<readonly [Buffer, unknown]>): string[] => entries.map(([k]) => k.toString('hex'));
const startsWith = (key: Buffer, prefix: Buffer): boolean => key.subarray(0, prefix.length).equals(prefix);

describe('ByteOrderedMap', () => {
  it('reads every entry, a prefix and a range in byte order, as a sorted reference does, through chunk splits and deletions', () => {
    const next = random(17);
    const map = new ByteOrderedMap<number>();
    const reference = new Map<string, number>();
    for (let i = 0; i < 6000; i++) {
      // Keys of 2 bytes, so that the set grows past several chunks before deletions shrink it.
      const key = Buffer.from([Math.floor(next() * 256), Math.floor(next() * 256)]);
      if (next() < 0.3) {
        expect(map.delete(key)).toBe(reference.delete(key.toString('hex')));
      } else {
        map.set(key, i);
        reference.set(key.toString('hex'), i);
      }
    }
    const sorted = [...reference.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    expect(map.size).toBe(reference.size);
    expect(map.entries().map(([k, v]) => [k.toString('hex'), v])).toEqual(sorted);
    for (const prefix of ['', '00', '7f', 'ff', 'ffff', '80ff']) {
      expect(hex(map.withPrefix(Buffer.from(prefix, 'hex')))).toEqual(sorted.map(([k]) => k).filter((k) => k.startsWith(prefix)));
    }
    expect(hex(map.between(Buffer.from('10', 'hex'), Buffer.from('20ff', 'hex')))).toEqual(
      sorted.map(([k]) => k).filter((k) => k > '10' && k < '20ff'),
    );
  });

  it('keeps its own copy of a key', () => {
    const map = new ByteOrderedMap<number>();
    const key = Buffer.from([1, 2]);
    map.set(key, 1);
    key[0] = 9;
    expect(hex(map.entries())).toEqual(['0102']);
  });
});

describe('InMemoryBytesStore.prefixScanSync', () => {
  it('returns the keys under a prefix that ends in 0xff or 0x00, and nothing beside it', () => {
    const bytes = new InMemoryBytesStore();
    const keys = ['00', 'fe', 'feff', 'ff', 'ff00', 'ffff', 'ffff00', '01ff', '0100'];
    bytes.apply(keys.map((k) => [Buffer.from(k, 'hex'), Buffer.from(k)]));
    const scan = (prefix: string): string[] => hex(bytes.prefixScanSync(Buffer.from(prefix, 'hex')));
    expect(scan('ff')).toEqual(['ff', 'ff00', 'ffff', 'ffff00']);
    expect(scan('ffff')).toEqual(['ffff', 'ffff00']);
    expect(scan('fe')).toEqual(['fe', 'feff']);
    expect(scan('00')).toEqual(['00']);
    expect(scan('01')).toEqual(['0100', '01ff']);
    expect(scan('02')).toEqual([]);
    expect(scan('')).toEqual(['00', '0100', '01ff', 'fe', 'feff', 'ff', 'ff00', 'ffff', 'ffff00']);
    expect(bytes.prefixScanSync(Buffer.from('ff00', 'hex'))[0]![1].toString()).toBe('ff00');
  });

  it('forgets deleted and cleared keys', () => {
    const bytes = new InMemoryBytesStore();
    bytes.apply(['ff01', 'ff02', 'ff03', 'ff04'].map((k) => [Buffer.from(k, 'hex'), Buffer.from(k)]));
    bytes.apply([[Buffer.from('ff02', 'hex'), null]]);
    bytes.clearRange(Buffer.from('ff03', 'hex'), Buffer.from('ff05', 'hex'));
    expect(hex(bytes.prefixScanSync(Buffer.from('ff', 'hex')))).toEqual(['ff01', 'ff03']);
  });
});

describe('KeyValueStore.prefixScan', () => {
  const scanOf = (store: KeyValueStore<Buffer, Buffer>, prefix: string): string[] =>
    store.prefixScan(Buffer.from(prefix, 'hex'), Serdes.Buffer()).map(({ key, value }) => `${key.toString('hex')}=${value.toString()}`);
  const put = (store: KeyValueStore<Buffer, Buffer>, key: string, value: string | null): void =>
    store.put(Buffer.from(key, 'hex'), value === null ? null : Buffer.from(value));

  it('overlays the dirty entries on the flushed ones: new, replaced and deleted keys', () => {
    const logged = new LoggedStore(bufferStore('subscriptions'), 1 << 20);
    const store = (): KeyValueStore<Buffer, Buffer> => logged.store as unknown as KeyValueStore<Buffer, Buffer>;
    for (const key of ['fe01', 'ff01', 'ff02', 'ff03', 'ffff01']) put(store(), key, 'flushed');
    logged.commit();
    expect(scanOf(store(), 'ff')).toEqual(['ff01=flushed', 'ff02=flushed', 'ff03=flushed', 'ffff01=flushed']);

    put(store(), 'ff02', 'dirty');
    store().delete(Buffer.from('ff03', 'hex'));
    put(store(), 'ff00', 'new');
    put(store(), 'ffff', 'new');
    put(store(), 'ff04', 'gone');
    put(store(), 'ff04', null);
    expect(scanOf(store(), 'ff')).toEqual(['ff00=new', 'ff01=flushed', 'ff02=dirty', 'ffff=new', 'ffff01=flushed']);
    // Written after the first scan: the dirty entries it indexed are kept up to date.
    put(store(), 'ff03', 'back');
    put(store(), 'ff00', null);
    expect(scanOf(store(), 'ff')).toEqual(['ff01=flushed', 'ff02=dirty', 'ff03=back', 'ffff=new', 'ffff01=flushed']);
    expect(scanOf(store(), 'ffff')).toEqual(['ffff=new', 'ffff01=flushed']);
    expect(scanOf(store(), 'fe')).toEqual(['fe01=flushed']);

    logged.commit();
    expect(scanOf(store(), 'ff')).toEqual(['ff01=flushed', 'ff02=dirty', 'ff03=back', 'ffff=new', 'ffff01=flushed']);
    expect(hex(logged.bytes.prefixScanSync(Buffer.from('ff', 'hex')))).toEqual(['ff01', 'ff02', 'ff03', 'ffff', 'ffff01']);
  });

  it('shows only the committed entries after an aborted transaction', () => {
    const logged = new LoggedStore(bufferStore('subscriptions'), 1 << 20);
    const store = logged.store as unknown as KeyValueStore<Buffer, Buffer>;
    put(store, 'ff01', 'committed');
    logged.commit();
    put(store, 'ff02', 'aborted');
    expect(scanOf(store, 'ff')).toEqual(['ff01=committed', 'ff02=aborted']);
    store.delete(Buffer.from('ff01', 'hex'));
    logged.store.discardChanges();
    expect(scanOf(store, 'ff')).toEqual(['ff01=committed']);
    // The same store object goes on after the abort: its next writes are scanned, the aborted ones are not.
    put(store, 'ff03', 'after');
    expect(scanOf(store, 'ff')).toEqual(['ff01=committed', 'ff03=after']);
  });

  it('agrees with all() filtered by prefix, over random writes, commits and aborts', () => {
    const next = random(5);
    const logged = new LoggedStore(bufferStore('subscriptions'), 1 << 20);
    const store = logged.store as unknown as KeyValueStore<Buffer, Buffer>;
    for (let step = 0; step < 3000; step++) {
      const roll = next();
      const key = randomKey(next);
      if (roll < 0.55) store.put(key, Buffer.from(String(step)));
      else if (roll < 0.8) store.delete(key);
      else if (roll < 0.85) logged.commit();
      else if (roll < 0.87) logged.store.discardChanges();
      else {
        const expected = store.all().filter(({ key: k }) => startsWith(k, key));
        expect(store.prefixScan(key, Serdes.Buffer())).toEqual(expected);
      }
    }
  });

  it('serializes a typed prefix with the serializer given', () => {
    const logged = new LoggedStore(Stores.keyValueStore('words', Serdes.String(), Serdes.Int32(), { persistent: false }), 1 << 20);
    const store = logged.store as unknown as KeyValueStore<string, number>;
    for (const [i, word] of ['apple', 'apricot', 'banana', 'ap'].entries()) store.put(word, i);
    logged.commit();
    store.put('apex', 9);
    expect(store.prefixScan('ap', Serdes.String())).toEqual([
      { key: 'ap', value: 3 },
      { key: 'apex', value: 9 },
      { key: 'apple', value: 0 },
      { key: 'apricot', value: 1 },
    ]);
  });

  it('throws for a store on disk, as all() does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prefix-scan-'));
    const bytes = await LevelDbBytesStore.open(join(dir, 'kv'));
    try {
      const store = createStore(Stores.keyValueStore('kv', Serdes.String(), Serdes.Int32()), bytes, 1 << 20) as unknown as KeyValueStore<string, number>;
      expect(() => store.prefixScan('a', Serdes.String())).toThrow(StateStoreError);
    } finally {
      await bytes.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
