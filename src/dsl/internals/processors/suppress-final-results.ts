import type { ProcessorSupplier } from '../../../processor/processor-api.js';
import type { Windowed } from '../../../processor/windowed.js';
import type { Serde } from '../../../serdes/serde.js';
import type { KeyValueStore } from '../../../stores/state-store.js';
import type { InternalProcessorContext } from '../../../processor/internals/internal-processor-context.js';
import { change, type Change } from '../change.js';
import { MinHeap } from './min-heap.js';

interface Buffered {
  readonly key: Windowed<unknown>;
  readonly keyBytes: Buffer;
  readonly value: unknown;
  readonly timestamp: number;
}

/**
 * `suppress(untilWindowCloses())`: keeps the latest result of each window in a buffer and emits it once,
 * when stream time reaches the window's end + `closeAfterMs` (grace for time windows, gap + grace for session
 * windows, as Kafka Streams computes it). A tombstone (a merged-away session) empties its buffer entry and is
 * never emitted. The buffer is a logged in-memory store, so it survives a crash or a move.
 *
 * Buffer value layout: [window end i64][record timestamp i64][value bytes].
 */
export function suppressFinalResults(
  storeName: string,
  closeAfterMs: number,
  keySerde: Serde<Windowed<unknown>>,
  valueSerde: Serde<unknown>,
): ProcessorSupplier<Windowed<unknown>, Change<unknown>, Windowed<unknown>, Change<unknown>> {
  return () => {
    let context!: InternalProcessorContext<Windowed<unknown>, Change<unknown>>;
    let store!: KeyValueStore<Buffer, Buffer>;
    let observedStreamTime = Number.NEGATIVE_INFINITY;
    const entries = new Map<string, Buffered>();
    const byEnd = new MinHeap<string>();

    const remember = (entry: Buffered): void => {
      const id = entry.keyBytes.toString('latin1');
      entries.set(id, entry);
      byEnd.push(entry.key.window.end, id);
    };

    const emitClosed = (): void => {
      // Event-time mode: never ahead of the slowest upstream task (see EventTimeView).
      const expiry = (context.eventTime === undefined ? observedStreamTime : context.eventTime.streamTime(observedStreamTime)) - closeAfterMs;
      const closed: Array<[string, Buffered]> = [];
      for (let end = byEnd.peekPriority(); end !== undefined && end <= expiry; end = byEnd.peekPriority()) {
        const id = byEnd.pop()!;
        const entry = entries.get(id);
        // A heap slot outlives an update or removal of its window; only the live entry with that end counts.
        if (entry === undefined || entry.key.window.end !== end) continue;
        entries.delete(id);
        closed.push([id, entry]);
      }
      // Kafka Streams' buffer emits by window end, then by the serialized key (ids are its bytes as latin1).
      if (closed.length > 1) closed.sort(([a, x], [b, y]) => x.key.window.end - y.key.window.end || (a < b ? -1 : a > b ? 1 : 0));
      for (const [, entry] of closed) {
        store.delete(entry.keyBytes);
        context.forward({ key: entry.key, value: change(entry.value, null), timestamp: entry.timestamp, headers: {} });
      }
    };

    return {
      init(ctx) {
        context = ctx as InternalProcessorContext<Windowed<unknown>, Change<unknown>>;
        store = context.getStateStore(storeName);
        observedStreamTime = context.currentStreamTimeMs();
        // Event-time mode: buffered results are emitted when the bound rises without a record too.
        context.eventTime?.onAdvance(emitClosed);
        for (const { key, value } of store.all()) {
          remember({
            key: keySerde.deserialize(key),
            keyBytes: key,
            timestamp: Number(value.readBigInt64BE(8)),
            value: valueSerde.deserialize(value.subarray(16)),
          });
        }
      },
      process(input) {
        // A table's change; the buffer keeps its new value (Kafka Streams' KTableSuppressProcessor).
        const record = { ...input, value: input.value.newValue };
        if (record.timestamp > observedStreamTime) observedStreamTime = record.timestamp;
        const keyBytes = keySerde.serialize(record.key);
        if (record.value === null || record.value === undefined) {
          if (entries.delete(keyBytes.toString('latin1'))) store.delete(keyBytes);
        } else {
          const valueBytes = valueSerde.serialize(record.value);
          const stored = Buffer.allocUnsafe(16 + valueBytes.length);
          stored.writeBigInt64BE(BigInt(record.key.window.end), 0);
          stored.writeBigInt64BE(BigInt(record.timestamp), 8);
          valueBytes.copy(stored, 16);
          store.put(keyBytes, stored);
          remember({ key: record.key, keyBytes, value: record.value, timestamp: record.timestamp });
        }
        emitClosed();
      },
    };
  };
}
