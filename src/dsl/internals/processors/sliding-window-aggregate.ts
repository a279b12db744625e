import type { ProcessorSupplier } from '../../../processor/processor-api.js';
import type { InternalProcessorContext } from '../../../processor/internals/internal-processor-context.js';
import type { StreamRecord } from '../../../processor/record.js';
import type { Windowed } from '../../../processor/windowed.js';
import type { ValueAndTimestamp } from '../../../stores/state-store.js';
import { windowStoreOf, type ManagedWindowStore } from '../../../stores/managed-store.js';
import type { SlidingWindows } from '../../sliding-windows.js';
import { change, type Change } from '../change.js';
import { forwardThroughCache } from './cached-forwarding.js';
import { NO_RECORD, type WindowCloseEmitter } from './window-close-emitter.js';
import type { Aggregator, Initializer } from './functions.js';

type Agg = ValueAndTimestamp<unknown> | undefined;

/**
 * Sliding-window aggregation, as Kafka Streams' KStreamSlidingWindowAggregate (with its reverse iterator):
 * each record creates its left window `[t - d, t]` (from the previous record's aggregate when that record
 * is within d), and the right window `[t + 1, t + 1 + d]` of itself and of the record before it when they
 * hold records, and adds itself to every existing window that contains it. Records before d go into the
 * window `[0, d]`. A window that ends before observed time - grace is not updated; a record whose own
 * window has closed is dropped as late. `initializer` undefined means reduce (the first value is the
 * aggregate).
 */
