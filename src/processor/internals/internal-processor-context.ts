import type { ProcessorContext } from '../processor-api.js';

/** Why a processor dropped a record on purpose. */
export type DropReason = 'late' | 'null-key' | 'invalid-timestamp';

/** Why a record is late: the kind of window it came too late for. */
export type LateReason = 'session-closed' | 'window-closed';

/**
 * The window or session a late record missed, as the processor that found it late saw it: what a late
 * record routed to the late-records topic says about itself in its headers.
 */
export interface MissedWindow {
  readonly reason: LateReason;
  /** The store of the aggregation that refused the record. */
  readonly store: string;
  /**
   * The window it missed: for a session, the session it would have formed with the sessions still stored;
   * for hopping windows, from the start of the first window it missed to the end of the last; for sliding
   * windows, the span of the windows it would have belonged to.
   */
  readonly start: number;
  readonly end: number;
  /** The aggregation's stream time when the record arrived. */
  readonly streamTime: number;
  /** Windows (sessions) ending before this had closed: stream time - grace (- gap for sessions). */
  readonly closeTime: number;
}

/** What internal (DSL) processors may do beyond the public context. */
export interface InternalProcessorContext<K, V> extends ProcessorContext<K, V> {
  /** Counts a record the processor drops (late, null key), and logs it rate-limited. */
  recordDropped(reason: DropReason, detail: string): void;
  /**
   * A record that came too late for its window: dropped and counted as `recordDropped('late', detail)` does,
   * or, with a late-records topic (StreamsConfig `lateRecords`), sent there as it was read, with headers
   * naming `missed`, and counted as routed.
   */
  recordLate(missed: MissedWindow, detail: string): void;
  /**
   * How often (wall-clock ms) a stream-stream left/outer join looks for records whose window closed without
   * a partner, and an `onWindowClose` aggregation for closed windows: Kafka Streams' internal
   * `emit.interval.ms.kstreams.outer.join.spurious.results.fix` and `emit.interval.ms.kstreams.windowed.aggregation`,
   * 1000 by default, 0 in the TopologyTestDriver (every record).
   */
  readonly emitIntervalMs?: number;
  /** The event-time mode's clock (StreamsConfig.eventTime); undefined when off, and then nothing changes. */
  readonly eventTime?: EventTimeView;
}

/**
 * The event-time mode's clock of a task (StreamsConfig.eventTime), as processors see it. Contract: `streamTime`
 * is non-decreasing in `observed` and over time; a processor that keeps its own observed stream time (the
 * largest timestamp it saw, as Kafka Streams' windowed processors do) decides lateness and closes by
 * `streamTime(observed)` instead.
 */
export interface EventTimeView {
  /** The stream time to work with: `observed` raised by idle advance, never ahead of the slowest upstream task. */
  streamTime(observed: number): number;
  /** `listener` runs (with the processor's context current) whenever the bound rose without a record. */
  onAdvance(listener: () => void): void;
}
