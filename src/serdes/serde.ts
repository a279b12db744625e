/**
 * A Serde turns values of one type into bytes and back. `null` never reaches a serde: the runtime maps a null
 * key or value (a tombstone) to a null payload itself, as Kafka Streams' serdes do.
 *
 * Contract: `serialize` and `deserialize` are synchronous and pure; `deserialize` throws on bytes it cannot
 * read (the runtime wraps the error with the record's topic, partition and offset).
 */
export interface Serde<T> {
  /** A short name for descriptions and error messages, for example `String` or `Json`. */
  readonly name: string;
  /** The bytes of `value`; `topic` is the topic they are written to, for serdes that care. */
  serialize(value: T, topic?: string): Buffer;
  /** The value `bytes` encode; throws on bytes it cannot read. */
  deserialize(bytes: Buffer, topic?: string): T;
}
