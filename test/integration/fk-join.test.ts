import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Consumed, KafkaStreams, Produced, Serdes, StreamsBuilder } from '../../src/index.js';
import { readTopic } from '../../examples/sessionize/kafka-io.js';
import { brokers, createTopics, kafkaClient, uniqueName, withAdmin } from './kafka-env.js';
import { appsUnderTest } from './apps-under-test.js';
import { eventually, waitForState } from './sessionize-harness.js';

const S = Serdes.String();
const { apps, dirs } = appsUnderTest();

/** `partitionOf`: an explicit partition instead of the key's hash. */
async function produce(topic: string, records: Array<[string, string | null]>, partitionOf?: (key: string) => number): Promise<void> {
  const producer = kafkaClient('fk-join-producer').producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic, messages: records.map(([key, value]) => ({ key, value, partition: partitionOf?.(key) })) });
  await producer.disconnect();
}

/** The latest value of each key in a table's output topic (each key's updates are in order on its partition). */
async function latest(topic: string, partitions: number): Promise<Map<string, string | null>> {
  const table = new Map<string, string | null>();
  for (const [key, value] of await readTopic(brokers(), topic, partitions, false)) table.set(key.toString(), value?.toString() ?? null);
  return table;
}

describe('foreign-key table join on a real broker', () => {
  it('joins orders (2 partitions) with customers (3) through the subscription and response topics', async () => {
    const id = uniqueName('fkjoin');
    const [orders, customers, out] = [`${id}-orders`, `${id}-customers`, `${id}-out`];
    await createTopics([{ topic: orders, numPartitions: 2 }, { topic: customers, numPartitions: 3 }, { topic: out, numPartitions: 2 }]);
    const builder = new StreamsBuilder();
    builder
      .table(orders, Consumed.with(S, S))
      .join(builder.table(customers, Consumed.with(S, S)), (order) => order.split(':')[0]!, (order, tier) => `${order.split(':')[1]}/${tier}`)
      .toStream()
      .to(out, Produced.with(S, S));
    const topology = builder.build({ applicationId: id });
    const stateDir = mkdtempSync(join(tmpdir(), 'kstreams-fk-'));
    dirs.push(stateDir);
    const app = new KafkaStreams(topology, { applicationId: id, bootstrapServers: brokers(), stateDir, commitIntervalMs: 200, logLevel: 'warn' });
    apps.push(app);
    const customerIds = Array.from({ length: 6 }, (_, i) => `c${i}`);
    await produce(customers, customerIds.map((c, i) => [c, i % 2 === 0 ? 'gold' : 'silver']));
    await app.start();
    await waitForState(app, 'RUNNING');

    // Twenty orders over six customers: each customer has several orders, spread over both order partitions,
    // not by the key's hash (so an answer finds its order only on the partition it subscribed from).
    const orderIds = Array.from({ length: 20 }, (_, i) => `o${i}`);
    const customerOf = (i: number) => customerIds[i % customerIds.length]!;
    const orderPartition = (key: string) => (Number(key.slice(1)) < 10 ? 0 : 1);
    await produce(orders, orderIds.map((o, i) => [o, `${customerOf(i)}:item${i}`]), orderPartition);
    const expected = new Map<string, string | null>(orderIds.map((o, i) => [o, `item${i}/${i % customerIds.length % 2 === 0 ? 'gold' : 'silver'}`]));
    await eventually(async () => JSON.stringify([...(await latest(out, 2))].sort()) === JSON.stringify([...expected].sort()), 'every order joined');

    // A customer's change reaches all of its orders; an order moved to another customer follows it; a deleted
    // customer deletes its orders' results.
    await produce(customers, [['c1', 'platinum']]);
    await produce(orders, [['o0', 'c1:item0']], orderPartition);
    await produce(customers, [['c5', null]]);
    for (let i = 0; i < orderIds.length; i++) if (customerOf(i) === 'c1') expected.set(`o${i}`, `item${i}/platinum`);
    expected.set('o0', 'item0/platinum');
    for (let i = 0; i < orderIds.length; i++) if (customerOf(i) === 'c5') expected.set(`o${i}`, null);
    await eventually(async () => JSON.stringify([...(await latest(out, 2))].sort()) === JSON.stringify([...expected].sort()), 'the updates joined');

    const counts = await withAdmin(async (admin) => {
      const internal = topology.internalTopics.filter((t) => t.kind === 'repartition').map((t) => t.name);
      const metadata = await admin.fetchTopicMetadata({ topics: internal });
      return Object.fromEntries(metadata.topics.map((t) => [t.name.replace(/-\d{10}-topic$/, '').replace(`${id}-KTABLE-FK-JOIN-`, ''), t.partitions.length]));
    });
    // Subscriptions are partitioned as the customers, answers as the orders.
    expect(counts).toEqual({ 'SUBSCRIPTION-REGISTRATION': 3, 'SUBSCRIPTION-RESPONSE': 2 });
  }, 120_000);
});
