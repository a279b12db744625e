import { StreamsError } from '../../../errors/errors.js';
import type { Headers, StreamRecord } from '../../../processor/record.js';
import type { Serde } from '../../../serdes/serde.js';
import type { KeyValueStore } from '../../../stores/state-store.js';
import { readInt64, readOrderedInt64, writeInt64, writeOrderedInt64 } from '../../../stores/int64.js';

/** Where the buffer keeps its observed time: one byte, shorter than every entry key. */
const OBSERVED_KEY = Buffer.from([0]);

interface Buffered {
  readonly storeKey: Buffer;
  readonly record: StreamRecord<unknown, unknown>;
}

/**
 * The grace buffer of a stream-table join (Kafka Streams' RocksDBTimeOrderedKeyValueBuffer under
 * KStreamKTableJoinProcessor): stream records wait until the buffer's observed time (the largest timestamp
 * put) passes their timestamp + grace, then leave in (timestamp, key bytes, arrival) order, as Kafka Streams'
 * TimeFirstWindowKeySchema orders them. A record already older than observed time − grace is not buffered.
 * Each entry lives in a logged in-memory store, so a restarted or moved task finds it again.
 *
 * Entry key: `[timestamp, ordered i64][key bytes][seq i64]`; value: `[value length i32][value bytes][headers]`.
 */
export class JoinGraceBuffer {
  private readonly entries: Buffered[] = [];
  private observed = Number.NEGATIVE_INFINITY;
  private seq = 0;

  constructor(
    private readonly store: KeyValueStore<Buffer, Buffer>,
    private readonly graceMs: number,
    private readonly keySerde: Serde<unknown>,
    private readonly valueSerde: Serde<unknown>,
  ) {}

  /** Reads back what the store holds (after a restore from its changelog). */
  restore(): void {
    for (const { key, value } of this.store.all()) {
      if (key.length === 1) {
        this.observed = readInt64(value, 0);
        continue;
      }
      const keyBytes = key.subarray(8, key.length - 8);
      this.seq = Math.max(this.seq, readInt64(key, key.length - 8) + 1);
      this.entries.push({ storeKey: key, record: this.decode(readOrderedInt64(key, 0), keyBytes, value) });
    }
  }

  /** Buffers the record; false when it is already older than observed time − grace (join it at once). */
  put(record: StreamRecord<unknown, unknown>): boolean {
    if (record.key === null || record.key === undefined) {
      // Kafka Streams' buffer refuses it too (RocksDBTimeOrderedKeyValueBuffer#put: "key cannot be null"), failing the task.
      throw new StreamsError(
        'A left join with a grace period cannot buffer a stream record with a null key (Kafka Streams fails the same way): filter null keys out before the join.',
      );
    }
    if (this.observed - this.graceMs > record.timestamp) return false;
    if (record.timestamp > this.observed) {
      this.observed = record.timestamp;
      const time = Buffer.allocUnsafe(8);
      writeInt64(time, this.observed, 0);
      this.store.put(OBSERVED_KEY, time);
    }
    const keyBytes = this.keySerde.serialize(record.key);
    const storeKey = Buffer.allocUnsafe(16 + keyBytes.length);
    writeOrderedInt64(storeKey, record.timestamp, 0);
    keyBytes.copy(storeKey, 8);
    writeInt64(storeKey, this.seq++, 8 + keyBytes.length);
    this.store.put(storeKey, this.encode(record));
    let at = this.entries.length;
    while (at > 0 && Buffer.compare(this.entries[at - 1]!.storeKey, storeKey) > 0) at--;
    this.entries.splice(at, 0, { storeKey, record });
    return true;
  }

  /** Hands over, oldest first, every record whose timestamp is at or before observed time − grace. */
  evict(emit: (record: StreamRecord<unknown, unknown>) => void): void {
    const until = this.observed - this.graceMs;
    let count = 0;
    while (count < this.entries.length && this.entries[count]!.record.timestamp <= until) count++;
    if (count === 0) return;
    for (const { storeKey, record } of this.entries.splice(0, count)) {
      this.store.delete(storeKey);
      emit(record);
    }
  }

  private encode(record: StreamRecord<unknown, unknown>): Buffer {
    const value = this.valueSerde.serialize(record.value);
    const parts: Buffer[] = [int32(value.length), value];
    for (const [name, header] of Object.entries(record.headers)) {
      if (header === undefined) continue;
      const nameBytes = Buffer.from(name, 'utf8');
      const headerBytes = typeof header === 'string' ? Buffer.from(header, 'utf8') : header;
      parts.push(int32(nameBytes.length), nameBytes, Buffer.from([typeof header === 'string' ? 1 : 0]), int32(headerBytes.length), headerBytes);
    }
    return Buffer.concat(parts);
  }

  private decode(timestamp: number, keyBytes: Buffer, raw: Buffer): StreamRecord<unknown, unknown> {
    const valueLength = raw.readInt32BE(0);
    const value = this.valueSerde.deserialize(Buffer.from(raw.subarray(4, 4 + valueLength)));
    const headers: Headers = {};
    let offset = 4 + valueLength;
    while (offset < raw.length) {
      const nameLength = raw.readInt32BE(offset);
      const name = raw.toString('utf8', offset + 4, offset + 4 + nameLength);
      offset += 4 + nameLength;
      const isString = raw[offset] === 1;
      const length = raw.readInt32BE(offset + 1);
      const bytes = Buffer.from(raw.subarray(offset + 5, offset + 5 + length));
      headers[name] = isString ? bytes.toString('utf8') : bytes;
      offset += 5 + length;
    }
    return { key: this.keySerde.deserialize(Buffer.from(keyBytes)), value, timestamp, headers };
  }
}

function int32(value: number): Buffer {
  const out = Buffer.allocUnsafe(4);
  out.writeInt32BE(value, 0);
  return out;
}
