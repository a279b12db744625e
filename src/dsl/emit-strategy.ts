/**
 * When a windowed aggregation emits (Kafka Streams' EmitStrategy): at every update of a window (the
 * default, subject to the record cache), or once per window, its final result, when it closes (its end plus
 * grace has passed), without a suppress buffer.
 */
export class EmitStrategy {
  private constructor(
    /** Which strategy this is: `'onWindowUpdate'` or `'onWindowClose'`. */
    readonly type: 'onWindowUpdate' | 'onWindowClose',
  ) {}

  /**
   * Emit a window's new aggregate at every update (the default; the record cache may coalesce updates of a
   * key). Kafka Streams' `EmitStrategy.onWindowUpdate()`.
   */
  static onWindowUpdate(): EmitStrategy {
    return new EmitStrategy('onWindowUpdate');
  }

  /**
   * Emit each window's final aggregate once, when the window closes (its end plus grace has passed, by
   * stream time; for sessions their end + gap + grace), without a suppress buffer. Kafka Streams'
   * `EmitStrategy.onWindowClose()`. Time, sliding and session windows.
   *
   * @example
   * ```ts
   * stream
   *   .groupByKey()
   *   .windowedBy(TimeWindows.ofSizeAndGrace(60_000, 5_000))
   *   .emitStrategy(EmitStrategy.onWindowClose())
   *   .count();
   * ```
   */
  static onWindowClose(): EmitStrategy {
    return new EmitStrategy('onWindowClose');
  }
}
