import type { KeyValue } from '../processor/record.js';
import type { Windowed } from '../processor/windowed.js';
import type { Serde } from '../serdes/serde.js';

/**
 * The stores a processor sees. All calls are synchronous: reads are served by the store's cache, or on a miss
 * by one synchronous LevelDB point read; writes go to the cache and reach LevelDB and the changelog at the
 * next commit. A store belongs to one task and is used by one processor chain at a time.
 */
export interface StateStore {
  /** The store's name, as the topology declares it. */
  readonly name: string;
}

/** A store of one value per key. */
export interface KeyValueStore<K, V> extends StateStore {
  /** The value of `key`, undefined if it has none. */
  get(key: K): V | undefined;
  /** `null` deletes the key (and logs a tombstone). */
  put(key: K, value: V | null): void;
  /** Deletes `key` (a tombstone in the changelog) and returns its old value. */
  delete(key: K): V | undefined;
  /**
   * Every entry in key-byte order. Only stores that live in memory answer synchronously (the
   * TopologyTestDriver's, and in-memory stores); persistent stores are scanned with `app.store()`.
   */
  all(): KeyValue<K, V>[];
  /**
   * The entries whose key bytes start with the bytes `prefixKeySerializer` makes of `prefix`, in key-byte
   * order, with the changes not yet committed (Kafka Streams' `prefixScan(prefix, prefixKeySerializer)`).
   * Synchronous for the same stores as `all()`: stores in memory read only the entries under the prefix;
   * persistent stores throw.
   */
  prefixScan<P>(prefix: P, prefixKeySerializer: Serde<P>): KeyValue<K, V>[];
}

/** A store of one aggregate per session of a key. */
export interface SessionStore<K, AGG> extends StateStore {
  /** Sessions of `key` with end >= earliestSessionEndTime and start <= latestSessionStartTime, by end time. */
  findSessions(key: K, earliestSessionEndTime: number, latestSessionStartTime: number): KeyValue<Windowed<K>, AGG>[];
  /** Every live session of `key`, by end time. */
  fetch(key: K): KeyValue<Windowed<K>, AGG>[];
  /** The aggregate of exactly that session, if it exists. */
  fetchSession(key: K, sessionStart: number, sessionEnd: number): AGG | undefined;
  /** Writes a session's aggregate. */
  put(session: Windowed<K>, aggregate: AGG): void;
  /** Removes a session (e.g. one merged into a larger one). */
  remove(session: Windowed<K>): void;
}

/** A value and the timestamp of its latest update (Kafka Streams' ValueAndTimestamp). */
export interface ValueAndTimestamp<V> {
  readonly value: V;
  readonly timestamp: number;
}

/** A key-value store whose values carry a timestamp (the DSL's aggregations). */
export interface TimestampedKeyValueStore<K, V> extends KeyValueStore<K, V> {
  getWithTimestamp(key: K): ValueAndTimestamp<V> | undefined;
  /** `null` deletes the key. */
  putWithTimestamp(key: K, value: V | null, timestamp: number): void;
}

/** A store of one value per time window of a key. */
export interface WindowStore<K, V> extends StateStore {
  /** `null` deletes the window. */
  put(key: K, value: V | null, windowStart: number): void;
  /** The value of `key` in the window starting at `windowStart`. */
  fetch(key: K, windowStart: number): V | undefined;
  /** Windows of `key` whose start is in [timeFrom, timeTo], oldest first; the key of each result is its start. */
  fetchRange(key: K, timeFrom: number, timeTo: number): KeyValue<number, V>[];
}

/** A window store whose values carry a timestamp (the DSL's windowed aggregations). */
export interface TimestampedWindowStore<K, V> extends WindowStore<K, V> {
  fetchWithTimestamp(key: K, windowStart: number): ValueAndTimestamp<V> | undefined;
  /** `null` deletes the window. */
  putWithTimestamp(key: K, value: V | null, windowStart: number, timestamp: number): void;
}


/** A versioned store's put that made the latest version: it is valid to no time (Kafka Streams' VersionedKeyValueStore). */
export const PUT_RETURN_CODE_VALID_TO_UNDEFINED = -1;
/** A versioned store's put older than its history retention: nothing was put (Kafka Streams' Long.MIN_VALUE). */
export const PUT_RETURN_CODE_NOT_PUT = Number.MIN_SAFE_INTEGER;

/** One version of a key in a versioned store (Kafka Streams' VersionedRecord). */
export interface VersionedRecord<V> {
  /** The value of this version. */
  readonly value: V;
  /** When this version became valid. */
  readonly timestamp: number;
  /**
   * When the next version replaced it; undefined for the latest version. Given by interactive queries
   * (Kafka Streams' VersionedKeyQuery); a processor's `get`/`delete` leave it undefined, as Kafka Streams
   * 3.9's store does (MeteredVersionedKeyValueStore drops it).
   */
  readonly validTo?: number;
}

/**
 * A store that keeps, per key, its latest value and the versions it replaced for a history retention
 * (Kafka Streams' VersionedKeyValueStore): `Stores.persistentVersionedKeyValueStore`.
 */
export interface VersionedKeyValueStore<K, V> extends StateStore {
  /**
   * Puts the value of `key` valid from `timestamp` (null: a deletion). Returns the validTo of the new
   * version: PUT_RETURN_CODE_VALID_TO_UNDEFINED when it is the latest, the next version's timestamp when it
   * went into the history, PUT_RETURN_CODE_NOT_PUT when `timestamp` is older than the history retention.
   */
  put(key: K, value: V | null, timestamp: number): number;
  /** The latest version of `key`; or, with `asOfTimestamp`, the version valid at that time. */
  get(key: K, asOfTimestamp?: number): VersionedRecord<V> | undefined;
  /** Deletes `key` as of `timestamp` and returns the version valid at that time. */
  delete(key: K, timestamp: number): VersionedRecord<V> | undefined;
}
