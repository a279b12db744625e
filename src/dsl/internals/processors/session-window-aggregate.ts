import type { ProcessorSupplier } from '../../../processor/processor-api.js';
import type { KeyValue } from '../../../processor/record.js';
import type { Windowed } from '../../../processor/windowed.js';
import type { SessionWindows } from '../../windows.js';
import { sessionStoreOf, type ManagedSessionStore } from '../../../stores/managed-store.js';
import { Segments } from '../../../stores/segments.js';
import type { InternalProcessorContext } from '../../../processor/internals/internal-processor-context.js';
import { change } from '../change.js';
import { forwardThroughCache } from './cached-forwarding.js';
import type { Aggregator, Initializer, Merger } from './functions.js';
import { NO_RECORD, type WindowCloseEmitter } from './window-close-emitter.js';

/**
 * Session-window aggregation, with Kafka Streams' semantics (KStreamSessionWindowAggregate):
 * for a record of key k at time t, every stored session of k with end >= t - gap and start <= t + gap is
 * merged with the new window [t, t]: the merger folds their aggregates into the initializer's value, and the
 * window becomes [min start, max end]. If that window ends before stream time - grace - gap, the record is
 * late and dropped with nothing changed. Otherwise the aggregator runs, then the merged-away sessions are
 * removed and a tombstone is forwarded for each, then the new session is stored and forwarded with the
 * aggregator's result. (Kafka Streams removes the merged sessions before it calls the aggregator.)
 * Output timestamps are the session's end. With `emitter` (`onWindowClose`), nothing of that is forwarded:
 * each session is emitted once, final, when its end + grace + gap is behind stream time, and a session merged
 * away before then never is (KStreamSessionWindowAggregate's emit-final path).
 */
