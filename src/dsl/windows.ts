import { ConfigError } from '../errors/errors.js';

function nonNegative(value: number, what: string): number {
  if (!Number.isFinite(value) || value < 0) throw new ConfigError(`${what} must be a finite number of ms >= 0, got ${value}`);
  return value;
}

function positive(value: number, what: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(`${what} must be a finite number of ms > 0, got ${value}`);
  return value;
}

/**
 * Session windows: a session of one key grows while its records are less than `inactivityGapMs` apart.
 * Records up to `graceMs` (plus the gap) behind stream time still join their session; later ones are dropped.
 */
export class SessionWindows {
  private constructor(
    /** Records of a key this close in event time belong to one session. */
    readonly inactivityGapMs: number,
    /** How long after a session's end (in stream time) records may still join it. */
    readonly gracePeriodMs: number,
    /** The longest a session may span (end - start); Infinity: no cap (Kafka Streams' sessions). See withMaxLength. */
    readonly maxLengthMs: number = Number.POSITIVE_INFINITY,
  ) {}

  /**
   * Caps sessions at `maxLengthMs` from first to last record (our extension, not in Kafka Streams; web
   * analytics cuts sessions, e.g. at 4 hours): a record joins a session only while the session then spans
   * at most `maxLengthMs`; a view that would stretch it further starts a new session, which the next views
   * join. A record that could merge several sessions merges them all if the result fits, else joins the one
   * it falls in, else the nearest earlier one that fits, else the nearest later one, else starts its own:
   * with the cap, out-of-order records near it can give other sessions than the same records in order.
   * E.g. `SessionWindows.ofInactivityGapAndGrace(30 * 60_000, 60_000).withMaxLength(4 * 3_600_000)`.
   */
  withMaxLength(maxLengthMs: number): SessionWindows {
    return new SessionWindows(this.inactivityGapMs, this.gracePeriodMs, nonNegative(maxLengthMs, 'maximum session length'));
  }

  /** Sessions that end after `inactivityGapMs` without a record, accepting records up to `graceMs` late, e.g. `SessionWindows.ofInactivityGapAndGrace(30 * 60_000, 5 * 60_000)`. */
  static ofInactivityGapAndGrace(inactivityGapMs: number, graceMs: number): SessionWindows {
    return new SessionWindows(positive(inactivityGapMs, 'inactivity gap'), nonNegative(graceMs, 'grace period'));
  }

  /** Sessions with no grace: a record behind stream time by more than the gap is dropped as late. */
  static ofInactivityGapWithNoGrace(inactivityGapMs: number): SessionWindows {
    return SessionWindows.ofInactivityGapAndGrace(inactivityGapMs, 0);
  }

  /** How long a session store must keep a session by default: gap + grace (Kafka Streams' default). */
  defaultRetentionMs(): number {
    return this.inactivityGapMs + this.gracePeriodMs;
  }
}

/**
 * Fixed-size time windows, tumbling (advance = size) or hopping (`advanceBy(hop)`). Windows are aligned to the
 * epoch: a window starts at a multiple of the advance and covers `[start, start + size)`.
 */
export class TimeWindows {
  private constructor(
    /** The length of a window. */
    readonly sizeMs: number,
    /** How far each window starts after the previous one (= size: tumbling). */
    readonly advanceMs: number,
    /** How long after a window's end (in stream time) records may still join it. */
    readonly gracePeriodMs: number,
  ) {}

  /** Tumbling windows of `sizeMs`, accepting records up to `graceMs` late, e.g. `TimeWindows.ofSizeAndGrace(60_000, 10_000)`. */
  static ofSizeAndGrace(sizeMs: number, graceMs: number): TimeWindows {
    const size = positive(sizeMs, 'window size');
    return new TimeWindows(size, size, nonNegative(graceMs, 'grace period'));
  }

  /** Tumbling windows of `sizeMs` with no grace: records for a closed window are dropped as late. */
  static ofSizeWithNoGrace(sizeMs: number): TimeWindows {
    return TimeWindows.ofSizeAndGrace(sizeMs, 0);
  }

  /** Hopping windows: a new window every `hopMs`, which must be > 0 and <= the size. */
  advanceBy(hopMs: number): TimeWindows {
    const hop = positive(hopMs, 'advance');
    if (hop > this.sizeMs) throw new ConfigError(`advance (${hop} ms) must not exceed the window size (${this.sizeMs} ms)`);
    return new TimeWindows(this.sizeMs, hop, this.gracePeriodMs);
  }

  /** Starts of every window that contains `timestamp`, oldest first. */
  windowStartsFor(timestamp: number): number[] {
    const starts: number[] = [];
    const lastStart = timestamp - (((timestamp % this.advanceMs) + this.advanceMs) % this.advanceMs);
    for (let start = lastStart; start > timestamp - this.sizeMs; start -= this.advanceMs) {
      if (start >= 0) starts.push(start);
    }
    return starts.reverse();
  }

  /** Default retention: size + grace. */
  defaultRetentionMs(): number {
    return this.sizeMs + this.gracePeriodMs;
  }
}
