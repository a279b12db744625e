/**
 * A caught value as an Error: JavaScript may throw anything, and code that logs `.message` or passes the
 * value on as an Error's cause needs one. An Error is returned as it is; anything else is wrapped in an
 * Error whose message is `String(value)`.
 */
export function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
