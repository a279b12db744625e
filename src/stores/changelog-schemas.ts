import { isSchemaEvolving } from '../serdes/avro-serde.js';
import { rabinFingerprint } from '../serdes/rabin-fingerprint.js';
import { changelogTopicConfig, type StoreDefinition } from '../processor/store-definition.js';
import type { ChangelogRecord } from './changelog-sink.js';

/**
 * How a store's changelog names the writer schemas of its values, for serdes that evolve (Avro), so that a
 * restore on an empty disk can read values written with a schema older than the current one.
 *
 * Each value already names its writer schema by its 8-byte fingerprint (Avro single-object encoding): the
 * schema itself is needed once per changelog partition, not once per record. So a task writes a *schema
 * record* to its changelog partition before the first changelog record of its incarnation: the reserved key
 * SCHEMA_KEY_PREFIX + the schema's fingerprint (one key per schema, never overwritten by another schema nor
 * tombstoned, so compaction keeps the latest), the schema (Parsing Canonical Form) as its value, and the
 * header SCHEMA_RECORD_HEADER. It travels in the task's output like any changelog record (in its transaction
 * under exactly-once: aborted with the data, and a task whose transaction aborts is re-created, so it writes
 * the schema record again). Every reader of changelogs (ChangelogReader) learns the schema from it and never
 * hands it to a store.
 *
 * Changelogs of the earlier format carry the schema in the header SCHEMA_HEADER of every record: still read.
 */

/** The header of every changelog record of the earlier format: its value's writer schema. Read, no longer written. */
export const SCHEMA_HEADER = 'kstreams.value.schema';

/** The header that marks a schema record; its value is the schema's fingerprint (hex), for people reading the topic. */
export const SCHEMA_RECORD_HEADER = 'kstreams.schema.record';

/**
 * The first bytes of a schema record's key. 0xFF never occurs in UTF-8 (string and JSON keys), Avro keys start
 * with 0xC3 0x01, and the whole key (32 bytes) is longer than the fixed-size keys of number serdes, windowed
 * or not: no key serde of ours writes it, and a reader also requires the header.
 */
const SCHEMA_KEY_PREFIX = Buffer.concat([Buffer.from([0xff, 0x00]), Buffer.from('kstreams.schema.record', 'latin1')]);

/** The longest a schema record's announcement lasts before it is written again (see SchemaAnnouncer). */
const MAX_REANNOUNCE_MS = 60 * 60 * 1000;
const MIN_REANNOUNCE_MS = 1000;

/** The key of the schema record of `schema`: the reserved prefix, then the schema's fingerprint. */
export function schemaRecordKey(schema: string): Buffer {
  return Buffer.concat([SCHEMA_KEY_PREFIX, rabinFingerprint(schema)]);
}

/** The schema a changelog record announces, when it is a schema record (reserved key and header); else undefined. */
export function schemaOfRecord(key: Buffer | null, value: Buffer | null, headers: Readonly<Record<string, unknown>> | undefined): string | undefined {
  if (key === null || value === null || headers?.[SCHEMA_RECORD_HEADER] === undefined) return undefined;
  if (key.length !== SCHEMA_KEY_PREFIX.length + 8 || !key.subarray(0, SCHEMA_KEY_PREFIX.length).equals(SCHEMA_KEY_PREFIX)) return undefined;
  return value.toString('utf8');
}

/**
 * True for a *schema record* of a store's changelog: the record, written once per changelog partition and
 * writer schema, that names the Avro schema of the store's values (see README "Upgrading an application").
 * It is not an entry of the store: skip it when reading a changelog yourself, for example
 * `<app>-<store>-changelog` from a TopologyTestDriver or another consumer.
 *
 * @param record - The changelog record's headers, as a consumer or the test driver gives them.
 */
export function isChangelogSchemaRecord(record: { readonly headers?: Readonly<Record<string, unknown>> }): boolean {
  return record.headers?.[SCHEMA_RECORD_HEADER] !== undefined;
}

/**
 * Writes the schema record of a store's current writer schema before the first changelog record of the
 * task's incarnation, and again once `reannounceMs` passed since (wall clock): a window, session or
 * versioned changelog also deletes by time (`retention.ms`), which could delete the schema record while
 * later records of the same schema stay. Announcing at least every quarter of the shortest retention the
 * topic can have (and at least hourly) keeps a schema record younger than any record that needs it by more
 * than that retention minus a quarter of it. Costs one record (about 300 bytes) per partition per incarnation
 * and per interval; compaction keeps only the latest of each schema.
 */
export class SchemaAnnouncer {
  private readonly record: Omit<ChangelogRecord, 'topic'>;
  private readonly reannounceMs: number;
  private announcedAt = Number.NEGATIVE_INFINITY;

  private constructor(schema: string, definition: StoreDefinition, private readonly clock: () => number) {
    this.record = { key: schemaRecordKey(schema), value: Buffer.from(schema, 'utf8'), headers: { [SCHEMA_RECORD_HEADER]: Buffer.from(rabinFingerprint(schema).toString('hex')) } };
    const retention = Number(changelogTopicConfig(definition, 0)['retention.ms'] ?? -1);
    this.reannounceMs = retention > 0 ? Math.max(MIN_REANNOUNCE_MS, Math.min(MAX_REANNOUNCE_MS, retention / 4)) : MAX_REANNOUNCE_MS;
  }

  /** The announcer of a store whose value serde evolves; none for other serdes (their changelogs carry no schema). */
  static of(definition: StoreDefinition, clock: () => number): SchemaAnnouncer | undefined {
    const serde = definition.valueSerde;
    return isSchemaEvolving(serde) ? new SchemaAnnouncer(serde.writerSchema, definition, clock) : undefined;
  }

  /** The schema record to write before the records being logged now, when one is due; else undefined. */
  due(topic: string): ChangelogRecord | undefined {
    const now = this.clock();
    if (now - this.announcedAt < this.reannounceMs) return undefined;
    this.announcedAt = now;
    return { topic, ...this.record };
  }
}
