import { readInt64, writeInt64 } from './int64.js';

/**
 * One key's versions as Kafka Streams' RocksDBVersionedStore keeps them (KIP-889), and its put and get
 * algorithms, ported from its source (RocksDBVersionedStore#doPut / get and
 * RocksDBVersionedStoreSegmentValueFormatter) so that every answer, including its quirks, is the same:
 * - the latest value (never a tombstone) apart, with its timestamp;
 * - older versions in segments by their validTo (segment id = validTo / segment interval): each segment
 *   holds a contiguous run of versions, newest first, each valid until the previous one's timestamp (the
 *   newest until the segment's `nextTs`); a null value is a tombstone; a gap between segments means no value;
 * - a segment whose id is below the id of (stream time − history retention) is expired: dropped, as Kafka
 *   Streams drops a whole RocksDB segment (here lazily, per key, when the key is next read for a put).
 *
 * Pure data and functions: VersionedStore (versioned-store.ts) reads, writes and logs them.
 */

/** One version in a segment: valid from `from` until the next newer one (or the segment's nextTs). */
export interface SegmentRecord {
  from: number;
  bytes: Buffer | null;
}

/** A segment's versions of one key, newest first (Kafka Streams' SegmentValue). */
export interface Segment {
  id: number;
  nextTs: number;
  records: SegmentRecord[];
}

export interface KeyVersions {
  latest?: { ts: number; bytes: Buffer };
  /** Segments holding versions of the key, by id descending. */
  segments: Segment[];
}

/** A version found by `find`, with its index in the segment. */
interface Found {
  index: number;
  from: number;
  validTo: number;
  bytes: Buffer | null;
}

/** A version as `getAsOf` returns it (validTo undefined: the latest). */
export interface FoundVersion {
  bytes: Buffer;
  timestamp: number;
  validTo?: number;
}

/** Kafka Streams' return codes (VersionedKeyValueStore), and its internal "nothing found yet" marker. */
const VALID_TO_UNDEFINED = -1;
/** Long.MIN_VALUE in Kafka Streams; both its NOT_PUT and its sentinel: doPut turns either into VALID_TO_UNDEFINED. */
const SENTINEL = Number.MIN_SAFE_INTEGER;

/** Kafka Streams' default segment interval of a versioned store (RocksDbVersionedKeyValueBytesStoreSupplier). */
export function defaultSegmentInterval(historyRetentionMs: number): number {
  if (historyRetentionMs <= 60_000) return Math.max(Math.trunc(historyRetentionMs / 3), 2_000);
  if (historyRetentionMs <= 300_000) return Math.max(Math.trunc(historyRetentionMs / 5), 20_000);
  if (historyRetentionMs <= 3_600_000) return Math.max(Math.trunc(historyRetentionMs / 12), 60_000);
  return Math.max(Math.trunc(historyRetentionMs / 24), 300_000);
}

const minTs = (s: Segment): number => s.records[s.records.length - 1]!.from;
const isDegenerate = (s: Segment): boolean => s.nextTs === minTs(s);

function newSegment(id: number, bytes: Buffer | null, from: number, to: number): Segment {
  return { id, nextTs: to, records: [{ from, bytes }] };
}

/** SegmentValue#find: the version valid at `ts` (minTs <= ts < nextTs). */
function find(s: Segment, ts: number): Found {
  let validTo = s.nextTs;
  for (let index = 0; index < s.records.length; index++) {
    const r = s.records[index]!;
    if (r.from <= ts) return { index, from: r.from, validTo, bytes: r.bytes };
    validTo = r.from;
  }
  throw new Error(`Versioned store: no version at ${ts} in a segment from ${minTs(s)} to ${s.nextTs}`);
}

/** SegmentValue#insertAsLatest (with its repair of a partial write: versions from validFrom on are cut). */
function insertAsLatest(s: Segment, validFrom: number, validTo: number, bytes: Buffer | null): void {
  if (validFrom < s.nextTs) {
    if (validFrom <= minTs(s)) s.records = [{ from: validFrom, bytes: null }];
    else {
      s.records = s.records.filter((r) => r.from < validFrom);
    }
    s.nextTs = validFrom;
  }
  if (s.nextTs === validFrom) {
    if (isDegenerate(s)) s.records = [{ from: validFrom, bytes }];
    else s.records.unshift({ from: validFrom, bytes });
  } else {
    if (isDegenerate(s)) s.records = [{ from: s.nextTs, bytes: null }];
    else s.records.unshift({ from: s.nextTs, bytes: null });
    s.records.unshift({ from: validFrom, bytes });
  }
  s.nextTs = validTo;
}

