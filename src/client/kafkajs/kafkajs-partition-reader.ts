import { StreamsRuntimeError } from '../../errors/errors.js';
import type { PartitionFetch, PartitionReader } from '../partition-reader.js';
import { ISOLATION, toBatch, type RawCluster } from './kafkajs-internals.js';

/** {@link PartitionReader} on a kafkajs cluster connection of its own (kafkajs has no assigned consumer). */
export class KafkajsPartitionReader implements PartitionReader {
  private readonly knownTopics = new Set<string>();
  private connected = false;

  constructor(
    private readonly cluster: RawCluster,
    private readonly readCommitted: boolean,
  ) {}

  private async ensureTopic(topic: string): Promise<void> {
    if (!this.connected) {
      await this.cluster.connect();
      this.connected = true;
    }
    if (this.knownTopics.has(topic)) return;
    await this.cluster.addMultipleTargetTopics([topic]);
    this.knownTopics.add(topic);
  }

  async offset(topic: string, partition: number, which: 'start' | 'end'): Promise<bigint> {
    await this.ensureTopic(topic);
    const [result] = await this.cluster.fetchTopicsOffset([{ topic, partitions: [{ partition }], fromBeginning: which === 'start' }]);
    const offset = result?.partitions.find((p) => p.partition === partition)?.offset;
    if (offset === undefined) throw new StreamsRuntimeError(`No offsets for ${topic}-${partition}`);
    return BigInt(offset);
  }

  async fetch(topic: string, partition: number, offset: bigint, maxBytes: number): Promise<PartitionFetch | undefined> {
    await this.ensureTopic(topic);
    const leaders = this.cluster.findLeaderForPartitions(topic, [partition]);
    const nodeId = Object.keys(leaders)[0];
    if (nodeId === undefined) throw new StreamsRuntimeError(`${topic}-${partition} has no leader`);
    const broker = await this.cluster.findBroker({ nodeId });
    const response = await broker.fetch({
      replicaId: -1,
      isolationLevel: this.readCommitted ? ISOLATION.READ_COMMITTED : ISOLATION.READ_UNCOMMITTED,
      maxWaitTime: 200,
      minBytes: 1,
      maxBytes,
      topics: [{ topic, partitions: [{ partition, fetchOffset: offset.toString(), maxBytes }] }],
    });
    const data = response.responses[0]?.partitions.find((p) => p.partition === partition);
    if (data === undefined) return undefined;
    // kafkajs' Batch hides control records and those of aborted transactions; what it covered includes them.
    const batch = toBatch(topic, offset.toString(), data);
    const covered = batch.messagesWithinOffset;
    return {
      records: batch.messages,
      nextOffset: covered.length === 0 ? undefined : BigInt(covered[covered.length - 1]!.offset) + 1n,
      stableOffset: BigInt(data.lastStableOffset ?? data.highWatermark),
    };
  }

  refreshMetadata(): Promise<void> {
    return this.cluster.refreshMetadata();
  }

  async close(): Promise<void> {
    if (this.connected) await this.cluster.disconnect();
    this.connected = false;
  }
}
