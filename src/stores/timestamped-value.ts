import type { Serde } from '../serdes/serde.js';
import type { ValueAndTimestamp } from './state-store.js';

/**
 * Encodes the values of a store: plain (`serde` bytes) or, for timestamped stores, Kafka Streams' layout
 * `[timestamp i64][serde bytes]`. Plain values carry timestamp -1 in memory.
 */
export class StoredValueCodec<V> {
  constructor(
    private readonly serde: Serde<V>,
    readonly timestamped: boolean,
  ) {}

  encode(entry: ValueAndTimestamp<V>): Buffer {
    const bytes = this.serde.serialize(entry.value);
    if (!this.timestamped) return bytes;
    const out = Buffer.allocUnsafe(8 + bytes.length);
    out.writeBigInt64BE(BigInt(entry.timestamp), 0);
    bytes.copy(out, 8);
    return out;
  }

  decode(bytes: Buffer): ValueAndTimestamp<V> {
    if (!this.timestamped) return { value: this.serde.deserialize(bytes), timestamp: -1 };
    return { value: this.serde.deserialize(bytes.subarray(8)), timestamp: Number(bytes.readBigInt64BE(0)) };
  }
}
