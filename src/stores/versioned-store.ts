import type { Serde } from '../serdes/serde.js';
import type { StoreDefinition } from '../processor/store-definition.js';
import type { BytesEntry, BytesStore } from './bytes-store.js';
import type { ChangeLogging, LoggedChange } from './change-logging.js';
import { TypedStore } from './typed-store.js';
import type { ManagedVersionedStore } from './managed-store.js';
import {
  PUT_RETURN_CODE_NOT_PUT,
  type VersionedRecord,
} from './state-store.js';
import { readInt64, writeInt64 } from './int64.js';
import { VersionedAlgorithm, decodeKeyVersions, defaultSegmentInterval, encodeKeyVersions, type KeyVersions } from './versioned-history.js';
import { StateStoreError } from '../errors/errors.js';

/** What the cache holds per key: its versions, and the puts not logged yet. */
interface History extends KeyVersions {
  unlogged?: Array<[timestamp: number, bytes: Buffer | null]>;
}

/** Local keys: the observed time under [0x00], a record key's versions under [0x01][key bytes]. */
const OBSERVED_KEY = Buffer.from([0]);
const DATA_PREFIX = Buffer.from([1]);

/** Kafka Streams' observed stream time before any put (ConsumerRecord.NO_TIMESTAMP). */
const NO_TIMESTAMP = -1;

/**
 * A versioned key-value store (Kafka Streams' RocksDBVersionedStore, KIP-889): every key keeps its latest
 * value and the versions it replaced for `historyRetentionMs` of the store's observed time (the largest
 * timestamp put). Put, get and delete are RocksDBVersionedStore's, ported in versioned-history.ts with its
 * latest-value/segments layout (one LevelDB value per key holding both) and its segment expiry: a put
 * older than observed time − history retention is not put (PUT_RETURN_CODE_NOT_PUT); a put returns the new
 * version's validTo (PUT_RETURN_CODE_VALID_TO_UNDEFINED when it is the latest); a query as of a time
 * before observed time − history retention sees only the latest version.
 *
 * Changelog: Kafka Streams' (ChangeLoggingVersionedKeyValueBytesStore): one record per put, key = the key's
 * bytes, value = the value's bytes (a tombstone for a deletion), Kafka timestamp = the version's timestamp.
 * Restoration gets them framed by `versionedChangelogEntry` (the record's timestamp into its entry).
 */
export class VersionedStore<K, V> extends TypedStore<K, History> implements ManagedVersionedStore<K, V> {
  readonly kind = 'versioned' as const;
  readonly historyRetentionMs: number;
  private readonly valueSerde: Serde<V>;
  private readonly algorithm: VersionedAlgorithm;
  private observed = NO_TIMESTAMP;
  private observedWritten = NO_TIMESTAMP;

  constructor(
    readonly definition: StoreDefinition,
    bytes: BytesStore,
    cacheBudgetBytes: number,
    logging?: ChangeLogging,
  ) {
    super(definition.name, definition.keySerde as Serde<K>, bytes, cacheBudgetBytes, logging);
    this.valueSerde = definition.valueSerde as Serde<V>;
    this.historyRetentionMs = definition.historyRetentionMs ?? 0;
    const segmentIntervalMs = definition.segmentIntervalMs ?? defaultSegmentInterval(this.historyRetentionMs);
    this.algorithm = new VersionedAlgorithm(this.historyRetentionMs, segmentIntervalMs);
    this.readObservedTime();
  }

  private readObservedTime(): void {
    const raw = this.bytes.get(OBSERVED_KEY);
    this.observed = raw === undefined ? NO_TIMESTAMP : readInt64(raw, 0);
    this.observedWritten = this.observed;
  }

  protected override afterBytesReplaced(): void {
    this.readObservedTime();
  }

  protected override afterDiscard(): void {
    this.observedWritten = NO_TIMESTAMP;
  }

  override observedTime(): number {
    return this.observed;
  }

  /** Puts and deletes older than this are not applied (Kafka Streams' grace period, = history retention). */
  private horizon(): number {
    return this.observed - this.historyRetentionMs;
  }

  put(key: K, value: V | null, timestamp: number): number {
    if (key === null || key === undefined) throw new StateStoreError(`Versioned store ${this.name}: a key cannot be null`);
    const expired = timestamp < this.horizon();
    if (!expired && timestamp > this.observed) this.observed = timestamp;
    const history: History = this.read(key) ?? { segments: [] };
    const bytes = value === null ? null : this.valueSerde.serialize(value);
    const validTo = expired ? PUT_RETURN_CODE_NOT_PUT : this.algorithm.doPut(history, this.observed, bytes, timestamp);
    // Logged even when not put, as Kafka Streams' ChangeLoggingVersionedKeyValueBytesStore does (a restore skips it).
    (history.unlogged ??= []).push([timestamp, bytes]);
    this.write(key, history);
    return validTo;
  }

