import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Consumed,
  Grouped,
  KafkaStreams,
  Materialized,
  Produced,
  QueryableStoreTypes,
  Serdes,
  StreamsBuilder,
  type ProcessingGuarantee,
  type TopologyOptimization,
} from '../../src/index.js';
import { readTopic } from '../../examples/sessionize/kafka-io.js';
import { brokers, createTopics, kafkaClient, uniqueName, withAdmin } from './kafka-env.js';
import { eventually, waitForState } from './sessionize-harness.js';

const S = Serdes.String();
const J = Serdes.Json<{ plan: string }>();
const apps: KafkaStreams[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close().catch(() => {})));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'kstreams-source-changelog-'));
  dirs.push(dir);
  return dir;
};

describe.each<ProcessingGuarantee>(['at_least_once', 'exactly_once_v2'])('a table input topic as its changelog on a real broker (%s)', (guarantee) => {
  it('creates no changelog topic, restores from the input up to the committed offset on a wiped state folder, skips a malformed record, and agrees with the unoptimized app', async () => {
    const id = uniqueName('srcchg');
    const [users, views] = [`${id}-users`, `${id}-views`];
    const optimized = `${id}-opt`;
    const plain = `${id}-plain`;
    const outputs = (app: string) => ({ joined: `${app}-joined-out`, counts: `${app}-counts-out` });
    await createTopics(
      [users, views, ...Object.values(outputs(optimized)), ...Object.values(outputs(plain))].map((topic) => ({ topic, numPartitions: 2 })),
    );

    // A table of users' plans; views joined to it; users counted per plan (which reads the table's old values).
    const topology = (applicationId: string, topologyOptimization: TopologyOptimization) => {
      const builder = new StreamsBuilder();
      const table = builder.table(users, Consumed.with(S, J), Materialized.as<string, { plan: string }>('plans'));
      const out = outputs(applicationId);
      builder
        .stream(views, Consumed.with(S, S))
        .join(table, (view, user) => `${view}/${user.plan}`)
        .to(out.joined, Produced.with(S, S));
      table
        .groupBy((user, value) => ({ key: value.plan, value: user }), Grouped.with(S, S))
        .count(Materialized.as('per-plan'))
        .toStream()
        .to(out.counts, Produced.with(S, Serdes.Long()));
      return builder.build({ applicationId, topologyOptimization });
    };
    let restoredPlans = 0;
    const start = async (applicationId: string, optimization: TopologyOptimization, stateDir: string): Promise<KafkaStreams> => {
      const app = new KafkaStreams(topology(applicationId, optimization), {
        applicationId,
        bootstrapServers: brokers(),
        stateDir,
        commitIntervalMs: 200,
        processingGuarantee: guarantee,
        deserializationExceptionHandler: 'logAndContinue',
        logLevel: 'silent',
      });
      apps.push(app);
      app.setGlobalStateRestoreListener({ onRestoreEnd: (partition, count) => void (partition.storeName === 'plans' && (restoredPlans += count)) });
      await app.start();
      await waitForState(app, 'RUNNING');
      return app;
    };
    const produce = async (topic: string, records: Array<[string, string | null]>): Promise<void> => {
      const producer = kafkaClient('source-changelog-producer').producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      await producer.send({ topic, messages: records.map(([key, value]) => ({ key, value })) });
      await producer.disconnect();
    };
    const joined = async (app: string) =>
      (await readTopic(brokers(), outputs(app).joined, 2, guarantee === 'exactly_once_v2')).map(([k, v]) => `${k.toString()}=${v?.toString()}`).sort();
    /** The latest count per plan (each plan's records are in one partition, in order). */
    const counts = async (app: string) => {
      const latest: Record<string, bigint> = {};
      for (const [k, v] of await readTopic(brokers(), outputs(app).counts, 2, guarantee === 'exactly_once_v2')) latest[k.toString()] = v!.readBigInt64BE(0);
      return latest;
    };

    const users12 = Array.from({ length: 12 }, (_, i) => [`u${i}`, JSON.stringify({ plan: i % 3 === 0 ? 'pro' : 'free' })] as [string, string]);
    await produce(users, [...users12, ['u-bad', '{not json']]);
    const first = await start(optimized, 'all', tempDir());
    const reference = await start(plain, 'none', tempDir());
    await produce(views, users12.map(([user], i) => [user, `v${i}`]));
    for (const app of [optimized, plain]) await eventually(async () => (await joined(app)).length === 12, `12 joined views of ${app}`);
    expect(await joined(optimized)).toEqual(users12.map(([user, value], i) => `${user}=v${i}/${(JSON.parse(value) as { plan: string }).plan}`).sort());
    expect(await joined(optimized)).toEqual(await joined(plain));
    for (const app of [optimized, plain]) await eventually(async () => (await counts(app)).free === 8n && (await counts(app)).pro === 4n, `the counts of ${app}`);

    const topics = await withAdmin((admin) => admin.listTopics());
    expect(topics).not.toContain(`${optimized}-plans-changelog`);
    expect(topics).toContain(`${optimized}-per-plan-changelog`);
    expect(topics).toContain(`${plain}-plans-changelog`);
    // Closing commits every input offset: the restore below reads the input up to there, no further.
    await first.close();
    expect(restoredPlans).toBe(0);

    // Written after the optimized app's last commit: processed after restoration, not restored.
    await produce(users, [['u1', JSON.stringify({ plan: 'pro' })], ['u2', null]]);
    const second = await start(optimized, 'all', tempDir());
    expect(restoredPlans).toBe(12);
    const plans = second.store('plans', QueryableStoreTypes.keyValueStore<string, { plan: string }>());
    expect(plans.get('u0')).toEqual({ plan: 'pro' });
    await eventually(() => plans.get('u1')?.plan === 'pro' && plans.get('u2') === undefined, 'the updates after the restore');
    // The count moves u1 from free to pro and drops u2: only right if the restored table held their old plans.
    for (const app of [optimized, plain]) {
      await eventually(async () => (await counts(app)).free === 6n && (await counts(app)).pro === 5n, `the updated counts of ${app}`);
    }
    await produce(views, [['u1', 'w1'], ['u4', 'w4']]);
    for (const app of [optimized, plain]) await eventually(async () => (await joined(app)).length === 14, `the later views of ${app}`);
    expect(await joined(optimized)).toEqual(await joined(plain));
    expect(await joined(optimized)).toContain('u1=w1/pro');
    await second.close();
    await reference.close();
  });
});

