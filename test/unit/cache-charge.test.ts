/**
 * The cache budget (`cacheMaxBytes`) means what Kafka Streams' `statestore.cache.max.bytes` means: an entry is
 * charged what Kafka Streams' ThreadCache charges it, so the same budget holds as many entries and a full
 * cache asks for an eviction at the same put. The expected figures are written out from Kafka Streams 3.9's
 * source, not from our constants: NamedCache.LRUNode.size() = cache key bytes + 3 references of 8 bytes +
 * LRUCacheEntry.size(), which is 1 (dirty flag) + value bytes + ProcessorRecordContext's estimate (timestamp 8,
 * offset 8, partition 4, the topic name's chars).
 */
import { describe, expect, it } from 'vitest';
import { Serdes } from '../../src/index.js';
import { bufferStore } from '../../src/dsl/internals/table-store.js';
import { InMemoryBytesStore } from '../../src/stores/bytes-store.js';
import type { ManagedStore } from '../../src/stores/managed-store.js';
import type { KeyValueStore, SessionStore } from '../../src/stores/state-store.js';
import { createStore } from '../../src/stores/store-factory.js';
import { Stores } from '../../src/stores/stores.js';
import type { TypedStore } from '../../src/stores/typed-store.js';

const TOPIC = 'page-views';

/** Kafka Streams' LRUNode.size() for a cache key and value of these lengths, read from `TOPIC`. */
function kafkaStreamsNodeSize(cacheKeyBytes: number, valueBytes: number): number {
  const references = 8 + 8 + 8; // entry, previous, next
  const dirtyFlag = 1;
  const recordContext = 8 + 8 + 4 + TOPIC.length; // timestamp, offset, partition, topic chars
  return cacheKeyBytes + references + dirtyFlag + valueBytes + recordContext;
}

function chargeOf(store: ManagedStore): number {
  return (store as unknown as TypedStore<unknown, unknown>).cacheChargePerEntry;
}

/** Flushes and marks the flush written, as a commit does. */
function commit(store: ManagedStore, bytes: InMemoryBytesStore): void {
  bytes.apply(store.flush());
  store.written(store.lastFlush);
}

type Buffers = KeyValueStore<Buffer, Buffer> & ManagedStore;
const key = (i: number): Buffer => Buffer.from(`k${String(i).padStart(5, '0')}`); // 6 bytes
const VALUE = Buffer.alloc(20, 7);

describe('a cached entry is charged what Kafka Streams charges it', () => {
  it('a timestamped key-value entry: key, timestamp and value, overhead, topic name', () => {
    const bytes = new InMemoryBytesStore();
    const definition = { ...Stores.keyValueStore('counts', Serdes.String(), Serdes.Int64()), timestamped: true };
    const store = createStore(definition, bytes, 1 << 20, undefined, [TOPIC]) as KeyValueStore<string, number> & ManagedStore;
    store.put('user-1', 3);
    commit(store, bytes);
    // Cache key: the key's bytes; cache value: ValueAndTimestamp's bytes, the timestamp (8) then the long (8).
    expect(chargeOf(store)).toBe(kafkaStreamsNodeSize('user-1'.length, 8 + 8));
    expect(chargeOf(store)).toBe(6 + 24 + 1 + 16 + 20 + 10);
  });

  it('a session: the segment id before the session key, the aggregate; a merged-away session a tombstone', () => {
    const bytes = new InMemoryBytesStore();
    const definition = Stores.sessionStore('sessions', 60 * 60_000, Serdes.String(), Serdes.Int32());
    const store = createStore(definition, bytes, 1 << 20, undefined, [TOPIC]) as SessionStore<string, number> & ManagedStore;
    store.put({ key: 'u1', window: { start: 1000, end: 1000 } }, 1);
    commit(store, bytes);
    // SegmentedCacheFunction.cacheKey: segment id (8) + SessionKeySchema.toBinary: key, end (8), start (8).
    const sessionEntry = kafkaStreamsNodeSize(8 + 2 + 16, 4);
    expect(chargeOf(store)).toBe(sessionEntry);

    // The session grows: Kafka Streams' cache holds the old session's tombstone and the new session until the
    // flush. The average moves towards the flush's figure (0.3 of the way).
    store.remove({ key: 'u1', window: { start: 1000, end: 1000 } });
    store.put({ key: 'u1', window: { start: 1000, end: 2000 } }, 2);
    commit(store, bytes);
    const grown = sessionEntry + kafkaStreamsNodeSize(8 + 2 + 16, 0);
    expect(chargeOf(store)).toBeCloseTo(0.7 * sessionEntry + 0.3 * grown, 9);
  });

  it('headers are not charged, the topic name is: the longest of the store\'s source topics', () => {
    const bytes = new InMemoryBytesStore();
    const store = createStore({ ...bufferStore('kv'), cachingEnabled: true }, bytes, 1 << 20, undefined, ['short', 'a-much-longer-topic']) as Buffers;
    store.put(key(1), VALUE);
    commit(store, bytes);
    expect(chargeOf(store)).toBe(6 + 24 + 1 + 20 + 20 + 'a-much-longer-topic'.length);
  });
});

