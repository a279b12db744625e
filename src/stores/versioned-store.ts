import type { Serde } from '../serdes/serde.js';
import type { StoreDefinition } from '../processor/store-definition.js';
import type { BytesEntry, BytesStore } from './bytes-store.js';
import type { ChangeLogging } from './change-logging.js';
import { TypedStore } from './typed-store.js';
import type { ManagedVersionedStore } from './managed-store.js';
import {
  PUT_RETURN_CODE_NOT_PUT,
  PUT_RETURN_CODE_VALID_TO_UNDEFINED,
  type VersionedRecord,
} from './state-store.js';
import { readInt64, writeInt64 } from './int64.js';
import { StateStoreError } from '../errors/errors.js';

/** One version of a key: valid from `from` until the next version's `from`; null bytes: a deletion. */
interface Version {
  from: number;
  bytes: Buffer | null;
}

/** What the cache holds per key: its versions, oldest first, and the puts not logged yet. */
interface History {
  versions: Version[];
  unlogged?: Array<[timestamp: number, bytes: Buffer | null]>;
}

/** Local keys: the observed time under [0x00], a record key's history under [0x01][key bytes]. */
const OBSERVED_KEY = Buffer.from([0]);
const DATA_PREFIX = Buffer.from([1]);

/**
 * A versioned key-value store (Kafka Streams' RocksDBVersionedStore, KIP-889): every key keeps its latest
 * value and the versions it replaced for `historyRetentionMs` of the store's observed time (the largest
 * timestamp put). Put, get and delete follow RocksDBVersionedStore#put/get/delete: a put older than
 * observed time − history retention is not put (PUT_RETURN_CODE_NOT_PUT); a put returns the new version's
 * validTo (PUT_RETURN_CODE_VALID_TO_UNDEFINED when it is the latest); a query as of a time before observed
 * time − history retention sees only the latest version.
 *
 * Layout: one LevelDB value per key holding its whole history (not Kafka Streams' LogicalKeyValueSegments:
 * versions that left the history retention are pruned from a key whenever it is written or restored, and
 * are never served). Changelog: one record per put, key = the key's bytes, value = `[timestamp i64][1 if a
 * value, 0 if a deletion][value bytes]` (Kafka Streams keeps the timestamp in the record's timestamp; our
 * changelog records carry none, so it is in the value).
 */
export class VersionedStore<K, V> extends TypedStore<K, History> implements ManagedVersionedStore<K, V> {
  readonly kind = 'versioned' as const;
  readonly historyRetentionMs: number;
  private readonly valueSerde: Serde<V>;
  private observed = Number.NEGATIVE_INFINITY;
  private observedWritten = Number.NEGATIVE_INFINITY;

  constructor(
    readonly definition: StoreDefinition,
    bytes: BytesStore,
    cacheBudgetBytes: number,
    logging?: ChangeLogging,
  ) {
    super(definition.name, definition.keySerde as Serde<K>, bytes, cacheBudgetBytes, logging);
    this.valueSerde = definition.valueSerde as Serde<V>;
    this.historyRetentionMs = definition.historyRetentionMs ?? 0;
    this.readObservedTime();
  }

  private readObservedTime(): void {
    const raw = this.bytes.get(OBSERVED_KEY);
    this.observed = raw === undefined ? Number.NEGATIVE_INFINITY : readInt64(raw, 0);
    this.observedWritten = this.observed;
  }

  protected override afterBytesReplaced(): void {
    this.readObservedTime();
  }

  protected override afterDiscard(): void {
    this.observedWritten = Number.NEGATIVE_INFINITY;
  }

  override observedTime(): number {
    return this.observed;
  }

  /** Versions that ended at or before this are out of the history retention. */
  private horizon(): number {
    return this.observed - this.historyRetentionMs;
  }