export function sessionWindowAggregate(
  storeName: string,
  windows: SessionWindows,
  initializer: Initializer<unknown>,
  aggregator: Aggregator<unknown, unknown, unknown>,
  merger: Merger<unknown, unknown>,
  /** `onWindowClose`: final results only, emitted by this (made per task) instead of every update. */
  emitter?: () => WindowCloseEmitter,
  /** Whether the table sends old values (asked by a suppress or a table operator downstream); read at init. */
  sendOldValues: () => boolean = () => false,
): ProcessorSupplier<unknown, unknown, Windowed<unknown>, unknown> {
  const gap = windows.inactivityGapMs;
  const grace = windows.gracePeriodMs;
  const maxLength = windows.maxLengthMs;
  return () => {
    let context!: InternalProcessorContext<Windowed<unknown>, unknown>;
    let store!: ManagedSessionStore;
    let observedStreamTime = Number.NEGATIVE_INFINITY;
    let forwardNow = true;
    let sendOld = false;
    const final = emitter?.();
    return {
      init(ctx) {
        context = ctx as InternalProcessorContext<Windowed<unknown>, unknown>;
        store = sessionStoreOf(context.getStateStore(storeName));
        observedStreamTime = context.currentStreamTimeMs();
        if (final !== undefined) {
          // Kafka Streams reads closed sessions from its time-ordered store by a range of ends, which skips
          // only sessions whose whole segment was dropped (not each expired session, as a key's lookup does).
          const segments = new Segments(store.definition.retentionMs ?? Number.POSITIVE_INFINITY);
          final.init(context, (_key, _start, end, value) =>
            segments.segmentOf(end) < segments.minLiveSegment(store.observedTime()) ? undefined : { value, timestamp: end },
          );
          forwardNow = false;
          // Event-time mode: sessions close when the bound rises without a record too.
          const eventTime = context.eventTime;
          eventTime?.onAdvance(() => final.maybeEmit(NO_RECORD, eventTime.streamTime(observedStreamTime) - grace - gap));
        } else {
          // Kafka Streams' KStreamSessionWindowAggregate: a merged-away session's tombstone carries its value as
          // the old one when old values are sent; a new session never has one.
          sendOld = sendOldValues();
          forwardNow = !forwardThroughCache(store, context as never, sendOld);
        }
      },
      process(record) {
        const key = record.key;
        if (key === null || key === undefined) {
          context.recordDropped('null-key', 'session aggregation needs a key');
          return;
        }
        const t = record.timestamp;
        if (t > observedStreamTime) observedStreamTime = t;
        // Event-time mode: never ahead of the slowest upstream task (see EventTimeView).
        const streamTime = context.eventTime === undefined ? observedStreamTime : context.eventTime.streamTime(observedStreamTime);
        const closeTime = streamTime - grace - gap;

        let found: KeyValue<Windowed<unknown>, unknown>[] = store.findSessions(key, t - gap, t + gap);
        if (found.length > 0 && maxLength !== Number.POSITIVE_INFINITY) found = withinMaxLength(found, t, maxLength);
        let start = t;
        let end = t;
        let aggregate = initializer();
        for (const session of found) {
          aggregate = merger(key, aggregate, session.value);
          if (session.key.window.start < start) start = session.key.window.start;
          if (session.key.window.end > end) end = session.key.window.end;
        }
        if (end < closeTime) {
          context.recordLate(
            { reason: 'session-closed', store: storeName, start, end, streamTime, closeTime },
            `window [${start},${end}] closed at ${closeTime} (stream time ${streamTime})`,
          );
          final?.maybeEmit(record, closeTime);
          return;
        }
        // Every user function runs before the store changes: if one throws (and the record is dead-lettered),
        // the merged sessions are still there, as if the record had never arrived.
        aggregate = aggregator(key, record.value, aggregate);
        if (start !== t || end !== t) {
          for (const session of found) {
            store.remove(session.key);
            final?.untrack(key, session.key.window.start, session.key.window.end);
            if (forwardNow) context.forward({ key: session.key, value: change(null, sendOld ? session.value : null), timestamp: session.key.window.end, headers: record.headers });
          }
        }
        const sessionKey: Windowed<unknown> = { key, window: { start, end } };
        // A null aggregate (a reduce whose values so far are null) is stored as nothing, and forwarded as a
        // tombstone, as Kafka Streams' put of a null session does.
        if (aggregate === null || aggregate === undefined) {
          store.remove(sessionKey);
          final?.untrack(key, start, end);
        } else {
          store.put(sessionKey, aggregate);
          final?.track(key, start, end, aggregate);
        }
        if (forwardNow) context.forward({ key: sessionKey, value: change(aggregate, null), timestamp: end, headers: record.headers });
        final?.maybeEmit(record, closeTime);
      },
    };
  };
}

/**
 * The sessions (found within the gap of a record at `t`, by end time) the record merges with under a maximum
 * session length (SessionWindows.withMaxLength, our extension): all of them if the merged session fits,
 * else the one it falls in, else the nearest earlier one that fits, else the nearest later one, else none.
 */
function withinMaxLength(found: KeyValue<Windowed<unknown>, unknown>[], t: number, maxLength: number): KeyValue<Windowed<unknown>, unknown>[] {
  let start = t;
  let end = t;
  for (const { key } of found) {
    if (key.window.start < start) start = key.window.start;
    if (key.window.end > end) end = key.window.end;
  }
  if (end - start <= maxLength) return found;
  let earlier: KeyValue<Windowed<unknown>, unknown> | undefined;
  let later: KeyValue<Windowed<unknown>, unknown> | undefined;
  for (const session of found) {
    const { start: s, end: e } = session.key.window;
    if (s <= t && t <= e) return [session];
    if (e < t && t - s <= maxLength && (earlier === undefined || e > earlier.key.window.end)) earlier = session;
    if (s > t && e - t <= maxLength && (later === undefined || s < later.key.window.start)) later = session;
  }
  const chosen = earlier ?? later;
  return chosen === undefined ? [] : [chosen];
}