/** SegmentValue#insertAsEarliest. */
function insertAsEarliest(s: Segment, ts: number, bytes: Buffer | null): void {
  if (isDegenerate(s)) s.records = [{ from: ts, bytes }];
  else s.records.push({ from: ts, bytes });
}

/**
 * The versions of one key and Kafka Streams' algorithms over them. `segmentInterval` and
 * `historyRetention` are the store's.
 */
export class VersionedAlgorithm {
  constructor(
    private readonly historyRetention: number,
    private readonly segmentInterval: number,
  ) {}

  segmentId(timestamp: number): number {
    return Math.trunc(timestamp / this.segmentInterval);
  }

  private minLiveSegment(streamTime: number): number {
    return this.segmentId(streamTime - this.historyRetention);
  }

  /** Drops the key's expired segments (AbstractSegments#cleanupExpiredSegments, per key). */
  cleanup(v: KeyVersions, streamTime: number): void {
    const minLive = this.minLiveSegment(streamTime);
    if (v.segments.length > 0 && v.segments[v.segments.length - 1]!.id < minLive) v.segments = v.segments.filter((s) => s.id >= minLive);
  }

  /** getOrCreateSegmentIfLive: the key's segment `id` (created empty-less: undefined and live) or null when expired. */
  private segmentIfLive(v: KeyVersions, id: number, streamTime: number): Segment | undefined | null {
    if (id < this.minLiveSegment(streamTime)) return null;
    return v.segments.find((s) => s.id === id);
  }

  private addSegment(v: KeyVersions, s: Segment): void {
    let i = 0;
    while (i < v.segments.length && v.segments[i]!.id > s.id) i++;
    v.segments.splice(i, 0, s);
  }

  /** RocksDBVersionedStore#get(key, asOf) past the history-retention check (`observed` is the store's). */
  getAsOf(v: KeyVersions, asOf: number, observed: number): FoundVersion | undefined {
    const latest = v.latest;
    if (asOf < observed - this.historyRetention) {
      // Past the history retention only the latest version is served, if it satisfies the bound.
      return latest !== undefined && latest.ts <= asOf ? { bytes: latest.bytes, timestamp: latest.ts } : undefined;
    }
    if (latest !== undefined && latest.ts <= asOf) return { bytes: latest.bytes, timestamp: latest.ts };
    const fromId = this.segmentId(asOf);
    for (const s of v.segments) {
      if (s.id < fromId) break;
      if (s.nextTs <= asOf) return undefined;
      if (minTs(s) > asOf) continue;
      const found = find(s, asOf);
      return found.bytes === null ? undefined : { bytes: found.bytes, timestamp: found.from, validTo: found.validTo };
    }
    return undefined;
  }

  /** RocksDBVersionedStore#doPut: returns the put version's validTo, or VALID_TO_UNDEFINED. */
  doPut(v: KeyVersions, streamTime: number, bytes: Buffer | null, ts: number): number {
    this.cleanup(v, streamTime);
    const done = (foundTs: number): number => (foundTs === SENTINEL ? VALID_TO_UNDEFINED : foundTs);
    let foundTs = SENTINEL;
    // maybePutToLatestValueStore
    const latest = v.latest;
    if (latest !== undefined) {
      if (ts >= latest.ts) {
        if (ts > latest.ts) {
          const id = this.segmentId(ts);
          const s = this.segmentIfLive(v, id, streamTime);
          if (s === undefined) this.addSegment(v, newSegment(id, latest.bytes, latest.ts, ts));
          else if (s !== null) insertAsLatest(s, latest.ts, ts, latest.bytes);
        }
        v.latest = bytes === null ? undefined : { ts, bytes };
        return done(foundTs);
      }
      foundTs = latest.ts;
    }
    // maybePutToSegments
    const fromId = this.segmentId(ts);
    for (const s of v.segments) {
      if (s.id < fromId) break;
      if (s.nextTs <= ts) break;
      const min = minTs(s);
      if (min <= ts) return done(this.putToSegment(v, streamTime, s, bytes, ts));
      if (min < streamTime - this.historyRetention) return done(SENTINEL);
      foundTs = min;
    }
    return done(this.finishPut(v, streamTime, bytes, ts, foundTs));
  }

