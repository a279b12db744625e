/**
 * What flows between a KTable's processors: the key's new value and, when the downstream asked for it
 * (Kafka Streams' `sendOldValues`), the value it replaces. A null new value is a deletion. Kafka Streams'
 * `Change<V>`.
 */
export interface Change<V> {
  readonly newValue: V | null;
  readonly oldValue: V | null;
  /**
   * False for an out-of-order update of a versioned table (Kafka Streams' `Change.isLatest`): it changed the
   * key's history, not its latest value; table joins and groupBy skip it. Absent: true.
   */
  readonly isLatest?: false;
}

export function change<V>(newValue: V | null | undefined, oldValue: V | null | undefined, isLatest = true): Change<V> {
  return isLatest ? { newValue: newValue ?? null, oldValue: oldValue ?? null } : { newValue: newValue ?? null, oldValue: oldValue ?? null, isLatest: false };
}
