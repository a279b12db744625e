/** How `createTopics` and `kstreams topics create` create a missing source or sink topic. */
export interface UserTopicSettings {
  /** -1: the broker's default (`num.partitions`). */
  readonly partitions: number;
  /** -1: the broker's default (`default.replication.factor`). */
  readonly replicationFactor: number;
  /** Topic configs, e.g. `{ 'retention.ms': '86400000' }`. */
  readonly configs: Readonly<Record<string, string>>;
}
