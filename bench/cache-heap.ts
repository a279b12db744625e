/**
 * `node --expose-gc --import tsx bench/cache-heap.ts [sessions]`: what a cached session costs, against the
 * cache budget (Kafka Streams' accounting, see src/stores/cache-charge.ts) and on the JS heap. One session
 * store of the sessionize example (Avro `SessionStats`, keys `user-<n>`) in memory, with a budget large
 * enough for every session; each user's session gets a few views, the cache is flushed (as a commit does),
 * and the live heap is compared with the empty store's after a full GC. No broker, no LevelDB.
 */
import { InMemoryBytesStore } from '../src/stores/bytes-store.js';
import { createStore } from '../src/stores/store-factory.js';
import { sessionStoreOf } from '../src/stores/managed-store.js';
import type { StoreDefinition } from '../src/processor/store-definition.js';
import { Serdes } from '../src/index.js';
import { addView, emptyStats, sessionStatsSerde, type SessionStats } from '../examples/sessionize/topology.js';
import type { CachingSessionStore } from '../src/stores/session-store.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error('run with node --expose-gc --import tsx bench/cache-heap.ts');
  process.exit(2);
}
const sessions = Number(process.argv[2] ?? 20_000);
const PAGES = ['/', '/search', '/product', '/cart', '/checkout', '/help', '/account', '/blog', '/about', '/pricing'];

const definition: StoreDefinition = {
  name: 'session-stats',
  type: 'session',
  keySerde: Serdes.String(),
  valueSerde: sessionStatsSerde,
  persistent: false,
  loggingEnabled: false,
  changelogConfig: {},
  retentionMs: 31 * 60_000,
};

const liveHeap = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

const store = createStore(definition, new InMemoryBytesStore(), 1024 ** 3, undefined, ['page-views']);
const sessionStore = sessionStoreOf<string, SessionStats>(store);
const start = Date.now();
const before = liveHeap();
for (let u = 0; u < sessions; u++) {
  let stats = emptyStats();
  const views = 1 + (u % 8);
  for (let v = 0; v < views; v++) {
    stats = addView(stats, { userId: `user-${u}`, page: PAGES[(u + v * 3) % PAGES.length]!, status: 200, bytes: 200 + ((u * 7919) % 20_000), timestamp: start + v * 1000 });
  }
  sessionStore.put({ key: `user-${u}`, window: { start, end: start + (views - 1) * 1000 } }, stats);
}
const dirty = liveHeap();
store.flush(); // its LevelDB entries are dropped: only the cache's own heap is measured
store.written(store.lastFlush);
const flushed = liveHeap();
const charge = (store as unknown as CachingSessionStore<string, SessionStats>).cacheChargePerEntry;
const kib = (bytes: number): string => (bytes / 1024).toFixed(2);
console.log(`${sessions} sessions in the cache`);
console.log(`charge per entry (Kafka Streams' accounting, topic "page-views"): ${charge.toFixed(0)} bytes`);
console.log(`live heap per entry, dirty: ${kib((dirty - before) / sessions)} KiB; after a flush (values kept encoded too): ${kib((flushed - before) / sessions)} KiB`);
console.log(`entries a 10 MiB budget holds: ${Math.floor((10 * 1024 * 1024) / charge)} (their heap about ${(((flushed - before) / sessions) * Math.floor((10 * 1024 * 1024) / charge) / 1048576).toFixed(0)} MB)`);
