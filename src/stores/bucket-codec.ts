/**
 * The value of one LevelDB entry of a session or window store: the sessions (or windows) of one record key
 * within one time segment (see SegmentedStore), so that a key's sessions of a segment are one synchronous
 * point read (processors read stores synchronously; LevelDB scans are asynchronous).
 *
 * Session bucket: [count u32] then per session [start i64][end i64][length u32][value bytes], by end time.
 * Window bucket:  [count u32] then per window  [start i64][length u32][value bytes], by start time.
 * (The changelog topic keeps Kafka Streams' per-session and per-window records; see the stores.)
 */
import { readInt64, writeInt64 } from './int64.js';

export interface SessionSlot<V> {
  start: number;
  end: number;
  value: V;
  /** The encoded value, kept while it is unchanged so that a flush does not encode it again. */
  bytes?: Buffer;
}

export interface WindowSlot<V> {
  start: number;
  value: V;
  bytes?: Buffer;
}

export function encodeSessions<V>(sessions: readonly SessionSlot<V>[], encode: (value: V) => Buffer): Buffer {
  let size = 4;
  const encoded = sessions.map((s) => {
    s.bytes ??= encode(s.value);
    size += 20 + s.bytes.length;
    return s.bytes;
  });
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32BE(sessions.length, 0);
  let pos = 4;
  sessions.forEach((s, i) => {
    const bytes = encoded[i]!;
    writeInt64(out, s.start, pos);
    writeInt64(out, s.end, pos + 8);
    out.writeUInt32BE(bytes.length, pos + 16);
    bytes.copy(out, pos + 20);
    pos += 20 + bytes.length;
  });
  return out;
}

export function decodeSessions<V>(buf: Buffer, decode: (bytes: Buffer) => V): SessionSlot<V>[] {
  const count = buf.readUInt32BE(0);
  const sessions = new Array<SessionSlot<V>>(count);
  let pos = 4;
  for (let i = 0; i < count; i++) {
    const start = readInt64(buf, pos);
    const end = readInt64(buf, pos + 8);
    const length = buf.readUInt32BE(pos + 16);
    const bytes = buf.subarray(pos + 20, pos + 20 + length);
    sessions[i] = { start, end, value: decode(bytes), bytes };
    pos += 20 + length;
  }
  return sessions;
}

export function encodeWindows<V>(windows: readonly WindowSlot<V>[], encode: (value: V) => Buffer): Buffer {
  let size = 4;
  const encoded = windows.map((w) => {
    w.bytes ??= encode(w.value);
    size += 12 + w.bytes.length;
    return w.bytes;
  });
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32BE(windows.length, 0);
  let pos = 4;
  windows.forEach((w, i) => {
    const bytes = encoded[i]!;
    writeInt64(out, w.start, pos);
    out.writeUInt32BE(bytes.length, pos + 8);
    bytes.copy(out, pos + 12);
    pos += 12 + bytes.length;
  });
  return out;
}

export function decodeWindows<V>(buf: Buffer, decode: (bytes: Buffer) => V): WindowSlot<V>[] {
  const count = buf.readUInt32BE(0);
  const windows = new Array<WindowSlot<V>>(count);
  let pos = 4;
  for (let i = 0; i < count; i++) {
    const start = readInt64(buf, pos);
    const length = buf.readUInt32BE(pos + 8);
    const bytes = buf.subarray(pos + 12, pos + 12 + length);
    windows[i] = { start, value: decode(bytes), bytes };
    pos += 12 + length;
  }
  return windows;
}

/** Kafka Streams' session changelog key: [key][end i64][start i64]. */
export function sessionChangelogKey(keyBytes: Buffer, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(keyBytes.length + 16);
  keyBytes.copy(out, 0);
  writeInt64(out, end, keyBytes.length);
  writeInt64(out, start, keyBytes.length + 8);
  return out;
}

export function parseSessionChangelogKey(bytes: Buffer): { keyBytes: Buffer; start: number; end: number } {
  const keyEnd = bytes.length - 16;
  return {
    keyBytes: bytes.subarray(0, keyEnd),
    end: readInt64(bytes, keyEnd),
    start: readInt64(bytes, keyEnd + 8),
  };
}

/** Kafka Streams' window changelog key: [key][start i64][sequence u32], sequence always 0 here. */
export function windowChangelogKey(keyBytes: Buffer, start: number): Buffer {
  const out = Buffer.allocUnsafe(keyBytes.length + 12);
  keyBytes.copy(out, 0);
  writeInt64(out, start, keyBytes.length);
  out.writeUInt32BE(0, keyBytes.length + 8);
  return out;
}

export function parseWindowChangelogKey(bytes: Buffer): { keyBytes: Buffer; start: number } {
  const keyEnd = bytes.length - 12;
  return { keyBytes: bytes.subarray(0, keyEnd), start: readInt64(bytes, keyEnd) };
}
