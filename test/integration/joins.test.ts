import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Consumed, KafkaStreams, Produced, Serdes, StreamsBuilder } from '../../src/index.js';
import { readTopic } from '../../examples/sessionize/kafka-io.js';
import { brokers, createTopics, groupLag, kafkaClient, uniqueName, withAdmin } from './kafka-env.js';
import { appsUnderTest } from './apps-under-test.js';
import { waitForState } from './sessionize-harness.js';

const S = Serdes.String();
const { apps, dirs } = appsUnderTest();

/** An enrichment application: views (`viewId -> user:page`, 2 partitions) re-keyed and joined with users (3). */
async function enrichment() {
  const id = uniqueName('enrich');
  const [users, views, out] = [`${id}-users`, `${id}-views`, `${id}-out`];
  // Views have 2 partitions, users 3: the re-keyed views' repartition topic must take the table's 3.
  await createTopics([{ topic: users, numPartitions: 3 }, { topic: views, numPartitions: 2 }, { topic: out, numPartitions: 3 }]);
  const repartition = `${id}-KSTREAM-KEY-SELECT-0000000004-repartition`;
  const builder = new StreamsBuilder();
  const table = builder.table(users, Consumed.with(S, S));
  builder
    .stream(views, Consumed.with(S, S))
    .selectKey((_viewId, value) => value.split(':')[0]!)
    .join(table, (view, plan) => `${view.split(':')[1]}/${plan}`)
    .to(out, Produced.with(S, S));
  const topology = builder.build({ applicationId: id });
  const counter = { restored: 0 };
  const start = async (): Promise<KafkaStreams> => {
    const stateDir = mkdtempSync(join(tmpdir(), 'kstreams-joins-'));
    dirs.push(stateDir);
    const app = new KafkaStreams(topology, {
      applicationId: id,
      bootstrapServers: brokers(),
      stateDir,
      commitIntervalMs: 200,
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 1000,
      logLevel: 'warn',
    });
    apps.push(app);
    app.setGlobalStateRestoreListener({ onRestoreEnd: (_partition, count) => (counter.restored += count) });
    await app.start();
    return app;
  };
  const produce = async (topic: string, records: Array<[string, string]>, timestamp: number): Promise<void> => {
    const producer = kafkaClient('joins-producer').producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic, messages: records.map(([key, value]) => ({ key, value, timestamp: String(timestamp) })) });
    await producer.disconnect();
  };
  const caughtUp = async (): Promise<void> => {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const lag = await groupLag(id, [users, views, repartition]);
      if (lag.length === 8 && lag.every((p) => p.lag === 0n && (p.end === 0n || p.committed >= 0n))) return;
      if (Date.now() > deadline) throw new Error(`lag did not reach zero: ${JSON.stringify(lag, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const results = async () => (await readTopic(brokers(), out, 3, false)).map(([k, v]) => `${k.toString()}=${v?.toString()}`).sort();
  const plans = Array.from({ length: 12 }, (_, i) => [`u${i}`, i % 3 === 0 ? 'pro' : 'free'] as [string, string]);
  const viewsOf = (prefix: string, page: string) => plans.map(([user], i) => [`${prefix}${i}`, `${user}:${page}`] as [string, string]);
  const joined = (page: string) => plans.map(([user, plan]) => `${user}=${page}/${plan}`);
  return { id, users, views, repartition, counter, start, produce, caughtUp, results, plans, viewsOf, joined };
}

describe('stream-table join on a real broker', () => {
  it('enriches re-keyed views with a user table, co-partitioned by repartition, and again from a wiped state folder', async () => {
    const e = await enrichment();
    await e.produce(e.users, e.plans, 1000);
    const first = await e.start();
    await waitForState(first, 'RUNNING');
    await e.caughtUp();
    await e.produce(e.views, e.viewsOf('v', 'home'), 2000);
    await e.caughtUp();
    expect(await e.results()).toEqual(e.joined('home').sort());
    const metadata = await withAdmin((admin) => admin.fetchTopicMetadata({ topics: [e.repartition] }));
    expect(metadata.topics[0]!.partitions.length).toBe(3);
    await first.close();

    // A new instance on an empty state folder restores the table from its changelog before joining.
    e.counter.restored = 0;
    const second = await e.start();
    await waitForState(second, 'RUNNING');
    expect(e.counter.restored).toBe(e.plans.length);
    await e.produce(e.views, e.viewsOf('w', 'cart'), 3000);
    await e.caughtUp();
    expect(await e.results()).toEqual([...e.joined('home'), ...e.joined('cart')].sort());
  });

  it('two instances produce the same joined results as one', async () => {
    const e = await enrichment();
    await e.produce(e.users, e.plans, 1000);
    const [a, b] = await Promise.all([e.start(), e.start()]);
    await Promise.all([waitForState(a, 'RUNNING'), waitForState(b, 'RUNNING')]);
    await e.caughtUp();
    await e.produce(e.views, e.viewsOf('v', 'home'), 2000);
    await e.caughtUp();
    expect(await e.results()).toEqual(e.joined('home').sort());
    // Both took part: each instance ran some of the tasks.
    expect([a.metrics().tasks.length > 0, b.metrics().tasks.length > 0]).toEqual([true, true]);
  });

  it('refuses to start when the joined topics are not co-partitioned, naming the join, the topics and their counts', async () => {
    const id = uniqueName('copartition');
    const [users, views] = [`${id}-users`, `${id}-views`];
    // The output exists: the start must get past the check of missing topics to the co-partitioning one.
    await createTopics([{ topic: users, numPartitions: 3 }, { topic: views, numPartitions: 2 }, { topic: `${id}-out`, numPartitions: 2 }]);
    const builder = new StreamsBuilder();
    builder
      .stream(views, Consumed.with(S, S))
      .join(builder.table(users, Consumed.with(S, S)), (v, u) => `${v}/${u}`)
      .to(`${id}-out`, Produced.with(S, S));
    const stateDir = mkdtempSync(join(tmpdir(), 'kstreams-joins-'));
    dirs.push(stateDir);
    const app = new KafkaStreams(builder.build({ applicationId: id }), { applicationId: id, bootstrapServers: brokers(), stateDir, logLevel: 'error' });
    apps.push(app);
    await expect(app.start()).rejects.toThrow(
      new RegExp(`the join KSTREAM-JOIN-0000000004\\) reads topics that are not co-partitioned: .*${views} \\(2 partitions\\).*${users} \\(3 partitions\\)`),
    );
  });
});