  put(key: K, value: V | null, timestamp: number): number {
    if (key === null || key === undefined) throw new StateStoreError(`Versioned store ${this.name}: a key cannot be null`);
    if (timestamp < this.horizon()) return PUT_RETURN_CODE_NOT_PUT;
    if (timestamp > this.observed) this.observed = timestamp;
    const history = this.read(key) ?? { versions: [] };
    const bytes = value === null ? null : this.valueSerde.serialize(value);
    const validTo = putVersion(history.versions, timestamp, bytes);
    (history.unlogged ??= []).push([timestamp, bytes]);
    prune(history.versions, this.horizon());
    this.write(key, history);
    return validTo;
  }

  get(key: K, asOfTimestamp?: number): VersionedRecord<V> | undefined {
    const versions = this.read(key)?.versions;
    if (versions === undefined || versions.length === 0) return undefined;
    const last = versions.length - 1;
    if (asOfTimestamp === undefined) return this.recordOf(versions, last);
    if (asOfTimestamp < this.horizon()) {
      // Past the history retention only the latest version is served, if it satisfies the bound.
      return versions[last]!.from <= asOfTimestamp ? this.recordOf(versions, last) : undefined;
    }
    for (let i = last; i >= 0; i--) if (versions[i]!.from <= asOfTimestamp) return this.recordOf(versions, i);
    return undefined;
  }

  delete(key: K, timestamp: number): VersionedRecord<V> | undefined {
    if (timestamp < this.horizon()) return undefined;
    const existing = this.get(key, timestamp);
    this.put(key, null, timestamp);
    return existing;
  }

  private recordOf(versions: readonly Version[], index: number): VersionedRecord<V> | undefined {
    const version = versions[index]!;
    if (version.bytes === null) return undefined;
    const value = this.valueSerde.deserialize(version.bytes);
    const next = versions[index + 1];
    return next === undefined ? { value, timestamp: version.from } : { value, timestamp: version.from, validTo: next.from };
  }

  protected decode(raw: Buffer): History {
    return { versions: decodeVersions(raw) };
  }

  protected encode(history: History): Buffer | null {
    return history.versions.length === 0 ? null : encodeVersions(history.versions);
  }

  protected override load(keyBytes: Buffer): History | undefined {
    const raw = this.bytes.get(localKey(keyBytes));
    return raw === undefined ? undefined : this.decode(raw);
  }

  protected override toLocal(keyBytes: Buffer, history: History | undefined): BytesEntry[] {
    return [[localKey(keyBytes), history === undefined ? null : this.encode(history)]];
  }

  /** One changelog record per put since the last flush, in the order they were made. */
  protected changesOf(keyBytes: Buffer, history: History | undefined): BytesEntry[] {
    const unlogged = history?.unlogged;
    if (history === undefined || unlogged === undefined) return [];
    history.unlogged = undefined;
    return unlogged.map(([timestamp, bytes]) => [keyBytes, changelogValue(timestamp, bytes)]);
  }

  override flush(): BytesEntry[] {
    return this.withObserved(super.flush());
  }

  override evict(): BytesEntry[] {
    return this.withObserved(super.evict());
  }

  private withObserved(local: BytesEntry[]): BytesEntry[] {
    if (!(this.observed > this.observedWritten)) return local;
    this.observedWritten = this.observed;
    const value = Buffer.allocUnsafe(8);
    writeInt64(value, this.observed, 0);
    local.push([OBSERVED_KEY, value]);
    return local;
  }

