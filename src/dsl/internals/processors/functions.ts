/** The user functions of the DSL, named as in Kafka Streams. A Predicate: true keeps the record. */
export type Predicate<K, V> = (key: K, value: V) => boolean;
/** Maps a value; the key is passed second, for mappers that need it (Kafka Streams' ValueMapperWithKey). */
export type ValueMapper<K, V, VR> = (value: V, key: K) => VR;
/** Computes something (a new key, a new record, records) from a key and a value. */
export type KeyValueMapper<K, V, R> = (key: K, value: V) => R;
/** The aggregate of a key (or window, or session) before its first record. */
export type Initializer<VA> = () => VA;
/** Adds a record to an aggregate and returns the new aggregate (it may return a new object or the old one changed). */
export type Aggregator<K, V, VA> = (key: K, value: V, aggregate: VA) => VA;
/** Combines the aggregates of two sessions that a record joins into one. */
export type Merger<K, VA> = (key: K, left: VA, right: VA) => VA;
/** Combines an aggregate (`left`) with a new value (`right`), both of the input's type. */
export type Reducer<V> = (left: V, right: V) => V;
/** Does something with a record (`peek`, `foreach`). */
export type ForeachAction<K, V> = (key: K, value: V) => void;
/** Joins a value with the other side's (null where a left or outer join found none); the key is passed third. */
export type ValueJoiner<V1, V2, VR, K = unknown> = (value1: V1, value2: V2, key: K) => VR;
