import { ConfigError } from '../errors/errors.js';

/**
 * What a suppression buffer does when it holds more than its limits: emit its oldest records early
 * (`emitEarly`), or stop the application with an error (`shutDown`). Kafka Streams' BufferFullStrategy.
 */
export type BufferFullStrategy = 'emitEarly' | 'shutDown';

const checkLimit = (what: string, limit: number): number => {
  if (!(limit === Number.POSITIVE_INFINITY || (Number.isSafeInteger(limit) && limit >= 0))) {
    throw new ConfigError(`a suppression buffer's ${what} must be an integer >= 0 (or Infinity), got ${limit}`);
  }
  return limit;
};

/**
 * The bounds of a suppression buffer (Kafka Streams' `Suppressed.BufferConfig`): at most `recordLimit` keys
 * and `byteLimit` bytes, counted as Kafka Streams counts them (see suppression-buffer.ts), and what happens
 * beyond them. Start from `BufferConfig.maxRecords(n)`, `BufferConfig.maxBytes(n)` (both emit early when
 * full, an {@link EagerBufferConfig}) or `BufferConfig.unbounded()` (a {@link StrictBufferConfig}), then
 * refine: `BufferConfig.maxRecords(1000).withMaxBytes(1 << 20).shutDownWhenFull()`.
 *
 * The two subclasses are Kafka Streams' two types: `Suppressed.untilWindowCloses` takes only a
 * {@link StrictBufferConfig}, since a final result emitted early would not be final.
 */
export abstract class BufferConfig {
  protected constructor(
    /** The most keys the buffer holds; Infinity: no limit. */
    readonly recordLimit: number,
    /** The most bytes the buffer holds (Kafka Streams' estimate); Infinity: no limit. */
    readonly byteLimit: number,
    /** What happens when a limit is passed. */
    readonly fullStrategy: BufferFullStrategy,
    /** Whether the buffer is logged to a changelog topic (restored after a restart or a move). */
    readonly loggingEnabled: boolean,
    /** Topic configs of that changelog. */
    readonly changelogConfig: Readonly<Record<string, string>>,
  ) {}

  /** A buffer of at most `recordLimit` keys that emits its oldest records early when full. */
  static maxRecords(recordLimit: number): EagerBufferConfig {
    return new EagerBufferConfig(checkLimit('record limit', recordLimit), Number.POSITIVE_INFINITY, true, {});
  }

  /** A buffer of at most `byteLimit` bytes that emits its oldest records early when full. */
  static maxBytes(byteLimit: number): EagerBufferConfig {
    return new EagerBufferConfig(Number.POSITIVE_INFINITY, checkLimit('byte limit', byteLimit), true, {});
  }

  /** A buffer without limits (it grows with the keys it holds); never emits early. */
  static unbounded(): StrictBufferConfig {
    return new StrictBufferConfig(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, true, {});
  }

  /** The same with at most `recordLimit` keys. */
  abstract withMaxRecords(recordLimit: number): BufferConfig;
  /** The same with at most `byteLimit` bytes. */
  abstract withMaxBytes(byteLimit: number): BufferConfig;
  /** The same without the buffer's changelog (its content is lost on a restart or a move). */
  abstract withLoggingDisabled(): BufferConfig;
  /** The same, logged with these changelog topic configs. */
  abstract withLoggingEnabled(config: Readonly<Record<string, string>>): BufferConfig;

  /** No limits at all, strict (Kafka Streams' `withNoBound`). */
  withNoBound(): StrictBufferConfig {
    return new StrictBufferConfig(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, this.loggingEnabled, this.changelogConfig);
  }

  /**
   * The same limits; when one is passed the application stops with a `SuppressionBufferFullError` (Kafka
   * Streams' StreamsException "buffer exceeded its max capacity"), rather than emit a result early.
   */
  shutDownWhenFull(): StrictBufferConfig {
    return new StrictBufferConfig(this.recordLimit, this.byteLimit, this.loggingEnabled, this.changelogConfig);
  }

  /** The same limits; when one is passed the oldest records (by buffer time, then key bytes) are emitted early. */
  emitEarlyWhenFull(): EagerBufferConfig {
    return new EagerBufferConfig(this.recordLimit, this.byteLimit, this.loggingEnabled, this.changelogConfig);
  }
}

/** A bounded buffer that emits its oldest records early when full (Kafka Streams' `EagerBufferConfig`). */
export class EagerBufferConfig extends BufferConfig {
  /** Tells the two kinds apart for the type checker. */
  private readonly eager = true;

  /** @internal Use `BufferConfig.maxRecords` or `BufferConfig.maxBytes`. */
  constructor(recordLimit: number, byteLimit: number, loggingEnabled: boolean, changelogConfig: Readonly<Record<string, string>>) {
    super(recordLimit, byteLimit, 'emitEarly', loggingEnabled, changelogConfig);
    void this.eager;
  }
  withMaxRecords(recordLimit: number): EagerBufferConfig {
    return new EagerBufferConfig(checkLimit('record limit', recordLimit), this.byteLimit, this.loggingEnabled, this.changelogConfig);
  }
  withMaxBytes(byteLimit: number): EagerBufferConfig {
    return new EagerBufferConfig(this.recordLimit, checkLimit('byte limit', byteLimit), this.loggingEnabled, this.changelogConfig);
  }
  withLoggingDisabled(): EagerBufferConfig {
    return new EagerBufferConfig(this.recordLimit, this.byteLimit, false, {});
  }
  withLoggingEnabled(config: Readonly<Record<string, string>>): EagerBufferConfig {
    return new EagerBufferConfig(this.recordLimit, this.byteLimit, true, { ...config });
  }
}

/**
 * A buffer that never emits early: unbounded, or bounded and stopping the application when full (Kafka
 * Streams' `StrictBufferConfig`). The only kind `Suppressed.untilWindowCloses` accepts.
 */
export class StrictBufferConfig extends BufferConfig {
  /** Tells the two kinds apart for the type checker. */
  private readonly strict = true;

  /** @internal Use `BufferConfig.unbounded()` or `.shutDownWhenFull()`. */
  constructor(recordLimit: number, byteLimit: number, loggingEnabled: boolean, changelogConfig: Readonly<Record<string, string>>) {
    super(recordLimit, byteLimit, 'shutDown', loggingEnabled, changelogConfig);
    void this.strict;
  }
  withMaxRecords(recordLimit: number): StrictBufferConfig {
    return new StrictBufferConfig(checkLimit('record limit', recordLimit), this.byteLimit, this.loggingEnabled, this.changelogConfig);
  }
  withMaxBytes(byteLimit: number): StrictBufferConfig {
    return new StrictBufferConfig(this.recordLimit, checkLimit('byte limit', byteLimit), this.loggingEnabled, this.changelogConfig);
  }
  withLoggingDisabled(): StrictBufferConfig {
    return new StrictBufferConfig(this.recordLimit, this.byteLimit, false, {});
  }
  withLoggingEnabled(config: Readonly<Record<string, string>>): StrictBufferConfig {
    return new StrictBufferConfig(this.recordLimit, this.byteLimit, true, { ...config });
  }
}
