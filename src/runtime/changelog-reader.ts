import type { KafkaConfig } from 'kafkajs';
import type { BytesEntry } from '../stores/bytes-store.js';
import { StreamsRuntimeError } from '../errors/errors.js';
import { installAbortedTransactionFilter } from './aborted-transaction-filter.js';
import { ISOLATION, createRawCluster, toBatch, type RawCluster } from './kafkajs-internals.js';

/**
 * Reads ranges of changelog partitions without a consumer group, as Kafka Streams' restore consumer does
 * with `assign` and `seek`. Under exactly-once it reads committed records only (aborted transactions and
 * transaction markers are skipped). One instance serves every restoration of a KafkaStreams instance.
 */
/** The client settings a reader needs (a resolved StreamsConfig has them). */
export interface ReaderOptions {
  readonly bootstrapServers: string[];
  readonly clientId: string;
  readonly kafka: Omit<Partial<KafkaConfig>, 'brokers' | 'clientId'>;
}

export class ChangelogReader {
  private readonly cluster: RawCluster;
  private readonly isolationLevel: number;
  private readonly knownTopics = new Set<string>();
  private connected = false;

  constructor(
    config: ReaderOptions,
    readCommitted: boolean,
  ) {
    installAbortedTransactionFilter();
    this.isolationLevel = readCommitted ? ISOLATION.READ_COMMITTED : ISOLATION.READ_UNCOMMITTED;
    this.cluster = createRawCluster(config.bootstrapServers, `${config.clientId}-restore`, this.isolationLevel, config.kafka);
  }

  private async ensureTopics(topics: string[]): Promise<void> {
    if (!this.connected) {
      await this.cluster.connect();
      this.connected = true;
    }
    const fresh = topics.filter((t) => !this.knownTopics.has(t));
    if (fresh.length === 0) return;
    await this.cluster.addMultipleTargetTopics(fresh);
    for (const t of fresh) this.knownTopics.add(t);
  }

  private async offsets(topic: string, partition: number, fromBeginning: boolean): Promise<bigint> {
    await this.ensureTopics([topic]);
    const [result] = await this.cluster.fetchTopicsOffset([{ topic, partitions: [{ partition }], fromBeginning }]);
    const offset = result?.partitions.find((p) => p.partition === partition)?.offset;
    if (offset === undefined) throw new StreamsRuntimeError(`No offsets for ${topic}-${partition}`);
    return BigInt(offset);
  }

  /** The end of the partition: the high watermark, or under read_committed the last stable offset. */
  endOffset(topic: string, partition: number): Promise<bigint> {
    return this.offsets(topic, partition, false);
  }

  /** The first offset still in the log (older records were deleted by retention). */
  beginningOffset(topic: string, partition: number): Promise<bigint> {
    return this.offsets(topic, partition, true);
  }

  /**
   * Reads [from, to) and hands each fetched batch to `onBatch` with the offset to continue from. Starts at
   * the log's beginning when `from` is below it.
   */
  async read(
    topic: string,
    partition: number,
    from: bigint,
    to: bigint,
    maxBytes: number,
    onBatch: (records: BytesEntry[], nextOffset: bigint, headerValues: ReadonlySet<string>) => Promise<void>,
    /** A record header whose distinct values each batch reports (the writer schema of changelog values). */
    header?: string,
  ): Promise<void> {
    await this.ensureTopics([topic]);
    let offset = from;
    const beginning = await this.beginningOffset(topic, partition);
    if (offset < beginning) offset = beginning;
    let failures = 0;
    while (offset < to) {
      let partitionData;
      try {
        const leaders = this.cluster.findLeaderForPartitions(topic, [partition]);
        const nodeId = Object.keys(leaders)[0];
        if (nodeId === undefined) throw new StreamsRuntimeError(`${topic}-${partition} has no leader`);
        const broker = await this.cluster.findBroker({ nodeId });
        const response = await broker.fetch({
          replicaId: -1,
          isolationLevel: this.isolationLevel,
          maxWaitTime: 200,
          minBytes: 1,
          maxBytes,
          topics: [{ topic, partitions: [{ partition, fetchOffset: offset.toString(), maxBytes }] }],
        });
        partitionData = response.responses[0]?.partitions.find((p) => p.partition === partition);
        failures = 0;
      } catch (err) {
        if (++failures > 10) {
          throw new StreamsRuntimeError(`Reading changelog ${topic}-${partition} at offset ${offset} failed: ${String(err)}`, {
            cause: err,
          });
        }
        await new Promise((r) => setTimeout(r, Math.min(100 * failures, 1000)));
        await this.cluster.refreshMetadata().catch(() => {});
        continue;
      }
      if (partitionData === undefined) continue;
      const batch = toBatch(topic, offset.toString(), partitionData);
      const fetched = batch.messagesWithinOffset;
      if (fetched.length === 0) {
        // Nothing visible yet (for example an open transaction before the last stable offset): look again.
        const stable = BigInt(partitionData.lastStableOffset ?? partitionData.highWatermark);
        if (stable <= offset) return;
        continue;
      }
      const next = BigInt(fetched[fetched.length - 1]!.offset) + 1n;
      const records: BytesEntry[] = [];
      const headerValues = new Set<string>();
      for (const m of batch.messages) {
        if (BigInt(m.offset) >= to) break;
        if (m.key !== null) records.push([m.key, m.value]);
        const value = header === undefined ? undefined : m.headers?.[header];
        if (value !== undefined) headerValues.add(value.toString());
      }
      await onBatch(records, next < to ? next : to, headerValues);
      offset = next;
    }
  }

  async close(): Promise<void> {
    if (this.connected) await this.cluster.disconnect();
    this.connected = false;
  }
}