  private putToSegment(v: KeyVersions, streamTime: number, s: Segment, bytes: Buffer | null, ts: number): number {
    const idOfTs = this.segmentId(ts);
    const found = find(s, ts);
    if (found.from === ts) {
      s.records[found.index] = { from: ts, bytes };
      return found.validTo;
    }
    if (idOfTs !== s.id) {
      // The found version now ends at ts: it moves to the older segment of ts.
      const older = this.segmentIfLive(v, idOfTs, streamTime);
      if (older === undefined) this.addSegment(v, newSegment(idOfTs, found.bytes, found.from, ts));
      else if (older !== null) insertAsLatest(older, found.from, ts, found.bytes);
      s.records[found.index] = { from: ts, bytes };
      return found.validTo;
    }
    s.records.splice(found.index, 0, { from: ts, bytes });
    return found.validTo;
  }

  private finishPut(v: KeyVersions, streamTime: number, bytes: Buffer | null, ts: number, foundTs: number): number {
    if (foundTs === SENTINEL) {
      if (bytes !== null) {
        v.latest = { ts, bytes };
        return foundTs;
      }
      const id = this.segmentId(ts);
      const s = this.segmentIfLive(v, id, streamTime);
      if (s === null) return SENTINEL;
      if (s === undefined) this.addSegment(v, newSegment(id, null, ts, ts));
      else {
        if (s.nextTs === ts) return foundTs;
        insertAsLatest(s, s.nextTs, ts, null);
      }
      return foundTs;
    }
    const id = this.segmentId(foundTs);
    const s = this.segmentIfLive(v, id, streamTime);
    if (s === null) return SENTINEL;
    if (s === undefined) this.addSegment(v, newSegment(id, bytes, ts, foundTs));
    else if (s.nextTs <= ts) insertAsLatest(s, ts, foundTs, bytes);
    else insertAsEarliest(s, ts, bytes);
    return foundTs;
  }
}

/**
 * A key's versions as one LevelDB value: `[latest ts i64][latest length i32, -1 for none][bytes]` then per
 * segment `[id i64][nextTs i64][count i32]` and per version `[from i64][length i32, -1 for a tombstone][bytes]`.
 */
export function encodeKeyVersions(v: KeyVersions): Buffer | null {
  if (v.latest === undefined && v.segments.length === 0) return null;
  let size = 12 + (v.latest?.bytes.length ?? 0);
  for (const s of v.segments) {
    size += 20;
    for (const r of s.records) size += 12 + (r.bytes?.length ?? 0);
  }
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  writeInt64(out, v.latest?.ts ?? 0, o);
  out.writeInt32BE(v.latest === undefined ? -1 : v.latest.bytes.length, o + 8);
  o += 12;
  if (v.latest !== undefined) o += v.latest.bytes.copy(out, o);
  for (const s of v.segments) {
    writeInt64(out, s.id, o);
    writeInt64(out, s.nextTs, o + 8);
    out.writeInt32BE(s.records.length, o + 16);
    o += 20;
    for (const r of s.records) {
      writeInt64(out, r.from, o);
      out.writeInt32BE(r.bytes === null ? -1 : r.bytes.length, o + 8);
      o += 12;
      if (r.bytes !== null) o += r.bytes.copy(out, o);
    }
  }
  return out;
}

export function decodeKeyVersions(raw: Buffer): KeyVersions {
  const copy = (start: number, length: number): Buffer => Buffer.from(raw.subarray(start, start + length));
  let o = 0;
  const latestTs = readInt64(raw, o);
  const latestLength = raw.readInt32BE(o + 8);
  o += 12;
  const v: KeyVersions = { segments: [] };
  if (latestLength >= 0) {
    v.latest = { ts: latestTs, bytes: copy(o, latestLength) };
    o += latestLength;
  }
  while (o < raw.length) {
    const s: Segment = { id: readInt64(raw, o), nextTs: readInt64(raw, o + 8), records: [] };
    const count = raw.readInt32BE(o + 16);
    o += 20;
    for (let i = 0; i < count; i++) {
      const from = readInt64(raw, o);
      const length = raw.readInt32BE(o + 8);
      o += 12;
      s.records.push({ from, bytes: length < 0 ? null : copy(o, length) });
      if (length > 0) o += length;
    }
    v.segments.push(s);
  }
  return v;
}
