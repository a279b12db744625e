import type { Processor, ProcessorSupplier } from '../../../processor/processor-api.js';
import type { InternalProcessorContext } from '../../../processor/internals/internal-processor-context.js';
import type { StreamRecord } from '../../../processor/record.js';
import type { Serde } from '../../../serdes/serde.js';
import type { KeyValueStore, WindowStore } from '../../../stores/state-store.js';
import type { JoinWindows } from '../../join-windows.js';
import type { ValueJoiner } from './functions.js';

type AnyRecord = StreamRecord<unknown, unknown>;

/** Kafka Streams' default emit interval of left/outer results without a partner (wall-clock throttle), 1 s. */
const EMIT_INTERVAL_MS = 1000;

/** Kafka Streams' Long.MAX_VALUE: "nothing waiting" in the time tracker. */
const NONE_WAITING = Number.MAX_SAFE_INTEGER;

/** Both sides' largest timestamp, and the smallest timestamp waiting in the outer store (Kafka Streams' TimeTracker). */
class TimeTracker {
  streamTime = -1;
  minTime = NONE_WAITING;
  nextTimeToEmit = 0;

  /**
   * `minTime + extraMs >= streamTime` as Kafka Streams computes it in Java longs: with nothing waiting
   * (Long.MAX_VALUE) and `extraMs` > 0 the sum overflows to a negative number, so the check fails and an
   * emit pass runs (and uses up the throttle) even though there is nothing to emit.
   */
  stillOpen(extraMs: number): boolean {
    if (this.minTime === NONE_WAITING) return extraMs === 0;
    return this.minTime + extraMs >= this.streamTime;
  }
}

/**
 * The processor before each side of a stream-stream join (Kafka Streams' KStreamJoinWindow): forwards the
 * record to the join first, then keeps it in its side's window store (values of one key and timestamp as a
 * list, in arrival order), so that a record never joins itself. A null value is not kept.
 */
export function joinWindow(storeName: string): ProcessorSupplier<unknown, unknown, unknown, unknown> {
  return () => {
    let context!: InternalProcessorContext<unknown, unknown>;
    let store!: WindowStore<unknown, unknown[]>;
    return {
      init(ctx) {
        context = ctx as InternalProcessorContext<unknown, unknown>;
        store = context.getStateStore(storeName);
      },
      process(record) {
        context.forward(record);
        if (record.key === null || record.key === undefined || record.value === null || record.value === undefined) return;
        const existing = store.fetch(record.key, record.timestamp);
        store.put(record.key, existing === undefined ? [record.value] : [...existing, record.value], record.timestamp);
      },
    };
  };
}

export interface StreamJoinSpec {
  readonly windows: JoinWindows;
  readonly joiner: ValueJoiner<unknown, unknown, unknown>;
  readonly leftOuter: boolean;
  readonly rightOuter: boolean;
  readonly leftStore: string;
  readonly rightStore: string;
  /** Left and outer joins: the store of records waiting for a partner until their window closes. */
  readonly outerStore: string | undefined;
  readonly keySerde: Serde<unknown>;
  readonly leftValueSerde: Serde<unknown>;
  readonly rightValueSerde: Serde<unknown>;
}

/**
 * The two join processors of a stream-stream join (Kafka Streams' KStreamKStreamJoinLeftSide and
 * RightSide), sharing a time tracker per task. For each record of one side:
 * - both sides' stream time advances; a null key (outer side: joined with null at once) or null value is dropped;
 * - at the stream time's front, records waiting in the outer store whose window and grace have passed are
 *   emitted joined with null, oldest first (at most once per second of wall-clock time, as Kafka Streams);
 * - the record is joined with every record of the other side's window store within [t - before, t + after]
 *   (ordered by time, then arrival), stamped with the later timestamp; each partner leaves the outer store;
 * - an outer side's record without a partner waits in the outer store, or, when its window has already
 *   passed stream time, is joined with null at once.
 */
