/**
 * What flows between a KTable's processors: the key's new value and, when the downstream asked for it
 * (Kafka Streams' `sendOldValues`), the value it replaces. A null new value is a deletion. Kafka Streams'
 * `Change<V>`.
 */
export interface Change<V> {
  readonly newValue: V | null;
  readonly oldValue: V | null;
}

export function change<V>(newValue: V | null | undefined, oldValue: V | null | undefined): Change<V> {
  return { newValue: newValue ?? null, oldValue: oldValue ?? null };
}
