/** A window of time, `[start, end]` in epoch milliseconds (session windows include both ends). */
export interface Window {
  readonly start: number;
  readonly end: number;
}

/** The key of a windowed aggregation's result: the record key and the window it belongs to. */
export interface Windowed<K> {
  readonly key: K;
  readonly window: Window;
}
