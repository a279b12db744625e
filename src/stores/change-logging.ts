import { changelogTopicName, type StoreDefinition } from '../processor/store-definition.js';
import { SchemaAnnouncer } from './changelog-schemas.js';
import type { ChangelogSink } from './changelog-sink.js';

/** One change to log: a store's key and value bytes (null: a tombstone), and the record's timestamp if it has its own. */
export type LoggedChange = readonly [key: Buffer, value: Buffer | null, timestamp?: number];

/** Changelog records of the store's changes carry no headers, as Kafka Streams' (shared: the receiver must not change it). */
const NO_HEADERS: Record<string, Buffer> = Object.freeze({});

/**
 * The change-logging layer under the write cache (Kafka Streams' ChangeLogging*BytesStore): what a flush
 * writes, as the store's record-level bytes, becomes the store's changelog records, handed to the sink in
 * the order written. A store whose value serde evolves (Avro) also writes the schema record of its writer
 * schema when one is due (see changelog-schemas.ts): before its first records, and again now and then.
 */
export class ChangeLogging {
  readonly topic: string;
  private readonly schemas: SchemaAnnouncer | undefined;

  private constructor(definition: StoreDefinition, applicationId: string, private readonly sink: ChangelogSink, clock: () => number) {
    this.topic = changelogTopicName(applicationId, definition.name);
    this.schemas = SchemaAnnouncer.of(definition, clock);
  }

  /**
   * The layer of a store that logs to `sink`; none for a store with logging disabled (also a table's store
   * whose input topic serves as its changelog: nothing is written there), or without a sink. `clock` (wall
   * time) paces the schema records.
   */
  static of(definition: StoreDefinition, applicationId: string, sink: ChangelogSink | undefined, clock: () => number = Date.now): ChangeLogging | undefined {
    return definition.loggingEnabled && sink !== undefined ? new ChangeLogging(definition, applicationId, sink, clock) : undefined;
  }

  /** Logs one flush's changes: a record per changed key (a tombstone for a null value), after a schema record when due. */
  log(changes: readonly LoggedChange[]): void {
    if (changes.length === 0) return;
    const schemaRecord = this.schemas?.due(this.topic);
    if (schemaRecord !== undefined) this.sink.send(schemaRecord);
    for (const [key, value, timestamp] of changes) {
      this.sink.send(timestamp === undefined ? { topic: this.topic, key, value, headers: NO_HEADERS } : { topic: this.topic, key, value, headers: NO_HEADERS, timestamp });
    }
  }
}
