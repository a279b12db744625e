import { ConfigError } from '../errors/errors.js';

/**
 * Sliding windows (Kafka Streams' SlidingWindows): for each key, one window `[t - timeDifference, t]` ending
 * at each record and one starting just after it, so that every distinct set of records at most
 * `timeDifferenceMs` apart is aggregated exactly once. Records up to `graceMs` late still count.
 */
export class SlidingWindows {
  private constructor(
    /** The largest timestamp difference (ms) between records of one window; also each window's size. */
    readonly timeDifferenceMs: number,
    /** How long (ms) after a window ends out-of-order records still update it; later ones are dropped. */
    readonly gracePeriodMs: number,
  ) {}

  /**
   * Sliding windows of `timeDifferenceMs` that accept records up to `graceMs` late (Kafka Streams'
   * `SlidingWindows.ofTimeDifferenceAndGrace`).
   *
   * @param timeDifferenceMs - the window size, in ms (>= 0)
   * @param graceMs - how long out-of-order records are still accepted, in ms (>= 0)
   * @throws ConfigError if either value is negative or not finite
   * @example
   * ```ts
   * // per user, the number of events within any 5 minutes, accepting 30 s of disorder
   * events.groupByKey().windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(300_000, 30_000)).count();
   * ```
   */
  static ofTimeDifferenceAndGrace(timeDifferenceMs: number, graceMs: number): SlidingWindows {
    if (!Number.isFinite(timeDifferenceMs) || timeDifferenceMs < 0) {
      throw new ConfigError(`time difference must be a finite number of ms >= 0, got ${timeDifferenceMs}`);
    }
    if (!Number.isFinite(graceMs) || graceMs < 0) throw new ConfigError(`grace period must be a finite number of ms >= 0, got ${graceMs}`);
    return new SlidingWindows(timeDifferenceMs, graceMs);
  }

  /**
   * Sliding windows of `timeDifferenceMs` without grace: records arriving after their windows have closed
   * are dropped (Kafka Streams' `SlidingWindows.ofTimeDifferenceWithNoGrace`).
   *
   * @param timeDifferenceMs - the window size, in ms (>= 0)
   * @throws ConfigError if the value is negative or not finite
   */
  static ofTimeDifferenceWithNoGrace(timeDifferenceMs: number): SlidingWindows {
    return SlidingWindows.ofTimeDifferenceAndGrace(timeDifferenceMs, 0);
  }

  /** A window's size: its end minus its start (both included). */
  get sizeMs(): number {
    return this.timeDifferenceMs;
  }

  /** Kafka Streams' retention of a sliding-window store: grace + 2 × time difference. */
  defaultRetentionMs(): number {
    return this.gracePeriodMs + 2 * this.timeDifferenceMs;
  }
}
