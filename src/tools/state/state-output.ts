import { StateStoreError } from '../../errors/errors.js';
import type { Serde } from '../../serdes/serde.js';
import type { StateEntry } from './store-shape.js';

/** How bytes are printed where no serde reads them (no topology, or a Buffer serde). */
export type BytesEncoding = 'base64' | 'hex';

/** A value as JSON can carry it: buffers as text in `encoding`, bigints as decimal strings. */
function plain(value: unknown, encoding: BytesEncoding): unknown {
  if (Buffer.isBuffer(value)) return value.toString(encoding);
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString(encoding);
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map((v) => plain(v, encoding));
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), plain(v, encoding)]));
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v, encoding)]));
  }
  return value;
}

/** One JSON line: `{"task","key","window"?,"value","timestamp"?}`. */
export function formatEntry(entry: StateEntry, encoding: BytesEncoding): string {
  const { task, key, window, value, timestamp } = entry;
  return JSON.stringify({
    task,
    key: plain(key, encoding),
    ...(window === undefined ? {} : { window }),
    value: plain(value, encoding),
    ...(timestamp === undefined ? {} : { timestamp }),
  });
}

/**
 * The bytes `--key` names. With the store's key serde: the text itself (a String key), or the text read as
 * JSON (a number, an object for a Json key); every reading the serde accepts is tried. Without one (raw
 * bytes): the text's UTF-8 bytes. `--key-hex` gives the bytes exactly.
 */
export function keyBytesOf(text: string | undefined, hex: string | undefined, keySerde: Serde<unknown> | undefined): Buffer[] | undefined {
  if (hex !== undefined) {
    if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new StateStoreError(`--key-hex needs an even number of hex digits, got '${hex}'`);
    return [Buffer.from(hex, 'hex')];
  }
  if (text === undefined) return undefined;
  if (keySerde === undefined || keySerde.name === 'Buffer') return [Buffer.from(text, 'utf8')];
  const readings: unknown[] = [text];
  try {
    readings.push(JSON.parse(text));
  } catch {
    // not JSON: the text only
  }
  const out: Buffer[] = [];
  const problems: string[] = [];
  for (const reading of readings) {
    try {
      const bytes = keySerde.serialize(reading);
      if (!out.some((b) => b.equals(bytes))) out.push(Buffer.from(bytes));
    } catch (err) {
      problems.push(String(err));
    }
  }
  if (out.length === 0) throw new StateStoreError(`--key '${text}' cannot be written with the store's key serde ${keySerde.name}: ${problems.join('; ')}`);
  return out;
}

/** Whether an entry's key is one of `keys` (every entry when no key was asked for). */
export function matchesKey(entry: StateEntry, keys: readonly Buffer[] | undefined): boolean {
  return keys === undefined || keys.some((k) => k.equals(entry.keyBytes));
}