  /** The version of `key` (latest, or as of a time) without its validTo, as Kafka Streams' processors get it. */
  get(key: K, asOfTimestamp?: number): VersionedRecord<V> | undefined {
    const found = this.getVersion(key, asOfTimestamp);
    return found?.validTo === undefined ? found : { value: found.value, timestamp: found.timestamp };
  }

  getVersion(key: K, asOfTimestamp?: number): VersionedRecord<V> | undefined {
    const history = this.read(key);
    if (history === undefined) return undefined;
    if (asOfTimestamp === undefined) {
      const latest = history.latest;
      return latest === undefined ? undefined : { value: this.valueSerde.deserialize(latest.bytes), timestamp: latest.ts };
    }
    const found = this.algorithm.getAsOf(history, asOfTimestamp, this.observed);
    if (found === undefined) return undefined;
    const value = this.valueSerde.deserialize(found.bytes);
    return found.validTo === undefined ? { value, timestamp: found.timestamp } : { value, timestamp: found.timestamp, validTo: found.validTo };
  }

  delete(key: K, timestamp: number): VersionedRecord<V> | undefined {
    const existing = timestamp < this.horizon() ? undefined : this.get(key, timestamp);
    this.put(key, null, timestamp);
    return existing;
  }

  protected decode(raw: Buffer): History {
    return decodeKeyVersions(raw);
  }

  protected encode(history: History): Buffer | null {
    return encodeKeyVersions(history);
  }

  protected override load(keyBytes: Buffer): History | undefined {
    const raw = this.bytes.get(localKey(keyBytes));
    return raw === undefined ? undefined : this.decode(raw);
  }

  protected override toLocal(keyBytes: Buffer, history: History | undefined): BytesEntry[] {
    return [[localKey(keyBytes), history === undefined ? null : this.encode(history)]];
  }

  /** One changelog record per put since the last flush, in the order they were made, stamped with its version's time. */
  protected changesOf(keyBytes: Buffer, history: History | undefined): LoggedChange[] {
    const unlogged = history?.unlogged;
    if (history === undefined || unlogged === undefined) return [];
    history.unlogged = undefined;
    return unlogged.map(([timestamp, bytes]) => [keyBytes, bytes, timestamp]);
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
   * Changelog records (in offset order, each framed by `versionedChangelogEntry`) as LevelDB entries, as RocksDBVersionedStore#restoreBatch applies
   * them: a record older than the observed time − history retention at that point is skipped; the others
   * are put as `put` puts them, but with the batch's last observed time for segment expiry. One entry per
   * key of the batch; values never deserialized.
   */
  restoreEntries(records: readonly BytesEntry[]): BytesEntry[] {
    let endOfBatch = this.observed;
    for (const [, value] of records) if (value !== null && value.length >= 9) endOfBatch = Math.max(endOfBatch, readInt64(value, 0));
    const histories = new Map<string, { keyBytes: Buffer; versions: KeyVersions }>();
    for (const [keyBytes, value] of records) {
      if (value === null || value.length < 9) continue; // not framed by versionedChangelogEntry
      const timestamp = readInt64(value, 0);
      if (timestamp < this.horizon()) continue;
      if (timestamp > this.observed) this.observed = timestamp;
      const id = keyBytes.toString('latin1');
      let history = histories.get(id);
      if (history === undefined) {
        const raw = this.bytes.get(localKey(keyBytes));
        history = { keyBytes, versions: raw === undefined ? { segments: [] } : decodeKeyVersions(raw) };
        histories.set(id, history);
      }
      this.algorithm.doPut(history.versions, endOfBatch, value[8] === 1 ? value.subarray(9) : null, timestamp);
    }
    const entries: BytesEntry[] = [];
    for (const { keyBytes, versions } of histories.values()) entries.push([localKey(keyBytes), encodeKeyVersions(versions)]);
    return this.withObserved(entries);
  }
}

function localKey(keyBytes: Buffer): Buffer {
  return Buffer.concat([DATA_PREFIX, keyBytes]);
}

/**
 * A versioned store's changelog record (key, value or null for a tombstone, Kafka timestamp) as the entry
 * its `restoreEntries` takes: the value framed as `[timestamp i64][1 if a value, 0 if a deletion][bytes]`.
 */
export function versionedChangelogEntry(key: Buffer, value: Buffer | null, timestamp: number): BytesEntry {
  return [key, changelogValue(timestamp, value)];
}

function changelogValue(timestamp: number, bytes: Buffer | null): Buffer {
  const out = Buffer.allocUnsafe(9 + (bytes?.length ?? 0));
  writeInt64(out, timestamp, 0);
  out[8] = bytes === null ? 0 : 1;
  bytes?.copy(out, 9);
  return out;
}
