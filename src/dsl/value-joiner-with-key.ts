import type { ValueJoiner } from './internals/processors/functions.js';

/** Kafka Streams' ValueJoinerWithKey: joins two values knowing their key, which comes first. */
export type ValueJoinerWithKey<K, V1, V2, VR> = (readOnlyKey: K, value1: V1, value2: V2) => VR;

/**
 * A joiner that takes the key first, as Kafka Streams' `ValueJoinerWithKey` does:
 * `views.join(users, valueJoinerWithKey((userId, view, user) => ({ userId, ...view, plan: user.plan })))`.
 * It turns it into the DSL's {@link ValueJoiner} (key passed third), so every join takes it.
 *
 * Why a wrapper: Java tells `ValueJoiner` from `ValueJoinerWithKey` by type, at compile time. A JavaScript
 * function carries no parameter types, and its arity does not say where the key goes (`(a, b, c) => …` may
 * be either), so a joiner that wants the key first has to say so. The DSL's own joiners keep the key third,
 * so that existing two-argument joiners and `(value1, value2, key)` joiners work unchanged.
 */
export function valueJoinerWithKey<K, V1, V2, VR>(joiner: ValueJoinerWithKey<K, V1, V2, VR>): ValueJoiner<V1, V2, VR, K> {
  return (value1, value2, key) => joiner(key, value1, value2);
}
