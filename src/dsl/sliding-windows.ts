import { ConfigError } from '../errors/errors.js';

/**
 * Sliding windows (Kafka Streams' SlidingWindows): for each key, one window `[t - timeDifference, t]` ending
 * at each record and one starting just after it, so that every distinct set of records at most
 * `timeDifferenceMs` apart is aggregated exactly once. Records up to `graceMs` late still count.
 */
export class SlidingWindows {
  private constructor(
    readonly timeDifferenceMs: number,
    readonly gracePeriodMs: number,
  ) {}

  static ofTimeDifferenceAndGrace(timeDifferenceMs: number, graceMs: number): SlidingWindows {
    if (!Number.isFinite(timeDifferenceMs) || timeDifferenceMs < 0) {
      throw new ConfigError(`time difference must be a finite number of ms >= 0, got ${timeDifferenceMs}`);
    }
    if (!Number.isFinite(graceMs) || graceMs < 0) throw new ConfigError(`grace period must be a finite number of ms >= 0, got ${graceMs}`);
    return new SlidingWindows(timeDifferenceMs, graceMs);
  }

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
