/** The user functions of the DSL, named as in Kafka Streams. */
export type Predicate<K, V> = (key: K, value: V) => boolean;
/** Maps a value; the key is passed second, for mappers that need it (Kafka Streams' ValueMapperWithKey). */
export type ValueMapper<K, V, VR> = (value: V, key: K) => VR;
export type KeyValueMapper<K, V, R> = (key: K, value: V) => R;
export type Initializer<VA> = () => VA;
export type Aggregator<K, V, VA> = (key: K, value: V, aggregate: VA) => VA;
export type Merger<K, VA> = (key: K, left: VA, right: VA) => VA;
export type Reducer<V> = (left: V, right: V) => V;
export type ForeachAction<K, V> = (key: K, value: V) => void;
/** Joins a value with the other side's (null where a left or outer join found none); the key is passed third. */
export type ValueJoiner<V1, V2, VR, K = unknown> = (value1: V1, value2: V2, key: K) => VR;
