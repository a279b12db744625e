/**
 * When a windowed aggregation emits (Kafka Streams' EmitStrategy): at every update of a window (the
 * default, subject to the record cache), or once per window, its final result, when it closes (its end plus
 * grace has passed), without a suppress buffer.
 */
export class EmitStrategy {
  private constructor(readonly type: 'onWindowUpdate' | 'onWindowClose') {}

  static onWindowUpdate(): EmitStrategy {
    return new EmitStrategy('onWindowUpdate');
  }

  static onWindowClose(): EmitStrategy {
    return new EmitStrategy('onWindowClose');
  }
}
