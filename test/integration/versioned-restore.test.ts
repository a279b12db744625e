import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Consumed, KafkaStreams, Materialized, QueryableStoreTypes, Serdes, Stores, StreamsBuilder } from '../../src/index.js';
import { ChangelogReader } from '../../src/runtime/changelog-reader.js';
import { createKafkajsClient } from '../../src/client/kafkajs/kafkajs-client.js';
import { brokers, createTopics, kafkaClient, uniqueName } from './kafka-env.js';
import { eventually, waitForState } from './sessionize-harness.js';

const S = Serdes.String();
const apps: KafkaStreams[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close().catch(() => {})));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'kstreams-versioned-'));
  dirs.push(dir);
  return dir;
};

/** Every record of partition 0 of `topic`: key, value, Kafka timestamp. */
async function readWithTimestamps(topic: string): Promise<Array<[string, string | null, number]>> {
  const reader = new ChangelogReader(createKafkajsClient({ brokers: brokers(), clientId: 'versioned-reader', connection: {} }).partitionReader(false));
  const records: Array<[string, string | null, number]> = [];
  try {
    const end = await reader.endOffset(topic, 0);
    await reader.read(topic, 0, 0n, end, 1 << 20, async () => {}, undefined, (m) => {
      records.push([m.key!.toString(), m.value?.toString() ?? null, Number(m.timestamp)]);
      return undefined;
    });
  } finally {
    await reader.close();
  }
  return records;
}

describe('a versioned table on a real broker', () => {
  it("logs Kafka Streams' changelog format (plain values and tombstones at the versions' timestamps) and restores its history from it on a wiped state folder", async () => {
    const id = uniqueName('versioned');
    const prices = `${id}-prices`;
    await createTopics([{ topic: prices, numPartitions: 1 }]);
    // Timestamps of the last hour: brokers accept them whatever their timestamp limits.
    const t0 = Date.now() - 3_600_000;
    const updates: Array<[string, string | null, number]> = [
      ['p', 'one', t0 + 10], ['p', 'three', t0 + 30], ['p', 'two', t0 + 20], ['q', 'x', t0 + 5], ['q', null, t0 + 15],
    ];
    const producer = kafkaClient('versioned-producer').producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic: prices, messages: updates.map(([key, value, ts]) => ({ key, value, timestamp: String(ts) })) });
    await producer.disconnect();

    let restored = 0;
    const start = async (stateDir: string): Promise<KafkaStreams> => {
      const builder = new StreamsBuilder();
      builder.table(prices, Consumed.with(S, S), Materialized.as<string, string>(Stores.persistentVersionedKeyValueStore('prices-store', 86_400_000)));
      const app = new KafkaStreams(builder.build({ applicationId: id }), {
        applicationId: id,
        bootstrapServers: brokers(),
        stateDir,
        commitIntervalMs: 200,
        logLevel: 'silent',
      });
      apps.push(app);
      app.setGlobalStateRestoreListener({ onRestoreEnd: (partition, count) => void (partition.storeName === 'prices-store' && (restored += count)) });
      await app.start();
      await waitForState(app, 'RUNNING');
      return app;
    };
    const first = await start(tempDir());
    const store = () => apps[apps.length - 1]!.store('prices-store', QueryableStoreTypes.versionedKeyValueStore<string, string>());
    await eventually(() => store().get('p')?.value === 'three' && store().get('q', t0 + 5)?.value === 'x' && store().get('q') === undefined, 'the table');
    await first.close();
    expect(restored).toBe(0);
    expect(await readWithTimestamps(`${id}-prices-store-changelog`)).toEqual(updates);

    await start(tempDir());
    expect(restored).toBe(5);
    expect(store().get('p')).toEqual({ value: 'three', timestamp: t0 + 30 });
    expect(store().get('p', t0 + 25)).toEqual({ value: 'two', timestamp: t0 + 20, validTo: t0 + 30 });
    expect(store().get('p', t0 + 15)).toEqual({ value: 'one', timestamp: t0 + 10, validTo: t0 + 20 });
    expect(store().get('q', t0 + 10)).toEqual({ value: 'x', timestamp: t0 + 5, validTo: t0 + 15 });
    expect(store().get('q')).toBeUndefined();
  });
});
