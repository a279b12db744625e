import type { InternalProcessorContext } from '../../../processor/internals/internal-processor-context.js';
import type { StreamRecord } from '../../../processor/record.js';
import type { Windowed } from '../../../processor/windowed.js';
import type { Serde } from '../../../serdes/serde.js';
import type { KeyValueStore, ValueAndTimestamp } from '../../../stores/state-store.js';
import { change, type Change } from '../change.js';
import type { InternalBuilder } from '../internal-builder.js';
import { bufferStore } from '../table-store.js';

/** What `maybeEmit` is given when stream time rose without a record (the event-time mode): no headers to copy. */
export const NO_RECORD: StreamRecord<unknown, unknown> = { key: null, value: null, timestamp: 0, headers: {} };

/** Kafka Streams' default interval of final-result emission (wall clock), 1 s; the TopologyTestDriver uses 0. */
const EMIT_INTERVAL_MS = 1000;

/** The index key of the last close time emitted: after every entry (their times are >= 0). */
const LAST_EMIT_KEY = Buffer.from([0xff]);

export interface EmitBounds {
  /** The first window start to emit, given the last close time emitted (undefined: never). */
  lower(lastEmitCloseTime: number | undefined): number;
  /** The last window start to emit at `closeTime`. */
  upper(closeTime: number): number;
  /** False when no window can have closed since the last emit (time windows). */
  shouldFetch(lower: number, upper: number, lastEmitCloseTime: number | undefined): boolean;
}

/** The emit index of an aggregation's store: `<store>-emit-index`. */
export function emitIndexName(storeName: string): string {
  return `${storeName}-emit-index`;
}

/** Adds the emit index of `storeName` (a logged in-memory store) and connects it to the aggregation's processor. */
export function addEmitIndex(graph: InternalBuilder, storeName: string, processorName: string): void {
  graph.addStore(bufferStore(emitIndexName(storeName)));
  graph.connectStore(processorName, emitIndexName(storeName));
}

/** How the windows of one kind are written in the emit index, in the order Kafka Streams emits them. */
export interface IndexLayout {
  /** The entry of a window; its first 8 bytes are the time the emit bounds apply to. */
  entry(keyBytes: Buffer, start: number, end: number): Buffer;
  /** The key bytes and window of an entry. */
  parse(entry: Buffer): { keyBytes: Buffer; start: number; end: number };
}

/** Time and sliding windows: `[start][key]`, as Kafka Streams' time-ordered window store orders them. */
export function timeWindowLayout(windowSizeMs: number): IndexLayout {
  return {
    entry(keyBytes, start) {
      const entry = Buffer.allocUnsafe(8 + keyBytes.length);
      entry.writeBigInt64BE(BigInt(start), 0);
      keyBytes.copy(entry, 8);
      return entry;
    },
    parse(entry) {
      const start = Number(entry.readBigInt64BE(0));
      return { keyBytes: entry.subarray(8), start, end: start + windowSizeMs };
    },
  };
}

/**
 * Sessions: `[end][start][key]`, the order of Kafka Streams' time-ordered session store
 * (PrefixedSessionKeySchemas.TimeFirstSessionKeySchema), whose range by end the session emit reads.
 */
export const SESSION_LAYOUT: IndexLayout = {
  entry(keyBytes, start, end) {
    const entry = Buffer.allocUnsafe(16 + keyBytes.length);
    entry.writeBigInt64BE(BigInt(end), 0);
    entry.writeBigInt64BE(BigInt(start), 8);
    keyBytes.copy(entry, 16);
    return entry;
  },
  parse(entry) {
    return { keyBytes: entry.subarray(16), start: Number(entry.readBigInt64BE(8)), end: Number(entry.readBigInt64BE(0)) };
  },
};

