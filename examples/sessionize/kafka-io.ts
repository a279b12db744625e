/** Getting the example's events into Kafka and its results out, shared by the runner, tests and benchmarks. */
import type { Producer } from 'kafkajs';
import type { Serde, Windowed } from '../../src/index.js';
import { ChangelogReader } from '../../src/runtime/changelog-reader.js';
import { createKafkajsClient } from '../../src/client/kafkajs/kafkajs-client.js';
import type { GeneratedEvent, OracleSession } from './generator.js';
import { pageViewSerde, sessionKeySerde, sessionStatsSerde, type PageView, type SessionStats } from './topology.js';

export const MALFORMED = Buffer.from('GET /index.html HTTP/1.1" 200 -- not an avro record');

/**
 * Writes the events with event-time timestamps, keyed by user (so one user's views keep their order), or
 * with `servers` as web servers log them: view i is logged by server i % servers (its key) into partition
 * i % servers, so one user's views are spread over every partition and meet again only after the
 * repartition by user. The topic needs at least `servers` partitions.
 */
export async function produceEvents(
  producer: Producer,
  topic: string,
  events: readonly GeneratedEvent[],
  batchSize = 5000,
  viewSerde: Serde<PageView> = pageViewSerde,
  servers?: number,
): Promise<void> {
  for (let i = 0; i < events.length; i += batchSize) {
    const messages = events.slice(i, i + batchSize).map(({ view, malformed }, j) => {
      const server = servers === undefined ? undefined : (i + j) % servers;
      return {
        key: server === undefined ? view.userId : `web-${server}`,
        value: malformed ? MALFORMED : viewSerde.serialize(view),
        timestamp: String(view.timestamp),
        partition: server,
      };
    });
    await producer.send({ topic, messages });
  }
}

/** Every record of a topic from the beginning to its current end, per partition in offset order. */
export async function readTopic(
  bootstrapServers: string[],
  topic: string,
  partitions: number,
  readCommitted: boolean,
): Promise<Array<[Buffer, Buffer | null]>> {
  const reader = new ChangelogReader(createKafkajsClient({ brokers: bootstrapServers, clientId: 'example-reader', connection: {} }).partitionReader(readCommitted));
  const records: Array<[Buffer, Buffer | null]> = [];
  try {
    for (let p = 0; p < partitions; p++) {
      const end = await reader.endOffset(topic, p);
      await reader.read(topic, p, 0n, end, 8 * 1024 * 1024, async (batch) => {
        for (const r of batch) records.push([r[0], r[1]]);
      });
    }
  } finally {
    await reader.close();
  }
  return records;
}

export interface SessionResult {
  readonly sessions: Map<string, OracleSession>;
  /** Updates per session beyond its first (what a reader of the output sees as intermediate results). */
  readonly updates: number;
}

/**
 * The final sessions in an output topic: the last value per windowed key, tombstoned sessions removed.
 * `statsOf` reads a value (default: the Avro serde the example writes with).
 */
export function finalSessions(
  records: ReadonlyArray<[Buffer, Buffer | null]>,
  statsOf: (bytes: Buffer) => SessionStats = (bytes) => sessionStatsSerde.deserialize(bytes),
): SessionResult {
  const latest = new Map<string, { key: Windowed<string>; stats: SessionStats | null }>();
  for (const [keyBytes, valueBytes] of records) {
    const key = sessionKeySerde.deserialize(keyBytes);
    latest.set(`${key.key}@${key.window.start}-${key.window.end}`, {
      key,
      stats: valueBytes === null ? null : statsOf(valueBytes),
    });
  }
  const sessions = new Map<string, OracleSession>();
  for (const [id, { key, stats }] of latest) {
    if (stats === null) continue;
    sessions.set(id, {
      userId: key.key,
      start: key.window.start,
      end: key.window.end,
      count: Number(stats.count),
      bytes: Number(stats.bytes),
      pages: stats.pages,
    });
  }
  return { sessions, updates: records.length - latest.size };
}
