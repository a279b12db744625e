/**
 * What an application's changelog topics hold, read back from the broker: records, tombstones, the key and
 * value bytes written, what compaction would leave (the last record of each key that is not a tombstone),
 * and, when the broker is the bench's own local one, the bytes of its log segments on disk (record batches
 * with their headers, before any compaction: at benchmark sizes everything sits in the active segment,
 * which the log cleaner never compacts).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchBroker } from './bench-env.js';
import { readTopic } from '../../examples/sessionize/kafka-io.js';

export interface ChangelogVolume {
  records: number;
  tombstones: number;
  /** Key + value bytes of every record. */
  bytes: number;
  /** Keys whose last record is a value, and their key + value bytes: what a compacted changelog converges to. */
  liveKeys: number;
  compactedBytes: number;
  /** Bytes of the topics' log segment files on the broker's disk; NaN when the broker is not the local one. */
  brokerBytes: number;
}

/** Bytes of the `.log` segment files of every partition folder of `topic` (index files are preallocated: left out). */
function segmentBytes(logDir: string, topic: string): number {
  let total = 0;
  for (const folder of readdirSync(logDir)) {
    if (!folder.startsWith(`${topic}-`) || !/^\d+$/.test(folder.slice(topic.length + 1))) continue;
    for (const file of readdirSync(join(logDir, folder))) if (file.endsWith('.log')) total += statSync(join(logDir, folder, file)).size;
  }
  return total;
}

export async function changelogVolume(broker: BenchBroker, applicationId: string): Promise<ChangelogVolume> {
  const admin = broker.kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${applicationId}-`) && t.endsWith('-changelog'));
    const volume: ChangelogVolume = { records: 0, tombstones: 0, bytes: 0, liveKeys: 0, compactedBytes: 0, brokerBytes: broker.logDir === undefined ? Number.NaN : 0 };
    for (const topic of topics) {
      const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
      const last = new Map<string, number>();
      for (const [key, value] of await readTopic(broker.brokers, topic, meta?.partitions.length ?? 0, false)) {
        volume.records++;
        if (value === null) volume.tombstones++;
        volume.bytes += key.length + (value?.length ?? 0);
        const id = key.toString('base64');
        if (value === null) last.delete(id);
        else last.set(id, key.length + value.length);
      }
      volume.liveKeys += last.size;
      for (const bytes of last.values()) volume.compactedBytes += bytes;
      if (broker.logDir !== undefined) volume.brokerBytes += segmentBytes(broker.logDir, topic);
    }
    return volume;
  } finally {
    await admin.disconnect();
  }
}
