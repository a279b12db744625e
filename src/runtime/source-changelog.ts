import type { ReadRecord } from '../client/partition-reader.js';
import type { RecordErrorHandler } from '../config/record-error-handler.js';
import { asError } from '../errors/as-error.js';
import { StreamsRuntimeError } from '../errors/errors.js';
import type { Logger } from '../logging/logger.js';
import type { StoreDefinition } from '../processor/store-definition.js';
import type { Topology } from '../processor/topology.js';
import type { BytesEntry } from '../stores/bytes-store.js';
import { StoredValueCodec } from '../stores/timestamped-value.js';

/**
 * Turns records of a table's input topic into changelog entries of its store, for a store whose input
 * serves as its changelog (`topologyOptimization`). Each record is read with the source's deserializers and
 * written with the store's serdes, stamped with the record's timestamp, as the table's processor would
 * store it. A record that cannot be read is handed to the deserialization handler as in processing:
 * 'fail' stops the restoration naming it, otherwise it is skipped (it was skipped or dead-lettered when it
 * was processed). Kafka Streams 3.9 copies such records' bytes into the store unread (KAFKA-8037); reading
 * them keeps a malformed record out of the store.
 */
export class SourceChangelog {
  /** Records skipped as unreadable since the last `takeSkipped()`. */
  private skipped = 0;
  private lastError = '';
  private readonly codec: StoredValueCodec<unknown>;

  constructor(
    private readonly store: StoreDefinition,
    private readonly source: { readonly keySerde: StoreDefinition['keySerde']; readonly valueSerde: StoreDefinition['valueSerde'] },
    private readonly topic: string,
    private readonly partition: number,
    private readonly handler: RecordErrorHandler,
  ) {
    this.codec = new StoredValueCodec(store.valueSerde, store.timestamped === true);
  }

  /** The converter of a store restored from its input topic, or undefined for a store with a changelog of its own. */
  static of(topology: Topology, store: StoreDefinition, partition: number, handler: RecordErrorHandler): SourceChangelog | undefined {
    const topic = store.sourceChangelogTopic;
    if (topic === undefined) return undefined;
    const source = topology.subtopologyOfTopic(topic)?.sourceByTopic.get(topic);
    if (source === undefined) throw new StreamsRuntimeError(`Store ${store.name} is restored from ${topic}, which no sub-topology reads`);
    return new SourceChangelog(store, source, topic, partition, handler);
  }

  /** The store entry of one input record; undefined for a record the table drops (null key) or skips. */
  convert = (record: ReadRecord): BytesEntry | undefined => {
    let key: unknown;
    let value: unknown;
    try {
      key = record.key === null ? null : this.source.keySerde.deserialize(record.key);
      value = record.value === null ? null : this.source.valueSerde.deserialize(record.value);
    } catch (err) {
      const where = `${this.topic}-${this.partition}@${record.offset}`;
      if (this.handler === 'fail') {
        throw new StreamsRuntimeError(`Restoring store ${this.store.name} from ${where}: the record cannot be deserialized: ${asError(err).message}`, {
          cause: err,
        });
      }
      this.skipped++;
      this.lastError = `${where}: ${asError(err).message}`;
      return undefined;
    }
    if (key === null || key === undefined) return undefined;
    const keyBytes = this.store.keySerde.serialize(key);
    if (value === null || value === undefined) return [keyBytes, null];
    return [keyBytes, this.codec.encode({ value, timestamp: record.timestamp === undefined ? -1 : Number(record.timestamp) })];
  };

  /** Logs the records skipped so far, once (a malformed feed must not flood the log). */
  logSkipped(logger: Logger): void {
    if (this.skipped === 0) return;
    logger.warn(`restoring store ${this.store.name} from ${this.topic}-${this.partition} skipped ${this.skipped} unreadable records; last: ${this.lastError}`);
    this.skipped = 0;
  }
}