describe('a cache of N bytes fills at the entry count Kafka Streams\' fills at', () => {
  // Raw (not timestamped) buffers: Kafka Streams' cache key and value are these bytes as they are.
  const entryCharge = kafkaStreamsNodeSize(6, VALUE.length);
  /** A budget between 37 and 38 entries: ThreadCache evicts while its entries' sizes sum above it. */
  const budget = 37 * entryCharge + Math.floor(entryCharge / 2);
  const kafkaStreamsHolds = Math.floor(budget / entryCharge);

  it(`asks for an eviction at the put where Kafka Streams evicts (entry ${kafkaStreamsHolds + 1})`, () => {
    expect(kafkaStreamsHolds).toBe(37);
    const bytes = new InMemoryBytesStore();
    const store = createStore({ ...bufferStore('kv'), cachingEnabled: true }, bytes, budget, undefined, [TOPIC]) as Buffers;
    store.put(key(0), VALUE);
    commit(store, bytes); // measures the charge
    expect(chargeOf(store)).toBe(entryCharge);
    for (let i = 1; i <= kafkaStreamsHolds; i++) {
      store.put(key(i), VALUE);
      expect(store.needsFlush()).toBe(false);
    }
    store.put(key(kafkaStreamsHolds + 1), VALUE);
    expect(store.needsFlush()).toBe(true);
  });

  it('keeps as many entries after a flush as Kafka Streams\' cache holds', () => {
    const bytes = new InMemoryBytesStore();
    const store = createStore({ ...bufferStore('kv'), cachingEnabled: true }, bytes, budget, undefined, [TOPIC]) as Buffers;
    const written = 60;
    for (let i = 0; i < written; i++) store.put(key(i), VALUE);
    commit(store, bytes);
    // A flush evicts what earlier flushes wrote (never what is still on its way to the byte store): the next.
    store.put(key(0), VALUE);
    commit(store, bytes);
    // Every key read once more: those evicted are loaded from the byte store (misses), the others hit.
    const before = store.hitRatio();
    for (let i = 0; i < written; i++) expect(store.get(key(i))).toEqual(VALUE);
    const after = store.hitRatio();
    expect(after.hits - before.hits).toBe(kafkaStreamsHolds);
    expect(after.misses - before.misses).toBe(written - kafkaStreamsHolds);
  });

  it('holds fewer small sessions than Kafka Streams would when their heap would pass ten times the budget', () => {
    const bytes = new InMemoryBytesStore();
    const definition = Stores.sessionStore('sessions', 60 * 60_000, Serdes.String(), Serdes.Int32());
    const sessionCharge = kafkaStreamsNodeSize(8 + 2 + 16, 4); // the first session, key u0: 2 bytes
    const store = createStore(definition, bytes, 1000 * sessionCharge, undefined, [TOPIC]) as SessionStore<string, number> & ManagedStore;
    store.put({ key: 'u0', window: { start: 1000, end: 1000 } }, 1);
    commit(store, bytes);
    expect(chargeOf(store)).toBe(sessionCharge);
    // Kafka Streams' accounting alone would take 1 000 dirty sessions; each costs over 1 KiB of JS heap.
    let dirty = 0;
    while (!store.needsFlush() && dirty < 1000) store.put({ key: `u${++dirty}`, window: { start: 1000, end: 1000 } }, 1);
    expect(dirty).toBeLessThan(1000);
    expect((dirty - 1) * 1024).toBeLessThanOrEqual(10 * 1000 * sessionCharge);
  });
});
