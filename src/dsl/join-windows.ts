import { ConfigError } from '../errors/errors.js';

/**
 * The time bounds of a stream-stream join (Kafka Streams' JoinWindows): a record joins the other stream's
 * records of its key whose timestamps are at most `beforeMs` earlier and `afterMs` later. Records up to
 * `gracePeriodMs` out of order still join; a left or outer join emits a record without a partner once its
 * window and grace have passed (Kafka Streams 3.1+: no early, spurious null results).
 */
export class JoinWindows {
  private constructor(
    /** How much earlier (ms) the other stream's records may be and still join. */
    readonly beforeMs: number,
    /** How much later (ms) the other stream's records may be and still join. */
    readonly afterMs: number,
    /** How long (ms) after a window ends out-of-order records are still joined; later ones are dropped. */
    readonly gracePeriodMs: number,
  ) {}

  /**
   * A symmetric window: records join when their timestamps differ by at most `timeDifferenceMs`, and
   * records up to `graceMs` late still join (Kafka Streams' `JoinWindows.ofTimeDifferenceAndGrace`).
   *
   * @param timeDifferenceMs - the largest timestamp difference that still joins, in ms (>= 0)
   * @param graceMs - how long out-of-order records are still accepted, in ms (>= 0)
   * @throws ConfigError if either value is negative or not finite
   * @example
   * ```ts
   * // clicks join the views of the same key at most 1 minute apart, accepting 10 s of disorder
   * views.join(clicks, (view, click) => ({ view, click }), JoinWindows.ofTimeDifferenceAndGrace(60_000, 10_000));
   * ```
   */
  static ofTimeDifferenceAndGrace(timeDifferenceMs: number, graceMs: number): JoinWindows {
    const check = (value: number, what: string): number => {
      if (!Number.isFinite(value) || value < 0) throw new ConfigError(`${what} must be a finite number of ms >= 0, got ${value}`);
      return value;
    };
    const difference = check(timeDifferenceMs, 'time difference');
    return new JoinWindows(difference, difference, check(graceMs, 'grace period'));
  }

  /**
   * A symmetric window without grace: records arriving after their window has closed are dropped
   * (Kafka Streams' `JoinWindows.ofTimeDifferenceWithNoGrace`).
   *
   * @param timeDifferenceMs - the largest timestamp difference that still joins, in ms (>= 0)
   * @throws ConfigError if the value is negative or not finite
   */
  static ofTimeDifferenceWithNoGrace(timeDifferenceMs: number): JoinWindows {
    return JoinWindows.ofTimeDifferenceAndGrace(timeDifferenceMs, 0);
  }

  /** Joins records of the other stream up to `timeDifferenceMs` earlier (keeps `afterMs`). */
  before(timeDifferenceMs: number): JoinWindows {
    if (timeDifferenceMs + this.afterMs < 0) throw new ConfigError('the join window (before + after) must not be negative');
    return new JoinWindows(timeDifferenceMs, this.afterMs, this.gracePeriodMs);
  }

  /** Joins records of the other stream up to `timeDifferenceMs` later (keeps `beforeMs`). */
  after(timeDifferenceMs: number): JoinWindows {
    if (this.beforeMs + timeDifferenceMs < 0) throw new ConfigError('the join window (before + after) must not be negative');
    return new JoinWindows(this.beforeMs, timeDifferenceMs, this.gracePeriodMs);
  }

  /** before + after: the size of the windows its stores keep. */
  get sizeMs(): number {
    return this.beforeMs + this.afterMs;
  }
}
