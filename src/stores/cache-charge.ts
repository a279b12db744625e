/**
 * What an entry costs against the cache budget (`cacheMaxBytes`, Kafka Streams' `statestore.cache.max.bytes`),
 * counted as Kafka Streams' record cache counts it, so the same budget holds about as many entries and a full
 * cache evicts at the same point. From Kafka Streams 3.9's source: `NamedCache.LRUNode.size()` is the cache
 * key's bytes, three references of 8 bytes (entry, previous, next) and `LRUCacheEntry.size()`: 1 (the dirty
 * flag) plus `ContextualRecord.residentMemorySizeEstimate()`, the value's bytes plus the record context's
 * estimate (`ProcessorRecordContext`: timestamp 8, offset 8, partition 4, the topic name's chars, each
 * header's key chars and value bytes). `ThreadCache` evicts while the sum exceeds the budget.
 *
 * It is not what an entry costs on the JS heap (decoded values, the Map entry, the slot), any more than it is
 * on Java's heap; the write cache bounds that separately, with the estimates at the end of this file.
 */

/** Per entry, beside its key, value and topic name: 3 references (24), the dirty flag (1), timestamp, offset, partition (20). */
export const KAFKA_STREAMS_ENTRY_OVERHEAD_BYTES = 3 * 8 + 1 + 8 + 8 + 4;

/**
 * The bytes Kafka Streams' cache adds to a session or window store's changelog key: its cache key is
 * `SegmentedCacheFunction.cacheKey`, the segment id (8 bytes) before the store key.
 */
export const SEGMENTED_CACHE_KEY_PREFIX_BYTES = 8;

/**
 * The fixed part of an entry's charge for records read from `topics`: the overhead and the topic name's chars
 * (Java's `toCharArray().length`, UTF-16 units, as a JS string's length). A store fed from several topics is
 * charged the longest name (Kafka Streams charges each record's own); headers are not counted: a store does
 * not see them, so an entry whose record carried headers costs less here than there, by their bytes.
 */
export function recordContextBytes(topics: readonly string[]): number {
  let longest = 0;
  for (const topic of topics) if (topic.length > longest) longest = topic.length;
  return KAFKA_STREAMS_ENTRY_OVERHEAD_BYTES + longest;
}

/**
 * Kafka Streams' charge for one cache entry: its cache key, its value (null: a deletion, 0 bytes) and the
 * record context's fixed part (see recordContextBytes).
 */
export function kafkaStreamsEntryCharge(cacheKeyBytes: number, valueBytes: number | null, contextBytes: number): number {
  return cacheKeyBytes + (valueBytes ?? 0) + contextBytes;
}

/**
 * Estimates of what a cached entry costs on the JS heap beyond its encoded size (the Map entry, the slot, the
 * key, the decoded values and their fields), for the write cache's heap bound (HEAP_BUDGET_FACTOR in
 * write-cache.ts). Measured with `bench/cache-heap.ts`: a session of the sessionize example (Avro stats with
 * a list of pages, about 100 encoded bytes) 1.3–1.4 KiB of live heap, as the catch-up benchmark saw (20 000
 * more cached sessions, 29 MB more live heap); a count (string key, timestamped long) about 410 bytes.
 */
export const SESSION_OR_WINDOW_HEAP_OVERHEAD_BYTES = 1280;
export const KEY_VALUE_HEAP_OVERHEAD_BYTES = 384;