  /**
   * Changelog records (in offset order) as LevelDB entries: each put is applied to its key's history as
   * `put` applies it (puts older than the history retention at that point are skipped, as Kafka Streams'
   * restore skips them), one entry per key of the batch, values never deserialized.
   */
  restoreEntries(records: readonly BytesEntry[]): BytesEntry[] {
    const histories = new Map<string, { keyBytes: Buffer; versions: Version[] }>();
    for (const [keyBytes, value] of records) {
      if (value === null || value.length < 9) continue; // not written by this store: compaction never leaves tombstones of ours
      const timestamp = readInt64(value, 0);
      if (timestamp < this.horizon()) continue;
      if (timestamp > this.observed) this.observed = timestamp;
      const id = keyBytes.toString('latin1');
      let history = histories.get(id);
      if (history === undefined) {
        const raw = this.bytes.get(localKey(keyBytes));
        history = { keyBytes, versions: raw === undefined ? [] : decodeVersions(raw) };
        histories.set(id, history);
      }
      putVersion(history.versions, timestamp, value[8] === 1 ? value.subarray(9) : null);
    }
    const entries: BytesEntry[] = [];
    for (const { keyBytes, versions } of histories.values()) {
      prune(versions, this.horizon());
      entries.push([localKey(keyBytes), versions.length === 0 ? null : encodeVersions(versions)]);
    }
    return this.withObserved(entries);
  }
}

/**
 * Puts a version into a key's versions (oldest first) and returns its validTo, as RocksDBVersionedStore's
 * doPut: at or after the latest, it becomes the latest (replacing one of the same timestamp) and is valid
 * to no time (PUT_RETURN_CODE_VALID_TO_UNDEFINED); older, it joins the history (replacing one of the same
 * timestamp) and is valid until the next version.
 */
function putVersion(versions: Version[], timestamp: number, bytes: Buffer | null): number {
  let i = versions.length - 1;
  while (i >= 0 && versions[i]!.from > timestamp) i--;
  if (i >= 0 && versions[i]!.from === timestamp) versions[i]!.bytes = bytes;
  else versions.splice(i + 1, 0, { from: timestamp, bytes });
  const index = i >= 0 && versions[i]!.from === timestamp ? i : i + 1;
  const next = versions[index + 1];
  return next === undefined ? PUT_RETURN_CODE_VALID_TO_UNDEFINED : next.from;
}

/**
 * Drops the versions no query can see any more: those valid only before `horizon` (a query as of an earlier
 * time sees only the latest), and a latest deletion older than it (nothing left to serve).
 */
function prune(versions: Version[], horizon: number): void {
  let keepFrom = 0;
  while (keepFrom < versions.length - 1 && versions[keepFrom + 1]!.from <= horizon) keepFrom++;
  if (keepFrom > 0) versions.splice(0, keepFrom);
  if (versions.length === 1 && versions[0]!.bytes === null && versions[0]!.from < horizon) versions.length = 0;
}

function localKey(keyBytes: Buffer): Buffer {
  return Buffer.concat([DATA_PREFIX, keyBytes]);
}

function changelogValue(timestamp: number, bytes: Buffer | null): Buffer {
  const out = Buffer.allocUnsafe(9 + (bytes?.length ?? 0));
  writeInt64(out, timestamp, 0);
  out[8] = bytes === null ? 0 : 1;
  bytes?.copy(out, 9);
  return out;
}

/** A key's versions: per version `[from i64][length i32, -1 for a deletion][bytes]`. */
function encodeVersions(versions: readonly Version[]): Buffer {
  let size = 0;
  for (const v of versions) size += 12 + (v.bytes?.length ?? 0);
  const out = Buffer.allocUnsafe(size);
  let offset = 0;
  for (const v of versions) {
    writeInt64(out, v.from, offset);
    out.writeInt32BE(v.bytes === null ? -1 : v.bytes.length, offset + 8);
    offset += 12;
    if (v.bytes !== null) offset += v.bytes.copy(out, offset);
  }
  return out;
}

function decodeVersions(raw: Buffer): Version[] {
  const versions: Version[] = [];
  let offset = 0;
  while (offset < raw.length) {
    const from = readInt64(raw, offset);
    const length = raw.readInt32BE(offset + 8);
    offset += 12;
    versions.push({ from, bytes: length < 0 ? null : Buffer.from(raw.subarray(offset, offset + length)) });
    if (length > 0) offset += length;
  }
  return versions;
}
