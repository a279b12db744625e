import type { Serde } from '../../serdes/serde.js';

/** A request the server refuses or cannot answer: the HTTP status, a stable code, and a sentence saying what to do. */
export class QueryError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds for `Retry-After` (503s). */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

const NUMERIC_SERDES = new Set(['Int32', 'Int64', 'Double', 'Float', 'Short', 'Integer', 'Long']);

/**
 * The key a URL names, as the store's key serde reads it: a String serde takes the text as it is; a numeric
 * serde a number; a Buffer serde base64; any other serde (Json, Avro, …) the text parsed as JSON (or, when
 * it is no JSON, the text itself). The key must then survive the serde both ways (serialize, deserialize),
 * so that a key the store could never hold is refused with 400 rather than looked up.
 */
export function decodeKey(text: string, serde: Serde<unknown>, what = 'key'): { key: unknown; bytes: Buffer } {
  let candidate: unknown = text;
  if (NUMERIC_SERDES.has(serde.name)) {
    candidate = Number(text);
    if (text.trim() === '' || !Number.isFinite(candidate)) throw new QueryError(400, 'bad_key', `The ${what} '${text}' is not a number, which the store's key serde (${serde.name}) needs`);
  } else if (serde.name === 'Buffer') {
    candidate = Buffer.from(text, 'base64');
  } else if (serde.name !== 'String') {
    try {
      candidate = JSON.parse(text) as unknown;
    } catch {
      candidate = text;
    }
  }
  try {
    const bytes = serde.serialize(candidate);
    return { key: serde.deserialize(bytes), bytes };
  } catch (err) {
    throw new QueryError(400, 'bad_key', `The ${what} '${text}' cannot be read with the store's key serde (${serde.name}): ${(err as Error).message}`);
  }
}

/** A query parameter as an integer within bounds, or its default; 400 naming the parameter otherwise. */
export function integerParam(params: Readonly<Record<string, string | undefined>>, name: string, fallback: number, min: number, max: number): number {
  const raw = params[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new QueryError(400, 'bad_parameter', `The parameter '${name}' must be an integer from ${min} to ${max}, got '${raw}'`);
  }
  return value;
}

/** JSON of store values: bigints as strings, Buffers as base64, NaN and infinities as null. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
    const raw = this[key];
    if (Buffer.isBuffer(raw)) return raw.toString('base64');
    if (typeof v === 'bigint') return v.toString();
    return v;
  });
}
