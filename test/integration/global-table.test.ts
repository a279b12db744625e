import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Consumed, KafkaStreams, type ProcessingGuarantee, Materialized, Produced, QueryableStoreTypes, Serdes, StreamsBuilder } from '../../src/index.js';
import { readTopic } from '../../examples/sessionize/kafka-io.js';
import { brokers, createTopics, kafkaClient, uniqueName } from './kafka-env.js';
import { appsUnderTest } from './apps-under-test.js';
import { eventually, waitForState } from './sessionize-harness.js';

const S = Serdes.String();
const { apps, dirs } = appsUnderTest();

describe.each<ProcessingGuarantee>(['at_least_once', 'exactly_once_v2'])('GlobalKTable on a real broker (%s)', (guarantee) => {
  it('enriches a stream from a global table of another partition count, sees later updates, and restores only the tail after a restart, all of it on a wiped state folder', async () => {
    const id = uniqueName('global');
    const [users, views, out] = [`${id}-users`, `${id}-views`, `${id}-out`];
    // 3 partitions for the table, 2 for the stream: no co-partitioning, and none needed.
    await createTopics([{ topic: users, numPartitions: 3 }, { topic: views, numPartitions: 2 }, { topic: out, numPartitions: 2 }]);
    const builder = new StreamsBuilder();
    const plans = builder.globalTable(users, Consumed.with(S, S), Materialized.as<string, string>('plans'));
    builder
      .stream(views, Consumed.with(S, S))
      .join(plans, (_viewId, value) => value.split(':')[0]!, (view, plan) => `${view}/${plan}`)
      .to(out, Produced.with(S, S));
    const topology = builder.build({ applicationId: id });
    const stateDir = mkdtempSync(join(tmpdir(), 'kstreams-global-'));
    dirs.push(stateDir);
    let restored = 0;
    const start = async (dir = stateDir): Promise<KafkaStreams> => {
      const app = new KafkaStreams(topology, { applicationId: id, bootstrapServers: brokers(), stateDir: dir, commitIntervalMs: 200, processingGuarantee: guarantee, logLevel: 'warn' });
      apps.push(app);
      app.setGlobalStateRestoreListener({ onRestoreEnd: (partition, count) => void (partition.taskId === 'global' && (restored += count)) });
      await app.start();
      return app;
    };
    const produce = async (topic: string, records: Array<[string, string | null]>): Promise<void> => {
      const producer = kafkaClient('global-producer').producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      await producer.send({ topic, messages: records.map(([key, value]) => ({ key, value })) });
      await producer.disconnect();
    };
    const results = async () => (await readTopic(brokers(), out, 2, false)).map(([k, v]) => `${k.toString()}=${v?.toString()}`).sort();

    const users12 = Array.from({ length: 12 }, (_, i) => [`u${i}`, i % 3 === 0 ? 'pro' : 'free'] as [string, string]);
    await produce(users, users12);
    const first = await start();
    await waitForState(first, 'RUNNING');
    // RUNNING only after the global restore: the whole table is there.
    expect(restored).toBe(12);
    const store = () => first.store('plans', QueryableStoreTypes.keyValueStore<string, string>());
    expect(store().get('u3')).toBe('pro');
    await produce(views, users12.map(([user], i) => [`v${i}`, `${user}:home`]));
    await eventually(async () => (await results()).length === 12, '12 joined views');
    expect(await results()).toEqual(users12.map(([user, plan], i) => `v${i}=${user}:home/${plan}`).sort());

    // An update after start reaches the store, and a later view sees it; a tombstone deletes.
    await produce(users, [['u1', 'gold'], ['u2', null]]);
    await eventually(() => store().get('u1') === 'gold', 'the update of u1');
    await eventually(() => store().get('u2') === undefined, 'the deletion of u2');
    await produce(views, [['w1', 'u1:cart'], ['w2', 'u2:cart']]);
    await eventually(async () => (await results()).length === 13, 'the joined cart view');
    expect(await results()).toContain('w1=u1:cart/gold');
    await first.close();

    // A restart on the same state folder reads only what was written to the topic since.
    await produce(users, [['u4', 'pro']]);
    restored = 0;
    const second = await start();
    await waitForState(second, 'RUNNING');
    expect(restored).toBe(1);
    const again = second.store('plans', QueryableStoreTypes.keyValueStore<string, string>());
    expect([again.get('u1'), again.get('u2'), again.get('u4'), again.get('u0')]).toEqual(['gold', undefined, 'pro', 'pro']);
    await second.close();

    // On an empty state folder: the whole topic again, tombstone included.
    const wiped = mkdtempSync(join(tmpdir(), 'kstreams-global-'));
    dirs.push(wiped);
    restored = 0;
    const third = await start(wiped);
    await waitForState(third, 'RUNNING');
    expect(restored).toBe(15);
    expect(third.store('plans', QueryableStoreTypes.keyValueStore<string, string>()).get('u2')).toBeUndefined();
  });
});