export function slidingWindowAggregate(
  storeName: string,
  windows: SlidingWindows,
  initializer: Initializer<unknown> | undefined,
  aggregator: Aggregator<unknown, unknown, unknown>,
  /** `onWindowClose`: final results only, emitted by this (made per task) instead of every update. */
  emitter?: () => WindowCloseEmitter,
  /** Whether the table sends old values (asked by a suppress or a table operator downstream); read at init. */
  sendOldValues: () => boolean = () => false,
): ProcessorSupplier<unknown, unknown, Windowed<unknown>, Change<unknown>> {
  const d = windows.timeDifferenceMs;
  // A reduce starts from no aggregate (Kafka Streams' reduceInitializer returns null).
  const init = (): unknown => (initializer === undefined ? null : initializer());
  const add: Aggregator<unknown, unknown, unknown> =
    initializer === undefined ? (k, v, agg) => (agg === null || agg === undefined ? v : aggregator(k, v, agg)) : aggregator;
  const make = (value: unknown, timestamp: number): Agg => (value === null || value === undefined ? undefined : { value, timestamp });
  return () => {
    let context!: InternalProcessorContext<Windowed<unknown>, Change<unknown>>;
    let store!: ManagedWindowStore;
    let observedStreamTime = Number.NEGATIVE_INFINITY;
    let forwardNow = true;
    let sendOld = false;
    const final = emitter?.();

    type Rec = StreamRecord<unknown, unknown>;

    /** Windows of the key starting in [from, to], latest first, with their aggregates. */
    const backwardFetch = (key: unknown, from: number, to: number): Array<{ start: number; agg: ValueAndTimestamp<unknown> }> =>
      store
        .fetchRange(key, from, to)
        .reverse()
        .map(({ key: start }) => ({ start, agg: store.fetchWithTimestamp(key, start)! }));

    // Kafka Streams' KStreamSlidingWindowAggregate: Change(new, sendOldValues ? old : null).
    const forward = (record: Rec, start: number, value: unknown, timestamp: number, old: unknown = null): void => {
      if (forwardNow) {
        context.forward({ ...record, key: { key: record.key, window: { start, end: start + d } }, value: change(value, sendOld ? old : null), timestamp });
      }
    };

    const updateWindowAndForward = (start: number, valueAndTime: Agg, record: Rec, closeTime: number): void => {
      if (start + d < closeTime) return;
      const oldAgg = valueAndTime?.value ?? null;
      const newAgg = add(record.key, record.value, oldAgg);
      const timestamp = oldAgg === null ? record.timestamp : Math.max(record.timestamp, valueAndTime!.timestamp);
      store.putWithTimestamp(record.key, newAgg ?? null, start, timestamp);
      final?.track(record.key, start);
      forward(record, start, newAgg, timestamp, oldAgg);
    };

    const createCurrentRecordRightWindow = (t: number, rightWinAgg: ValueAndTimestamp<unknown>, record: Rec): void => {
      store.putWithTimestamp(record.key, rightWinAgg.value, t + 1, rightWinAgg.timestamp);
      final?.track(record.key, t + 1);
      forward(record, t + 1, rightWinAgg.value, rightWinAgg.timestamp);
    };

    const createPreviousRecordRightWindow = (start: number, record: Rec, closeTime: number): void =>
      updateWindowAndForward(start, make(init(), record.timestamp), record, closeTime);

    const rightWindowIsNotEmpty = (rightWinAgg: Agg, t: number): rightWinAgg is ValueAndTimestamp<unknown> =>
      rightWinAgg !== undefined && rightWinAgg.timestamp > t;

    const createWindows = (
      record: Rec,
      closeTime: number,
      starts: Set<number>,
      rightWinAgg: Agg,
      leftWinAgg: Agg,
      leftWinAlreadyCreated: boolean,
      rightWinAlreadyCreated: boolean,
      previousRecordTimestamp: number | undefined,
    ): void => {
      const t = record.timestamp;
      if (previousRecordTimestamp !== undefined) {
        const previousRightStart = previousRecordTimestamp + 1;
        if (!starts.has(previousRightStart) && previousRightStart + d >= t) createPreviousRecordRightWindow(previousRightStart, record, closeTime);
      }
      if (!leftWinAlreadyCreated) {
        const leftNotEmpty = previousRecordTimestamp !== undefined && t - d <= previousRecordTimestamp;
        const valueAndTime = leftNotEmpty ? make(leftWinAgg!.value, t) : make(init(), t);
        updateWindowAndForward(t - d, valueAndTime, record, closeTime);
      }
      if (!rightWinAlreadyCreated && rightWindowIsNotEmpty(rightWinAgg, t)) createCurrentRecordRightWindow(t, rightWinAgg, record);
    };

    const processReverse = (record: Rec, closeTime: number): void => {
      const t = record.timestamp;
      const starts = new Set<number>();
      let leftWinAgg: Agg;
      let rightWinAgg: Agg;
      let leftWinAlreadyCreated = false;
      let rightWinAlreadyCreated = false;
      let previousRecordTimestamp: number | undefined;
      for (const { start, agg } of backwardFetch(record.key, Math.max(0, t - 2 * d), t + 1)) {
        starts.add(start);
        const end = start + d;
        if (start === t + 1) {
          rightWinAlreadyCreated = true;
        } else if (end > t) {
          rightWinAgg ??= agg;
          updateWindowAndForward(start, agg, record, closeTime);
        } else if (end === t) {
          leftWinAlreadyCreated = true;
          updateWindowAndForward(start, agg, record, closeTime);
          if (agg.timestamp < t) previousRecordTimestamp = agg.timestamp;
          else return;
        } else {
          leftWinAgg = agg;
          previousRecordTimestamp = agg.timestamp;
          break;
        }
      }
      createWindows(record, closeTime, starts, rightWinAgg, leftWinAgg, leftWinAlreadyCreated, rightWinAlreadyCreated, previousRecordTimestamp);
    };

    /** Records before d: their left window would start before 0, so they go into [0, d]. */
    const processEarly = (record: Rec, closeTime: number): void => {
      const t = record.timestamp;
      let combined: { start: number; agg: ValueAndTimestamp<unknown> } | undefined;
      let rightWinAgg: Agg;
      let rightWinAlreadyCreated = false;
      const starts = new Set<number>();
      let previousRecordTimestamp: number | undefined;
      const found = backwardFetch(record.key, 0, t + 1).reverse();
      for (const window of found) {
        const { start, agg } = window;
        starts.add(start);
        if (start === 0) {
          combined = window;
          if (agg.timestamp < t) previousRecordTimestamp = agg.timestamp;
        } else if (start <= t) {
          rightWinAgg = agg;
          updateWindowAndForward(start, agg, record, closeTime);
        } else if (start === t + 1) {
          rightWinAlreadyCreated = true;
        }
      }
      if (rightWinAgg === undefined && combined !== undefined && combined.agg.timestamp > t) rightWinAgg = combined.agg;
      if (!rightWinAlreadyCreated && rightWindowIsNotEmpty(rightWinAgg, t)) createCurrentRecordRightWindow(t, rightWinAgg, record);
      if (previousRecordTimestamp !== undefined && !starts.has(previousRecordTimestamp + 1)) {
        createPreviousRecordRightWindow(previousRecordTimestamp + 1, record, closeTime);
      }
      if (combined === undefined) updateWindowAndForward(0, make(init(), t), record, closeTime);
      else updateWindowAndForward(combined.start, combined.agg, record, closeTime);
    };

    return {
      init(ctx) {
        context = ctx as InternalProcessorContext<Windowed<unknown>, Change<unknown>>;
        store = windowStoreOf(context.getStateStore(storeName));
        observedStreamTime = context.currentStreamTimeMs();
        if (final !== undefined) {
          final.init(context, (key, start) => store.fetchWithTimestamp(key, start));
          forwardNow = false;
          // Event-time mode: windows close when the bound rises without a record too.
          const eventTime = context.eventTime;
          eventTime?.onAdvance(() => final.maybeEmit(NO_RECORD, eventTime.streamTime(observedStreamTime) - windows.gracePeriodMs));
        } else {
          sendOld = sendOldValues();
          forwardNow = !forwardThroughCache(store, context, sendOld);
        }
      },
      process(record) {
        if (record.key === null || record.key === undefined || record.value === null || record.value === undefined) {
          context.recordDropped('null-key', 'null key or value');
          return;
        }
        if (record.timestamp > observedStreamTime) observedStreamTime = record.timestamp;
        // Event-time mode: never ahead of the slowest upstream task (see EventTimeView).
        const closeTime = (context.eventTime === undefined ? observedStreamTime : context.eventTime.streamTime(observedStreamTime)) - windows.gracePeriodMs;
        if (record.timestamp + d < closeTime) {
          context.recordLate(
            { reason: 'window-closed', store: storeName, start: Math.max(0, record.timestamp - d), end: record.timestamp + d, streamTime: closeTime + windows.gracePeriodMs, closeTime },
            `window [${record.timestamp},${record.timestamp + d}] closed at ${closeTime}`,
          );
          return;
        }
        // As Kafka Streams: an early record (before d) never triggers the emission of closed windows.
        if (record.timestamp < d) {
          processEarly(record, closeTime);
          return;
        }
        processReverse(record, closeTime);
        final?.maybeEmit(record, closeTime);
      },
    };
  };
}