/**
 * `emitStrategy(EmitStrategy.onWindowClose())` of a windowed aggregation (Kafka Streams'
 * AbstractKStreamTimeWindowAggregateProcessor#maybeForwardFinalResult, and
 * KStreamSessionWindowAggregate's for sessions): when the close time has moved on, every window whose
 * index time (start of a time window, end of a session) is in the new closed range is emitted once, with its
 * aggregate and timestamp, in the index order. The windows written are indexed in a logged in-memory store
 * (with the last close time emitted), as the window and session stores cannot be scanned across keys. A
 * window no longer stored when its range closes (a session merged into another) is not emitted.
 */
export class WindowCloseEmitter {
  private context!: InternalProcessorContext<Windowed<unknown>, Change<unknown>>;
  private read!: (key: unknown, start: number, end: number, value: unknown) => ValueAndTimestamp<unknown> | undefined;
  private index!: KeyValueStore<Buffer, Buffer>;
  private lastEmit: number | undefined;
  private nextTimeToEmit = 0;

  constructor(
    private readonly indexStoreName: string,
    private readonly keySerde: Serde<unknown>,
    private readonly layout: IndexLayout,
    private readonly bounds: EmitBounds,
    /** Given, the index keeps each window's aggregate too (written by `track`, handed to `read`). */
    private readonly valueSerde?: Serde<unknown>,
  ) {}

  /**
   * `read` gives a window's aggregate and timestamp to emit, undefined when it is gone; `value` is the
   * aggregate the index kept, when it keeps them.
   */
  init(
    context: InternalProcessorContext<Windowed<unknown>, Change<unknown>>,
    read: (key: unknown, start: number, end: number, value: unknown) => ValueAndTimestamp<unknown> | undefined,
  ): void {
    this.context = context;
    this.read = read;
    this.index = context.getStateStore(this.indexStoreName);
    const last = this.index.get(LAST_EMIT_KEY);
    this.lastEmit = last === undefined ? undefined : Number(last.readBigInt64BE(0));
  }

  /** A window of `key` was written (`end` and `value` are needed for sessions only). */
  track(key: unknown, start: number, end = start, value?: unknown): void {
    const bytes = this.valueSerde === undefined ? Buffer.alloc(0) : this.valueSerde.serialize(value);
    this.index.put(this.layout.entry(this.keySerde.serialize(key), start, end), bytes);
  }

  /** A window of `key` was removed (a session merged into another): it will not be emitted. */
  untrack(key: unknown, start: number, end: number): void {
    this.index.delete(this.layout.entry(this.keySerde.serialize(key), start, end));
  }

  maybeEmit(record: StreamRecord<unknown, unknown>, closeTime: number): void {
    const now = this.context.currentSystemTimeMs();
    if (now < this.nextTimeToEmit) return;
    this.nextTimeToEmit = now + (this.context.emitIntervalMs ?? EMIT_INTERVAL_MS);
    if (this.lastEmit !== undefined && this.lastEmit >= closeTime) return;
    const upper = this.bounds.upper(closeTime);
    if (upper < 0) return;
    const lower = this.bounds.lower(this.lastEmit);
    if (!this.bounds.shouldFetch(lower, upper, this.lastEmit)) return;
    for (const { key: entry, value: stored } of this.index.all()) {
      if (entry.length < 8) continue;
      const time = Number(entry.readBigInt64BE(0));
      if (time > upper) break;
      this.index.delete(entry);
      if (time < lower) continue;
      const { keyBytes, start, end } = this.layout.parse(entry);
      const key = this.keySerde.deserialize(keyBytes);
      const window = this.read(key, start, end, this.valueSerde?.deserialize(stored));
      if (window === undefined) continue;
      this.context.forward({
        key: { key, window: { start, end } },
        value: change(window.value, null),
        timestamp: window.timestamp,
        headers: record.headers,
      });
    }
    this.lastEmit = closeTime;
    const stamp = Buffer.allocUnsafe(8);
    stamp.writeBigInt64BE(BigInt(closeTime), 0);
    this.index.put(LAST_EMIT_KEY, stamp);
  }
}
