/**
 * Under at-least-once a commit flushes the stores at one point of the record stream, and writes the flushed
 * entries to LevelDB only once the changelog's records are acknowledged; processing goes on meanwhile. The
 * invariant: between a flush and its write, every read sees the flushed values (the cache keeps them: it
 * never evicts a value the byte store does not hold yet), and full or prefix scans of in-memory stores too.
 * Evicting them made reads load the value from before the flush: sessions split and counts went back.
 */
import { describe, expect, it } from 'vitest';
import { Serdes } from '../../src/index.js';
import { bufferStore } from '../../src/dsl/internals/table-store.js';
import { InMemoryBytesStore } from '../../src/stores/bytes-store.js';
import type { ManagedStore } from '../../src/stores/managed-store.js';
import type { KeyValueStore, SessionStore } from '../../src/stores/state-store.js';
import { createStore } from '../../src/stores/store-factory.js';
import { Stores } from '../../src/stores/stores.js';

const KEYS = 200;
/** A budget far below what KEYS entries take: a flush evicts all but the cache's minimum. */
const TINY_CACHE = 1;

describe('between a flush and its write to the byte store', () => {
  it('a session store reads the flushed sessions, not what the byte store held before', async () => {
    const bytes = new InMemoryBytesStore();
    const definition = Stores.sessionStore('sessions', 60 * 60_000, Serdes.String(), Serdes.Int32());
    const store = createStore(definition, bytes, TINY_CACHE) as SessionStore<string, number> & ManagedStore;
    for (let i = 0; i < KEYS; i++) store.put({ key: `u${i}`, window: { start: 1000, end: 1000 } }, 1);
    const first = store.flush();
    bytes.apply(first);
    store.written(store.lastFlush);

    // The next commit: every session grows, is flushed, and its write is still in flight.
    for (let i = 0; i < KEYS; i++) {
      store.remove({ key: `u${i}`, window: { start: 1000, end: 1000 } });
      store.put({ key: `u${i}`, window: { start: 1000, end: 2000 } }, 2);
    }
    const second = store.flush();
    const flush = store.lastFlush;
    for (let i = 0; i < KEYS; i++) {
      expect(store.fetch(`u${i}`).map((s) => [s.key.window.start, s.key.window.end, s.value])).toEqual([[1000, 2000, 2]]);
    }

    // Once written, the cache may let them go: reads load the same sessions from the byte store.
    bytes.apply(second);
    store.written(flush);
    store.put({ key: 'other', window: { start: 5000, end: 5000 } }, 1);
    bytes.apply(store.flush());
    store.written(store.lastFlush);
    for (let i = 0; i < KEYS; i++) expect(store.fetch(`u${i}`).map((s) => s.value)).toEqual([2]);
    expect(store.hitRatio().misses).toBeGreaterThan(KEYS); // they were evicted and loaded again
  });

  it('a key-value store in memory answers get, all and prefixScan with the flushed values', () => {
    const bytes = new InMemoryBytesStore();
    const store = createStore(bufferStore('kv'), bytes, TINY_CACHE) as KeyValueStore<Buffer, Buffer> & ManagedStore;
    const key = (i: number): Buffer => Buffer.from(`k${String(i).padStart(4, '0')}`);
    for (let i = 0; i < KEYS; i++) store.put(key(i), Buffer.from('old'));
    bytes.apply(store.flush());
    store.written(store.lastFlush);

    for (let i = 0; i < KEYS; i++) {
      if (i % 2 === 0) store.put(key(i), Buffer.from('new'));
      else store.delete(key(i));
    }
    // A scan before the flush builds the prefix index; the flush must not leave it (or all()) behind.
    expect(store.prefixScan(Buffer.from('k00'), Serdes.Buffer())).toHaveLength(50);
    const pending = store.flush();
    const expected = Array.from({ length: KEYS / 2 }, (_, j) => ({ key: key(2 * j), value: 'new' }));
    expect(store.all().map((e) => ({ key: e.key, value: e.value.toString() }))).toEqual(expected);
    expect(store.prefixScan(Buffer.from('k01'), Serdes.Buffer()).map((e) => e.value.toString())).toEqual(Array(50).fill('new'));
    for (let i = 0; i < KEYS; i++) expect(store.get(key(i))?.toString()).toBe(i % 2 === 0 ? 'new' : undefined);

    bytes.apply(pending);
    store.written(store.lastFlush);
    expect(store.all()).toHaveLength(KEYS / 2);
    expect(store.prefixScan(Buffer.from('k01'), Serdes.Buffer())).toHaveLength(50);
  });
});
