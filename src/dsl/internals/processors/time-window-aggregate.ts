import type { ProcessorSupplier } from '../../../processor/processor-api.js';
import type { Windowed } from '../../../processor/windowed.js';
import type { TimeWindows } from '../../windows.js';
import { windowStoreOf, type ManagedWindowStore } from '../../../stores/managed-store.js';
import type { InternalProcessorContext } from '../../../processor/internals/internal-processor-context.js';
import { change } from '../change.js';
import { forwardThroughCache } from './cached-forwarding.js';
import { NO_RECORD, type WindowCloseEmitter } from './window-close-emitter.js';
import type { Aggregator, Initializer } from './functions.js';

/**
 * Time-window aggregation (tumbling or hopping), as Kafka Streams' KStreamWindowAggregate: a record updates
 * every window that contains it whose end is after stream time - grace; for a window already closed the
 * record is dropped as late (counted once per record).
 */
export function timeWindowAggregate(
  storeName: string,
  windows: TimeWindows,
  initializer: Initializer<unknown> | undefined,
  aggregator: Aggregator<unknown, unknown, unknown>,
  /** `onWindowClose`: final results only, emitted by this (made per task) instead of every update. */
  emitter?: () => WindowCloseEmitter,
  /** Whether the table sends old values (asked by a suppress or a table operator downstream); read at init. */
  sendOldValues: () => boolean = () => false,
): ProcessorSupplier<unknown, unknown, Windowed<unknown>, unknown> {
  return () => {
    let sendOld = false;
    let context!: InternalProcessorContext<Windowed<unknown>, unknown>;
    let store!: ManagedWindowStore;
    let observedStreamTime = Number.NEGATIVE_INFINITY;
    let forwardNow = true;
    const final = emitter?.();
    return {
      init(ctx) {
        context = ctx as InternalProcessorContext<Windowed<unknown>, unknown>;
        store = windowStoreOf(context.getStateStore(storeName));
        observedStreamTime = context.currentStreamTimeMs();
        if (final !== undefined) {
          final.init(context, (key, start) => store.fetchWithTimestamp(key, start));
          forwardNow = false;
          // Event-time mode: windows close when the bound rises without a record too.
          const eventTime = context.eventTime;
          eventTime?.onAdvance(() => final.maybeEmit(NO_RECORD, eventTime.streamTime(observedStreamTime) - windows.gracePeriodMs));
        } else {
          // Kafka Streams' KStreamWindowAggregate: Change(new, sendOldValues ? old : null).
          sendOld = sendOldValues();
          forwardNow = !forwardThroughCache(store, context as never, sendOld);
        }
      },
      process(record) {
        const key = record.key;
        // Kafka Streams 3.9 (KStreamWindowAggregate) drops only null keys here: a null value reaches the
        // aggregator (count counts it, reduce takes it), unlike the non-windowed aggregations.
        if (key === null || key === undefined) {
          context.recordDropped('null-key', 'null key');
          return;
        }
        const t = record.timestamp;
        if (t > observedStreamTime) observedStreamTime = t;
        // Event-time mode: never ahead of the slowest upstream task (see EventTimeView).
        const closeTime = (context.eventTime === undefined ? observedStreamTime : context.eventTime.streamTime(observedStreamTime)) - windows.gracePeriodMs;
        // The windows it came too late for (hopping windows: maybe some, not all), from first start to last end.
        let missed: { start: number; end: number } | undefined;
        // The aggregator runs for every window first: if it throws for one, no window has changed.
        const updates: Array<{ start: number; end: number; value: unknown; old: unknown; timestamp: number }> = [];
        for (const start of windows.windowStartsFor(t)) {
          const end = start + windows.sizeMs;
          if (end <= closeTime) {
            missed = { start: Math.min(start, missed?.start ?? start), end: Math.max(end, missed?.end ?? end) };
            continue;
          }
          const stored = store.fetchWithTimestamp(key, start);
          // A new window's old value is the initializer's value (null for reduce), as Kafka Streams'
          // KStreamWindowAggregate sends it: a suppression buffer counts its bytes (count: 8 for 0L).
          const old = stored === undefined ? (initializer === undefined ? null : initializer()) : stored.value;
          const next = stored === undefined && initializer === undefined ? record.value : aggregator(key, record.value, old);
          // Stamped with the largest timestamp in the window, as Kafka Streams' KStreamWindowAggregate does.
          updates.push({ start, end, value: next, old: old ?? null, timestamp: stored === undefined ? t : Math.max(t, stored.timestamp) });
        }
        for (const { start, end, value, old, timestamp } of updates) {
          store.putWithTimestamp(key, value ?? null, start, timestamp);
          final?.track(key, start);
          if (forwardNow) context.forward({ key: { key, window: { start, end } }, value: change(value, sendOld ? old : null), timestamp, headers: record.headers });
        }
        if (missed !== undefined) {
          context.recordLate(
            { reason: 'window-closed', store: storeName, start: missed.start, end: missed.end, streamTime: closeTime + windows.gracePeriodMs, closeTime },
            `a window of ${t} closed at ${closeTime}`,
          );
        }
        final?.maybeEmit(record, closeTime);
      },
    };
  };
}
