import type { Admin } from '../client/admin.js';
import { TopicPartitionMap } from '../client/topic-partition.js';
import type { Logger } from '../logging/logger.js';
import { asError } from '../errors/as-error.js';

/**
 * Deletes repartition records the application has committed past, as Kafka Streams does (its repartition
 * topics have no time retention, so that a replay of old data survives, and are purged instead). Purges run
 * at most once per interval and never block processing: a failed purge is retried with the next one.
 */
export class RepartitionPurger {
  private readonly pending = new TopicPartitionMap<bigint>();
  private lastPurge = 0;
  private running = false;

  constructor(
    private readonly admin: () => Admin | undefined,
    private readonly repartitionTopics: ReadonlySet<string>,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  /** Offsets the group has just committed; only repartition topics are kept. */
  committed(offsets: ReadonlyArray<{ topic: string; partition: number; offset: string }>): void {
    if (this.repartitionTopics.size === 0) return;
    for (const o of offsets) {
      if (this.repartitionTopics.has(o.topic)) this.pending.set(o.topic, o.partition, BigInt(o.offset));
    }
    if (this.running || this.pending.size === 0 || Date.now() - this.lastPurge < this.intervalMs) return;
    void this.purge();
  }

  private async purge(): Promise<void> {
    const admin = this.admin();
    if (admin === undefined) return;
    this.running = true;
    this.lastPurge = Date.now();
    const byTopic = new Map<string, Array<{ partition: number; offset: string }>>();
    for (const { topic, partition, value } of this.pending) {
      const list = byTopic.get(topic) ?? [];
      list.push({ partition, offset: value.toString() });
      byTopic.set(topic, list);
    }
    this.pending.clear();
    try {
      for (const [topic, partitions] of byTopic) await admin.deleteTopicRecords({ topic, partitions });
    } catch (err) {
      this.logger.debug(`purging committed repartition records failed (retried later): ${asError(err).message}`);
    } finally {
      this.running = false;
    }
  }
}