export function streamStreamJoin(spec: StreamJoinSpec): { left: ProcessorSupplier<unknown, unknown, unknown, unknown>; right: ProcessorSupplier<unknown, unknown, unknown, unknown> } {
  const trackers = new Map<string, TimeTracker>();
  const side = (isLeft: boolean): ProcessorSupplier<unknown, unknown, unknown, unknown> => () => {
    const { windows } = spec;
    const outer = isLeft ? spec.leftOuter : spec.rightOuter;
    const joinBefore = isLeft ? windows.beforeMs : windows.afterMs;
    const joinAfter = isLeft ? windows.afterMs : windows.beforeMs;
    // This side's joiner takes its own value first; results are always joiner(left, right).
    const join = (key: unknown, thisValue: unknown, otherValue: unknown): unknown =>
      isLeft ? spec.joiner(thisValue, otherValue, key) : spec.joiner(otherValue, thisValue, key);
    let context!: InternalProcessorContext<unknown, unknown>;
    let otherWindow!: WindowStore<unknown, unknown[]>;
    let outerStore: KeyValueStore<Buffer, Buffer> | undefined;
    let tracker!: TimeTracker;

    const outerKey = (key: unknown, timestamp: number, leftSide: boolean): Buffer => {
      const keyBytes = spec.keySerde.serialize(key);
      const out = Buffer.allocUnsafe(9 + keyBytes.length);
      out.writeBigInt64BE(BigInt(timestamp), 0);
      out[8] = leftSide ? 1 : 0;
      keyBytes.copy(out, 9);
      return out;
    };

    /** The outer store's records past their window, joined with null (Kafka Streams' emitNonJoinedOuterRecords). */
    const emitNonJoined = (store: KeyValueStore<Buffer, Buffer>, record: AnyRecord): void => {
      if (tracker.stillOpen(joinAfter + windows.gracePeriodMs)) return;
      const now = context.currentSystemTimeMs();
      if (now < tracker.nextTimeToEmit) return;
      tracker.nextTimeToEmit = now + (context.emitIntervalMs ?? EMIT_INTERVAL_MS);
      tracker.minTime = NONE_WAITING;
      let leftOpen = false;
      let rightOpen = false;
      let previous: Buffer | undefined;
      for (const { key: entryKey, value: entryValue } of store.all()) {
        const timestamp = Number(entryKey.readBigInt64BE(0));
        const leftSide = entryKey[8] === 1;
        tracker.minTime = timestamp;
        if (leftOpen && rightOpen) break;
        // A left record waits `after` for a partner, a right one `before`.
        const lookBack = leftSide ? windows.afterMs : windows.beforeMs;
        if (tracker.stillOpen(lookBack + windows.gracePeriodMs)) {
          if (leftSide) leftOpen = true;
          else rightOpen = true;
          continue;
        }
        const key = spec.keySerde.deserialize(entryKey.subarray(9));
        const serde = leftSide ? spec.leftValueSerde : spec.rightValueSerde;
        for (const value of decodeList(entryValue, serde)) {
          const joined = leftSide ? spec.joiner(value, null, key) : spec.joiner(null, value, key);
          context.forward({ ...record, key, value: joined, timestamp });
        }
        if (previous !== undefined && !previous.equals(entryKey)) store.delete(previous);
        previous = entryKey;
      }
      if (previous !== undefined) store.delete(previous);
    };

    const processor: Processor<unknown, unknown, unknown, unknown> = {
      init(ctx) {
        context = ctx as InternalProcessorContext<unknown, unknown>;
        otherWindow = context.getStateStore(isLeft ? spec.rightStore : spec.leftStore);
        if (spec.outerStore !== undefined) outerStore = context.getStateStore(spec.outerStore);
        tracker = trackers.get(context.taskId) ?? new TimeTracker();
        trackers.set(context.taskId, tracker);
      },
      process(record) {
        const t = record.timestamp;
        if (t > tracker.streamTime) tracker.streamTime = t;
        const nullKey = record.key === null || record.key === undefined;
        const nullValue = record.value === null || record.value === undefined;
        if (outer && nullKey && !nullValue) {
          context.forward({ ...record, value: join(record.key, record.value, null) });
          return;
        }
        if (nullKey || nullValue) {
          context.recordDropped('null-key', 'a join needs a key and a value');
          return;
        }
        if (outerStore !== undefined && t === tracker.streamTime) emitNonJoined(outerStore, record);
        const timeFrom = Math.max(0, t - joinBefore);
        const timeTo = Math.max(0, t + joinAfter);
        const partners = otherWindow.fetchRange(record.key, timeFrom, timeTo);
        for (const { key: otherTime, value: values } of partners) {
          // A partner found: it no longer waits for a null join (Kafka Streams deletes its whole entry).
          outerStore?.delete(outerKey(record.key, otherTime, !isLeft));
          for (const other of values) {
            context.forward({ ...record, value: join(record.key, record.value, other), timestamp: Math.max(t, otherTime) });
          }
        }
        if (!outer || partners.length > 0) return;
        if (outerStore === undefined || timeTo < tracker.streamTime) {
          context.forward({ ...record, value: join(record.key, record.value, null) });
          return;
        }
        if (t < tracker.minTime) tracker.minTime = t;
        const waitingKey = outerKey(record.key, t, isLeft);
        const serde = isLeft ? spec.leftValueSerde : spec.rightValueSerde;
        const waiting = outerStore.get(waitingKey);
        outerStore.put(waitingKey, appendToList(waiting, serde.serialize(record.value)));
      },
      close() {
        trackers.delete(context.taskId);
      },
    };
    return processor;
  };
  return { left: side(true), right: side(false) };
}

/** A list of serialized values: [length u32][bytes] repeated. */
function appendToList(list: Buffer | undefined, value: Buffer): Buffer {
  const entry = Buffer.allocUnsafe(4 + value.length);
  entry.writeUInt32BE(value.length, 0);
  value.copy(entry, 4);
  return list === undefined ? entry : Buffer.concat([list, entry]);
}

function decodeList(list: Buffer, serde: Serde<unknown>): unknown[] {
  const values: unknown[] = [];
  for (let offset = 0; offset < list.length; ) {
    const length = list.readUInt32BE(offset);
    values.push(serde.deserialize(list.subarray(offset + 4, offset + 4 + length)));
    offset += 4 + length;
  }
  return values;
}

/** The serde of a join window store's values: the records of one key and timestamp, in arrival order. */
export function listSerde(inner: Serde<unknown>): Serde<unknown[]> {
  return {
    name: `List<${inner.name}>`,
    serialize(values, topic) {
      return Buffer.concat(values.map((v) => appendToList(undefined, inner.serialize(v, topic))));
    },
    deserialize(bytes) {
      return decodeList(bytes, inner);
    },
  };
}
