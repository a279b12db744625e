import type { InternalProcessorContext } from '../../../processor/internals/internal-processor-context.js';
import type { StreamRecord } from '../../../processor/record.js';
import type { Windowed } from '../../../processor/windowed.js';
import type { Serde } from '../../../serdes/serde.js';
import type { KeyValueStore, TimestampedWindowStore } from '../../../stores/state-store.js';
import { change, type Change } from '../change.js';

/** Kafka Streams' default interval of final-result emission (wall clock), 1 s; the TopologyTestDriver uses 0. */
const EMIT_INTERVAL_MS = 1000;

/** The index key of the last close time emitted: after every `[start][key]` entry (starts are >= 0). */
const LAST_EMIT_KEY = Buffer.from([0xff]);

export interface EmitBounds {
  /** The first window start to emit, given the last close time emitted (undefined: never). */
  lower(lastEmitCloseTime: number | undefined): number;
  /** The last window start to emit at `closeTime`. */
  upper(closeTime: number): number;
  /** False when no window can have closed since the last emit (time windows). */
  shouldFetch(lower: number, upper: number, lastEmitCloseTime: number | undefined): boolean;
}

/**
 * `emitStrategy(EmitStrategy.onWindowClose())` of a windowed aggregation (Kafka Streams'
 * AbstractKStreamTimeWindowAggregateProcessor#maybeForwardFinalResult): when the close time (observed time
 * - grace) has moved on, every window whose start is in the new closed range is emitted once, with its
 * aggregate and timestamp, ordered by start and then by key bytes, as Kafka Streams' time-ordered window
 * store lists them. The windows written are indexed in a logged in-memory store (`[start][key]`, and the
 * last close time emitted), as the window store itself cannot be scanned across keys.
 */
export class WindowCloseEmitter {
  private context!: InternalProcessorContext<Windowed<unknown>, Change<unknown>>;
  private store!: TimestampedWindowStore<unknown, unknown>;
  private index!: KeyValueStore<Buffer, Buffer>;
  private lastEmit: number | undefined;
  private nextTimeToEmit = 0;

  constructor(
    private readonly indexStoreName: string,
    private readonly keySerde: Serde<unknown>,
    private readonly windowSizeMs: number,
    private readonly bounds: EmitBounds,
  ) {}

  init(context: InternalProcessorContext<Windowed<unknown>, Change<unknown>>, store: TimestampedWindowStore<unknown, unknown>): void {
    this.context = context;
    this.store = store;
    this.index = context.getStateStore(this.indexStoreName);
    const last = this.index.get(LAST_EMIT_KEY);
    this.lastEmit = last === undefined ? undefined : Number(last.readBigInt64BE(0));
  }

  /** A window of `key` starting at `start` was written. */
  track(key: unknown, start: number): void {
    const keyBytes = this.keySerde.serialize(key);
    const entry = Buffer.allocUnsafe(8 + keyBytes.length);
    entry.writeBigInt64BE(BigInt(start), 0);
    keyBytes.copy(entry, 8);
    this.index.put(entry, Buffer.alloc(0));
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
    for (const { key: entry } of this.index.all()) {
      if (entry.length < 8) continue;
      const start = Number(entry.readBigInt64BE(0));
      if (start > upper) break;
      this.index.delete(entry);
      if (start < lower) continue;
      const key = this.keySerde.deserialize(entry.subarray(8));
      const window = this.store.fetchWithTimestamp(key, start);
      if (window === undefined) continue;
      this.context.forward({
        key: { key, window: { start, end: start + this.windowSizeMs } },
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
