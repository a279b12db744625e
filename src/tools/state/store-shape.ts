import { asError } from '../../errors/as-error.js';
import { StateStoreError } from '../../errors/errors.js';
import type { StoreDefinition, StoreType } from '../../processor/store-definition.js';
import type { Serde } from '../../serdes/serde.js';
import { Serdes } from '../../serdes/serdes.js';
import { decodeSessions, decodeWindows, parseSessionChangelogKey, parseWindowChangelogKey } from '../../stores/bucket-codec.js';
import { readInt64 } from '../../stores/int64.js';
import { OBSERVED_TIME_KEY } from '../../stores/segments.js';

/**
 * What the inspector needs to read a store's bytes: its kind and value layout, and the serdes that turn its
 * keys and values into JSON. From the topology (`fromDefinition`) or, without one, from the layout the
 * runtime recorded in the store (`fromLayout`: serdes that keep the raw bytes, retention and window size
 * unknown).
 */
export interface StoreShape {
  readonly name: string;
  readonly type: StoreType;
  /** Values carry their timestamp first: `[timestamp i64][value]` (Kafka Streams' timestamped stores). */
  readonly timestamped: boolean;
  readonly keySerde: Serde<unknown>;
  readonly valueSerde: Serde<unknown>;
  /** Session and window stores: entries older than this before the store's observed time are not served. */
  readonly retentionMs?: number;
  /** Window stores: a window's end is its start plus this. */
  readonly windowSizeMs?: number;
  /** The topology's definition, when the shape comes from one. */
  readonly definition?: StoreDefinition;
}

/** One entry of a store as the inspector prints it (key and value through the shape's serdes). */
export interface StateEntry {
  /** The task (`0_1`) or `global` whose store holds it; for a changelog, the task of its partition. */
  readonly task: string;
  readonly key: unknown;
  /** Session and window stores: the session's bounds, or the window's (end unknown without a topology). */
  readonly window?: { readonly start: number; readonly end?: number };
  readonly value: unknown;
  /** Timestamped stores: the timestamp of the value's latest update. */
  readonly timestamp?: number;
  /** The key's bytes, for matching `--key`. */
  readonly keyBytes: Buffer;
}

/** The kind names the CLI prints, as an operator knows them. */
export function kindName(type: StoreType, timestamped: boolean): string {
  const kind = type === 'keyValue' ? 'key-value' : type;
  return timestamped ? `timestamped ${kind}` : kind;
}

export function shapeFromDefinition(definition: StoreDefinition): StoreShape {
  return {
    name: definition.name,
    type: definition.type,
    timestamped: definition.timestamped === true,
    keySerde: definition.keySerde,
    valueSerde: definition.valueSerde,
    ...(definition.retentionMs === undefined ? {} : { retentionMs: definition.retentionMs }),
    ...(definition.windowSizeMs === undefined ? {} : { windowSizeMs: definition.windowSizeMs }),
    definition,
  };
}

/** The shape of a store from the layout recorded in it (see storeLayout); undefined for a layout unknown here. */
export function shapeFromLayout(name: string, layout: string): StoreShape | undefined {
  const raw = { name, keySerde: Serdes.Buffer() as Serde<unknown>, valueSerde: Serdes.Buffer() as Serde<unknown> };
  switch (layout) {
    case 'keyValue/plain':
      return { ...raw, type: 'keyValue', timestamped: false };
    case 'keyValue/timestamped':
      return { ...raw, type: 'keyValue', timestamped: true };
    case 'session/segment-databases-v3':
      return { ...raw, type: 'session', timestamped: false };
    case 'window/segment-databases-v3/plain':
      return { ...raw, type: 'window', timestamped: false };
    case 'window/segment-databases-v3/timestamped':
      return { ...raw, type: 'window', timestamped: true };
    default:
      return undefined;
  }
}

/** An entry the serdes cannot read, said with where it is and what to do. */
function unreadable(shape: StoreShape, task: string, key: Buffer, err: unknown): StateStoreError {
  const bytes = key.length > 64 ? `${key.subarray(0, 64).toString('hex')}…` : key.toString('hex');
  return new StateStoreError(
    `Task ${task}, store ${shape.name}: the entry with key bytes ${bytes} does not deserialize (${asError(err).message}); ` +
      `is the topology the version that wrote it? Without --topology the bytes are printed raw`,
    { cause: err },
  );
}

/** A value's bytes through the shape: its timestamp split off first when the store is timestamped. */
function value(shape: StoreShape, bytes: Buffer): { value: unknown; timestamp?: number } {
  if (!shape.timestamped) return { value: shape.valueSerde.deserialize(bytes) };
  return { value: shape.valueSerde.deserialize(bytes.subarray(8)), timestamp: readInt64(bytes, 0) };
}

function windowOf(shape: StoreShape, start: number, end?: number): { start: number; end?: number } {
  if (end !== undefined) return { start, end };
  return shape.windowSizeMs === undefined ? { start } : { start, end: start + shape.windowSizeMs };
}

