import { changelogTopicName, type StoreDefinition } from '../processor/store-definition.js';
import { changelogHeaders } from './changelog-headers.js';
import type { ChangelogSink } from './changelog-sink.js';

/** One change to log: a store's key and value bytes (null: a tombstone), and the record's timestamp if it has its own. */
export type LoggedChange = readonly [key: Buffer, value: Buffer | null, timestamp?: number];

/**
 * The change-logging layer under the write cache (Kafka Streams' ChangeLogging*BytesStore): what a flush
 * writes, as the store's record-level bytes, becomes the store's changelog records, with the store's
 * changelog headers (the writer schema of evolving serdes), handed to the sink in the order written.
 */
export class ChangeLogging {
  readonly topic: string;
  private readonly headers: Record<string, Buffer>;

  private constructor(definition: StoreDefinition, applicationId: string, private readonly sink: ChangelogSink) {
    this.topic = changelogTopicName(applicationId, definition.name);
    this.headers = changelogHeaders(definition);
  }

  /** The layer of a store that logs to `sink`; none for a store with logging disabled, or without a sink. */
  static of(definition: StoreDefinition, applicationId: string, sink: ChangelogSink | undefined): ChangeLogging | undefined {
    return definition.loggingEnabled && sink !== undefined ? new ChangeLogging(definition, applicationId, sink) : undefined;
  }

  /** Logs one flush's changes: a record per changed key (a tombstone for a null value). */
  log(changes: readonly LoggedChange[]): void {
    for (const [key, value, timestamp] of changes) {
      this.sink.send(timestamp === undefined ? { topic: this.topic, key, value, headers: this.headers } : { topic: this.topic, key, value, headers: this.headers, timestamp });
    }
  }
}
