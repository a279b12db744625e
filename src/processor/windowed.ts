/** A window of time, `[start, end]` in epoch milliseconds (session windows include both ends). */
export interface Window {
  /** First millisecond of the window. */
  readonly start: number;
  /** Its end: exclusive for time windows, the last record's time for sessions. */
  readonly end: number;
}

/** The key of a windowed aggregation's result: the record key and the window it belongs to. */
export interface Windowed<K> {
  /** The record key. */
  readonly key: K;
  /** The window the result is for. */
  readonly window: Window;
}