/**
 * Reads a store's local entries (as a byte store yields them) into StateEntries. Session and window stores
 * hold, per record key and time segment, a bucket of sessions or windows (bucket-codec.ts) under the local
 * key `[segment id][key]`; their observed time sits at OBSERVED_TIME_KEY and, when the retention is known,
 * entries it expired (still on disk until their segment is dropped) are left out, as the store leaves them
 * out of every read.
 */
export class LocalEntryDecoder {
  private observed = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly shape: StoreShape,
    private readonly task: string,
  ) {}

  /** The store's observed time, read from the store before its entries (segmented stores only). */
  observe(raw: Buffer | undefined): void {
    if (raw !== undefined) this.observed = readInt64(raw, 0);
  }

  /** The entries one stored key-value holds (none for the observed-time entry, or only expired ones). */
  decode(localKey: Buffer, stored: Buffer): StateEntry[] {
    try {
      return this.decodeUnchecked(localKey, stored);
    } catch (err) {
      throw unreadable(this.shape, this.task, localKey, err);
    }
  }

  private decodeUnchecked(localKey: Buffer, stored: Buffer): StateEntry[] {
    const { shape, task } = this;
    if (shape.type === 'keyValue') return [{ task, key: shape.keySerde.deserialize(localKey), ...value(shape, stored), keyBytes: localKey }];
    if (localKey.equals(OBSERVED_TIME_KEY)) return [];
    const keyBytes = localKey.subarray(8);
    const key = shape.keySerde.deserialize(keyBytes);
    const expiry = shape.retentionMs === undefined ? Number.NEGATIVE_INFINITY : this.observed - shape.retentionMs;
    if (shape.type === 'session') {
      return decodeSessions(stored, (b) => b)
        .filter((s) => s.end > expiry)
        .map((s) => ({ task, key, window: { start: s.start, end: s.end }, value: shape.valueSerde.deserialize(s.value), keyBytes }));
    }
    return decodeWindows(stored, (b) => b)
      .filter((w) => w.start > expiry)
      .map((w) => ({ task, key, window: windowOf(shape, w.start), ...value(shape, w.value), keyBytes }));
  }
}

/**
 * The latest value per key of one changelog partition, as restoring a store from it would leave the store:
 * a later record replaces an earlier one of the same changelog key (a key, or a key and its session or
 * window), a tombstone removes it, and (for session and window stores, with a known retention) entries the
 * partition's observed time expired are left out, as restoration leaves them out.
 */
export class ChangelogFold {
  private readonly latest = new Map<string, Buffer>();
  private observed = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly shape: StoreShape,
    private readonly task: string,
  ) {}

  add(key: Buffer, value: Buffer | null): void {
    if (this.shape.type !== 'keyValue') this.observed = Math.max(this.observed, this.slotTime(key));
    const id = key.toString('latin1');
    if (value === null) this.latest.delete(id);
    else this.latest.set(id, value);
  }

  private slotTime(changelogKey: Buffer): number {
    return this.shape.type === 'session' ? parseSessionChangelogKey(changelogKey).end : parseWindowChangelogKey(changelogKey).start;
  }

  /** The entries, in changelog-key byte order. */
  entries(): StateEntry[] {
    let current: Buffer | undefined;
    try {
      return this.entriesUnchecked((key) => (current = key));
    } catch (err) {
      throw unreadable(this.shape, this.task, current ?? Buffer.alloc(0), err);
    }
  }

  private entriesUnchecked(visiting: (changelogKey: Buffer) => void): StateEntry[] {
    const { shape, task } = this;
    const keys = [...this.latest.keys()].map((id) => Buffer.from(id, 'latin1')).sort(Buffer.compare);
    const expiry = shape.retentionMs === undefined ? Number.NEGATIVE_INFINITY : this.observed - shape.retentionMs;
    const out: StateEntry[] = [];
    for (const changelogKey of keys) {
      visiting(changelogKey);
      const stored = this.latest.get(changelogKey.toString('latin1'))!;
      if (shape.type === 'keyValue') {
        out.push({ task, key: shape.keySerde.deserialize(changelogKey), ...value(shape, stored), keyBytes: changelogKey });
        continue;
      }
      // What restoration skips (segments expired by then) is expired at the final observed time too.
      if (this.slotTime(changelogKey) <= expiry) continue;
      if (shape.type === 'session') {
        const { keyBytes, start, end } = parseSessionChangelogKey(changelogKey);
        out.push({ task, key: shape.keySerde.deserialize(keyBytes), window: { start, end }, value: shape.valueSerde.deserialize(stored), keyBytes });
      } else {
        const { keyBytes, start } = parseWindowChangelogKey(changelogKey);
        out.push({ task, key: shape.keySerde.deserialize(keyBytes), window: windowOf(shape, start), ...value(shape, stored), keyBytes });
      }
    }
    return out;
  }
}
