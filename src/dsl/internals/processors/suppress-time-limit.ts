import type { ProcessorSupplier } from '../../../processor/processor-api.js';
import type { Headers } from '../../../processor/record.js';
import type { Serde } from '../../../serdes/serde.js';
import type { KeyValueStore } from '../../../stores/state-store.js';
import type { InternalProcessorContext } from '../../../processor/internals/internal-processor-context.js';
import { change, type Change } from '../change.js';
import { MinHeap } from './min-heap.js';

interface Buffered {
  readonly key: unknown;
  readonly keyBytes: Buffer;
  /** When the key entered the buffer: it keeps this time however often it is updated. */
  readonly bufferTime: number;
  readonly value: unknown;
  readonly timestamp: number;
  readonly headers: Headers;
}

/**
 * `suppress(Suppressed.untilTimeLimit(limit))` (Kafka Streams' KTableSuppressProcessor with its
 * non-resetting buffer): each key's latest change waits in the buffer until stream time reaches the time it
 * first entered plus `limitMs`, then it is emitted (deletions too) with the latest record's timestamp; keys
 * that expire together come out by buffer time, then by serialized key. The buffer is a logged in-memory
 * store: [buffer time i64][record timestamp i64][1 = value follows, 0 = deletion][value bytes].
 */
export function suppressTimeLimit(
  storeName: string,
  limitMs: number,
  keySerde: Serde<unknown>,
  valueSerde: Serde<unknown>,
): ProcessorSupplier<unknown, Change<unknown>, unknown, Change<unknown>> {
  return () => {
    let context!: InternalProcessorContext<unknown, Change<unknown>>;
    let store!: KeyValueStore<Buffer, Buffer>;
    let observedStreamTime = Number.NEGATIVE_INFINITY;
    const entries = new Map<string, Buffered>();
    const byTime = new MinHeap<string>();

    const emitExpired = (): void => {
      const expiry = observedStreamTime - limitMs;
      const expired: Array<[string, Buffered]> = [];
      for (let time = byTime.peekPriority(); time !== undefined && time <= expiry; time = byTime.peekPriority()) {
        const id = byTime.pop()!;
        const entry = entries.get(id);
        if (entry === undefined) continue;
        entries.delete(id);
        expired.push([id, entry]);
      }
      if (expired.length > 1) expired.sort(([a, x], [b, y]) => x.bufferTime - y.bufferTime || (a < b ? -1 : a > b ? 1 : 0));
      for (const [, entry] of expired) {
        store.delete(entry.keyBytes);
        context.forward({ key: entry.key, value: change(entry.value, null), timestamp: entry.timestamp, headers: entry.headers });
      }
    };

    return {
      init(ctx) {
        context = ctx as InternalProcessorContext<unknown, Change<unknown>>;
        store = context.getStateStore(storeName);
        observedStreamTime = context.currentStreamTimeMs();
        for (const { key, value } of store.all()) {
          const entry: Buffered = {
            key: keySerde.deserialize(key),
            keyBytes: key,
            bufferTime: Number(value.readBigInt64BE(0)),
            timestamp: Number(value.readBigInt64BE(8)),
            value: value[16] === 1 ? valueSerde.deserialize(value.subarray(17)) : null,
            headers: {},
          };
          const id = key.toString('latin1');
          entries.set(id, entry);
          byTime.push(entry.bufferTime, id);
        }
      },
      process(record) {
        if (record.timestamp > observedStreamTime) observedStreamTime = record.timestamp;
        const keyBytes = keySerde.serialize(record.key);
        const id = keyBytes.toString('latin1');
        const previous = entries.get(id);
        const bufferTime = previous?.bufferTime ?? record.timestamp;
        const value = record.value.newValue;
        const valueBytes = value === null ? undefined : valueSerde.serialize(value);
        const stored = Buffer.allocUnsafe(17 + (valueBytes?.length ?? 0));
        stored.writeBigInt64BE(BigInt(bufferTime), 0);
        stored.writeBigInt64BE(BigInt(record.timestamp), 8);
        stored[16] = valueBytes === undefined ? 0 : 1;
        valueBytes?.copy(stored, 17);
        store.put(keyBytes, stored);
        entries.set(id, { key: record.key, keyBytes, bufferTime, value, timestamp: record.timestamp, headers: record.headers });
        if (previous === undefined) byTime.push(bufferTime, id);
        emitExpired();
      },
    };
  };
}
