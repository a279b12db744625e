import { readOrderedInt64, writeOrderedInt64 } from './int64.js';

/** The smallest segment id a store can hold: its key (with no record key) is the observed-time entry. */
const MIN_SEGMENT = -(2 ** 63);

/**
 * How a segmented store splits time, as Kafka Streams' AbstractSegments does: segment `n` holds the entries
 * whose time (a session's end, a window's start) is in [n × interval, (n + 1) × interval); the interval is
 * Kafka Streams' `max(retention / 2, 60 s)` (RocksDbSessionBytesStoreSupplier, RocksDbWindowBytesStoreSupplier).
 * A segment is dropped whole once the observed time passes its end + retention (`cleanupEarlierThan`).
 *
 * Local key: [segment id u64, sign bit flipped][record key bytes], so each segment is one contiguous byte
 * range, segments are in time order (negative times too), and a record key's entries of one segment are one
 * point read away.
 */
export class Segments {
  readonly intervalMs: number;

  constructor(readonly retentionMs: number) {
    this.intervalMs = Number.isFinite(retentionMs) ? Math.max(Math.floor(retentionMs / 2), 60_000) : Number.MAX_SAFE_INTEGER;
  }

  segmentOf(time: number): number {
    return Math.floor(time / this.intervalMs);
  }

  /** Segments below this hold only expired entries at `observed` (-Infinity: nothing expires). */
  minLiveSegment(observed: number): number {
    const oldestLive = observed - this.retentionMs;
    return Number.isFinite(oldestLive) ? this.segmentOf(oldestLive) : Number.NEGATIVE_INFINITY;
  }

  /** The segments a read at `observed` looks into, oldest first (none before anything was observed). */
  liveSegments(observed: number): { from: number; to: number } {
    if (!Number.isFinite(observed)) return { from: 1, to: 0 };
    const from = Math.max(this.minLiveSegment(observed), this.segmentOf(Number.MIN_SAFE_INTEGER));
    return { from, to: this.segmentOf(observed) };
  }

  key(segment: number, keyBytes: Buffer): Buffer {
    const out = Buffer.allocUnsafe(8 + keyBytes.length);
    writeOrderedInt64(out, segment, 0);
    keyBytes.copy(out, 8);
    return out;
  }

  segmentOfKey(localKey: Buffer): number {
    return readOrderedInt64(localKey, 0);
  }

  /** The start of a segment's byte range: every local key of it is at or after this. */
  segmentStart(segment: number): Buffer {
    return this.key(segment, Buffer.alloc(0));
  }
}

/**
 * Where a segmented store keeps its observed time, so that it expires by it again after a restart: the
 * lowest possible segment with an empty record key, below every data key.
 */
export const OBSERVED_TIME_KEY = new Segments(Number.POSITIVE_INFINITY).segmentStart(MIN_SEGMENT);