describe('standby replicas of a table restored from its input topic (real broker)', () => {
  it('follow the input topic, so the instance that takes the table over restores none of it', async () => {
    const id = uniqueName('srcchg-standby');
    const [users, out] = [`${id}-users`, `${id}-out`];
    await createTopics([users, out].map((topic) => ({ topic, numPartitions: 2 })));
    const builder = new StreamsBuilder();
    builder
      .table(users, Consumed.with(S, S), Materialized.as<string, string>('plans'))
      .groupBy((user, plan) => ({ key: plan, value: user }), Grouped.with(S, S))
      .count(Materialized.as('per-plan'))
      .toStream()
      .to(out, Produced.with(S, Serdes.Long()));
    const topology = builder.build({ applicationId: id, topologyOptimization: 'all' });
    const restored = new Map<KafkaStreams, number>();
    const start = async (): Promise<KafkaStreams> => {
      const app = new KafkaStreams(topology, {
        applicationId: id,
        bootstrapServers: brokers(),
        stateDir: tempDir(),
        commitIntervalMs: 200,
        numStandbyReplicas: 1,
        logLevel: 'silent',
      });
      apps.push(app);
      restored.set(app, 0);
      app.setGlobalStateRestoreListener({
        onRestoreEnd: (partition, count) => void (partition.storeName === 'plans' && restored.set(app, restored.get(app)! + count)),
      });
      await app.start();
      return app;
    };
    const counts = async () => {
      const latest: Record<string, bigint> = {};
      for (const [k, v] of await readTopic(brokers(), out, 2, false)) latest[k.toString()] = v!.readBigInt64BE(0);
      return latest;
    };
    const [a, b] = [await start(), await start()];
    for (const app of [a, b]) await waitForState(app, 'RUNNING');
    const producer = kafkaClient('standby-producer').producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic: users, messages: Array.from({ length: 40 }, (_, i) => ({ key: `u${i}`, value: i % 4 === 0 ? 'pro' : 'free' })) });
    await eventually(async () => (await counts()).pro === 10n && (await counts()).free === 30n, 'the first counts');
    // Each instance keeps replicas of the other's tasks: the table's read from the input up to the committed offsets.
    await eventually(() => a.metrics().standbyTasks.length > 0 && b.metrics().standbyTasks.length > 0, 'standby replicas');
    const tableTasks = (app: KafkaStreams) => app.metrics().activeTasks.filter((t) => t.startsWith('0_'));
    const moving = tableTasks(a);
    expect(moving.length).toBeGreaterThan(0);
    expect(b.metrics().standbyTasks).toEqual(expect.arrayContaining(moving));
    await eventually(() => b.metrics().standbyRecordsTotal >= 20 * moving.length, "the replicas of a's table partitions");
    await a.close();
    await eventually(() => tableTasks(b).length === 2, 'the takeover');
    await waitForState(b, 'RUNNING');
    expect(restored.get(b)).toBe(0);
    await producer.send({ topic: users, messages: [{ key: 'u1', value: 'pro' }, { key: 'u0', value: null }] });
    await producer.disconnect();
    // Right only if the replica held u1's and u0's old plans when it became the table.
    await eventually(async () => (await counts()).pro === 10n && (await counts()).free === 29n, 'the counts after the takeover');
  });
});
