/**
 * The PartitionedTopologyTestDriver: records placed as Kafka places them, one task per partition of each
 * sub-topology, repartition topics in between, co-partitioning checked as KafkaStreams' start checks it, and
 * tasks that move or restart restored from their changelogs.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  Consumed,
  Grouped,
  Materialized,
  PartitionedTopologyTestDriver,
  Produced,
  Serdes,
  SessionWindows,
  StreamsBuilder,
  TopologyTestDriver,
  WindowedSerdes,
  type Processor,
  type Logger,
  type ProcessorContext,
  type TestOutputTopic,
  type Windowed,
} from '../../src/index.js';
import { partitionForKey } from '../../src/runtime/murmur2.js';

interface View {
  user: string;
  page: string;
  at: number;
}

const GAP = 10 * 60_000;
const T0 = Date.UTC(2026, 0, 1);
const viewSerde = Serdes.Json<View>();
const sessionKeys = WindowedSerdes.sessionWindowed(Serdes.String());

/** Page views keyed by view id, re-keyed by user, sessions counted per user (the README's shape). */
function sessionsByUser(options: { logging?: boolean } = {}) {
  const builder = new StreamsBuilder();
  const materialized = Materialized.as<string, number>('sessions');
  builder
    .stream('views', Consumed.with(Serdes.String(), viewSerde).withTimestampExtractor((r) => r.value.at))
    .selectKey((_id, view) => view.user)
    .groupByKey(Grouped.with(Serdes.String(), viewSerde))
    .windowedBy(SessionWindows.ofInactivityGapAndGrace(GAP, 0))
    .count(options.logging === false ? materialized.withLoggingDisabled() : materialized)
    .toStream()
    .to('user-sessions', Produced.with(sessionKeys, Serdes.Int64()));
  return builder.build({ applicationId: 'views' });
}

/** The live sessions of an output topic of session results: the last value per windowed key, deletions removed. */
function liveSessions(output: TestOutputTopic<Windowed<string>, number>): Map<string, number> {
  const latest = new Map<string, number | null>();
  for (const { key, value } of output.readKeyValuesToList()) latest.set(`${key!.key}@${key!.window.start - T0}-${key!.window.end - T0}`, value);
  return new Map([...latest].filter((e): e is [string, number] => e[1] !== null).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Views of a few users on a few pages, minutes apart, with a gap that ends each user's first session. */
function traffic(count: number): View[] {
  const users = ['ann', 'bob', 'cy', 'dee', 'eve', 'fay', 'gus'];
  const pages = ['/', '/cart', '/pay', '/help', '/about'];
  return Array.from({ length: count }, (_, i) => ({
    user: users[(i * 3) % users.length]!,
    page: pages[(i * 7) % pages.length]!,
    at: T0 + i * 60_000 + (i >= count / 2 ? 4 * GAP : 0),
  }));
}

describe('PartitionedTopologyTestDriver', () => {
  it("places records by key as Kafka's default partitioner does, and runs each partition on its own task", () => {
    const builder = new StreamsBuilder();
    builder
      .stream('in', Consumed.with(Serdes.String(), Serdes.String()))
      .process<string, string>(() => {
        let context!: ProcessorContext<string, string>;
        return {
          init: (c) => void (context = c),
          process: (record) => context.forward({ ...record, value: context.taskId }),
        };
      })
      .to('out', Produced.with(Serdes.String(), Serdes.String()));
    const driver = new PartitionedTopologyTestDriver(builder.build({ applicationId: 'placement' }), { partitions: { in: 5, out: 3 } });
    expect(driver.taskIds()).toEqual(['0_0', '0_1', '0_2', '0_3', '0_4']);
    const input = driver.createInputTopic('in', Serdes.String(), Serdes.String());
    const keys = Array.from({ length: 300 }, (_, i) => `key-${i * 7919}`);
    for (const key of keys) input.pipeInput(key, 'v');
    // kafkajs' DefaultPartitioner (Java's murmur2 partitioner, which the runtime's producer uses) as the oracle.
    const kafkajs = Partitioners.DefaultPartitioner();
    const partitionOf = (key: string, n: number): number =>
      kafkajs({ topic: 't', partitionMetadata: Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 0 })), message: { key: Buffer.from(key), value: null } } as never);
    const records = driver.createOutputTopic('out', Serdes.String(), Serdes.String()).readRecordsToList();
    expect(records.map((r) => r.key)).toEqual(keys);
    for (const record of records) {
      expect(record.value).toBe(`0_${partitionOf(record.key!, 5)}`);
      expect(record.partition).toBe(partitionOf(record.key!, 3));
      expect(driver.partitionOfKey('out', record.key!, Serdes.String())).toBe(record.partition);
    }
    // Each partition read alone: the records of that partition only, in the order written.
    const p1 = driver.createOutputTopic('out', Serdes.String(), Serdes.String(), 1);
    expect(p1.isEmpty()).toBe(true); // read above already
    input.pipeInput('key-0', 'again');
    input.pipeInput('key-7919', 'again');
    const onOne = ['key-0', 'key-7919'].filter((k) => partitionOf(k, 3) === 1);
    expect(p1.readKeyValuesToList().map((r) => r.key)).toEqual(onOne);
  });

  it("puts a window result sent to a topic a TopicNameExtractor picks on its inner key's partition, beside its key's other results", () => {
    const builder = new StreamsBuilder();
    builder
      .stream('views', Consumed.with(Serdes.String(), viewSerde).withTimestampExtractor((r) => r.value.at))
      .selectKey((_id, view) => view.user)
      .groupByKey(Grouped.with(Serdes.String(), viewSerde))
      .windowedBy(SessionWindows.ofInactivityGapAndGrace(GAP, 0))
      .count()
      .toStream()
      .to(() => 'picked-sessions', Produced.with(sessionKeys, Serdes.Int64()));
    // 'picked-sessions' is not named by the topology: its tasks do not know its partition count.
    const driver = new PartitionedTopologyTestDriver(builder.build({ applicationId: 'picked' }), { partitions: { views: 4, 'picked-sessions': 5 } });
    const input = driver.createInputTopic('views', Serdes.String(), viewSerde);
    traffic(60).forEach((v, i) => input.pipeInput(`view-${i}`, v));
    const records = driver.createOutputTopic('picked-sessions', sessionKeys, Serdes.Int64()).readRecordsToList();
    expect(new Set(records.map((r) => r.partition)).size).toBeGreaterThan(1);
    for (const record of records) expect(record.partition).toBe(partitionForKey(Buffer.from(record.key!.key), 5));
  });

  it('puts every view of a user on one task after a selectKey (through the repartition topic)', () => {
    const driver = new PartitionedTopologyTestDriver(sessionsByUser(), { partitions: { views: 4 } });
    expect(driver.taskIds()).toEqual(['0_0', '0_1', '0_2', '0_3', '1_0', '1_1', '1_2', '1_3']);
    const input = driver.createInputTopic('views', Serdes.String(), viewSerde);
    const views = traffic(60);
    views.forEach((v, i) => input.pipeInput(`view-${i}`, v));
    // The input spread each user over several partitions (keyed by view id) ...
    const inputPartitions = new Set(views.flatMap((v, i) => (v.user === 'ann' ? [driver.partitionOfKey('views', `view-${i}`, Serdes.String())] : [])));
    expect(inputPartitions.size).toBeGreaterThan(1);
    // ... the repartition topic gathers each user on the partition of its key, and one task aggregates them.
    const repartitioned = driver.createOutputTopic('views-sessions-repartition', Serdes.String(), viewSerde).readRecordsToList();
    expect(repartitioned).toHaveLength(views.length);
    for (const record of repartitioned) expect(record.partition).toBe(driver.partitionOfKey('views-sessions-repartition', record.key!, Serdes.String()));
    for (const user of ['ann', 'bob']) {
      const home = driver.partitionOfKey('views-sessions-repartition', user, Serdes.String());
      for (let p = 0; p < 4; p++) expect(driver.getSessionStore<string, number>('sessions', p).fetch(user).length > 0).toBe(p === home);
    }
    // The same sessions as the one-partition driver's.
    const single = new TopologyTestDriver(sessionsByUser());
    const singleInput = single.createInputTopic('views', Serdes.String(), viewSerde);
    views.forEach((v, i) => singleInput.pipeInput(`view-${i}`, v));
    const expected = liveSessions(single.createOutputTopic('user-sessions', sessionKeys, Serdes.Int64()));
    expect(liveSessions(driver.createOutputTopic('user-sessions', sessionKeys, Serdes.Int64()))).toEqual(expected);
    expect(expected.size).toBe(14); // 7 users, 2 sessions each
  });

  it('catches a grouping after a key change without a repartition: a sink partitioned by page, read back and grouped by user, splits sessions', () => {
    const build = () => {
      const builder = new StreamsBuilder();
      builder
        .stream('views', Consumed.with(Serdes.String(), viewSerde))
        .selectKey((_id, view) => view.user)
        // Written by page (to spread a hot user, say), then read back as if keyed by user: no repartition is inserted.
        .to('views-by-user', Produced.with(Serdes.String(), viewSerde).withStreamPartitioner((_t, _user, view, n) => partitionForKey(Buffer.from(view.page), n)));
      builder
        .stream('views-by-user', Consumed.with(Serdes.String(), viewSerde).withTimestampExtractor((r) => r.value.at))
        .groupByKey()
        .windowedBy(SessionWindows.ofInactivityGapAndGrace(GAP, 0))
        .count(Materialized.as('sessions'))
        .toStream()
        .to('user-sessions', Produced.with(sessionKeys, Serdes.Int64()));
      return builder.build({ applicationId: 'split' });
    };
    const views = [0, 1, 2, 3].map((m) => ({ user: 'ann', page: ['/', '/cart', '/pay', '/help'][m]!, at: T0 + m * 60_000 }));
    const sessionsOf = (driver: TopologyTestDriver | PartitionedTopologyTestDriver): Map<string, number> => {
      const input = driver.createInputTopic('views', Serdes.String(), viewSerde);
      views.forEach((v, i) => input.pipeInput(`view-${i}`, v));
      return liveSessions(driver.createOutputTopic('user-sessions', sessionKeys, Serdes.Int64()));
    };
    // One partition hides the mistake: ann's four views make one session.
    expect(sessionsOf(new TopologyTestDriver(build()))).toEqual(new Map([['ann@0-180000', 4]]));
    // Four partitions show it: her views met on different tasks, each made a session of its own.
    const split = sessionsOf(new PartitionedTopologyTestDriver(build(), { defaultPartitions: 4 }));
    expect(split.size).toBeGreaterThan(1);
    expect([...split.values()].reduce((a, b) => a + b, 0)).toBe(4);
  });

  it('catches an input topic not partitioned by its key (its producer partitions by page) grouped with groupByKey', () => {
    const builder = new StreamsBuilder();
    builder
      .stream('views', Consumed.with(Serdes.String(), viewSerde).withTimestampExtractor((r) => r.value.at))
      .groupByKey()
      .windowedBy(SessionWindows.ofInactivityGapAndGrace(GAP, 0))
      .count()
      .toStream()
      .to('user-sessions', Produced.with(sessionKeys, Serdes.Int64()));
    const driver = new PartitionedTopologyTestDriver(builder.build({ applicationId: 'byPage' }));
    const input = driver.createInputTopic('views', Serdes.String(), viewSerde, (_t, _user, view, n) => partitionForKey(Buffer.from(view!.page), n));
    for (const [m, page] of ['/', '/cart', '/pay', '/help'].entries()) input.pipeInput('ann', { user: 'ann', page, at: T0 + m * 60_000 });
    expect(liveSessions(driver.createOutputTopic('user-sessions', sessionKeys, Serdes.Int64())).size).toBeGreaterThan(1);
  });

  it("refuses topics a join reads that are not co-partitioned, with KafkaStreams' start error", () => {
    const build = () => {
      const builder = new StreamsBuilder();
      const users = builder.table('users', Consumed.with(Serdes.String(), Serdes.String()));
      builder
        .stream('clicks', Consumed.with(Serdes.String(), Serdes.String()))
        .join(users, (click, user) => `${click}:${user}`)
        .to('enriched', Produced.with(Serdes.String(), Serdes.String()));
      return builder.build({ applicationId: 'copart' });
    };
    expect(() => new PartitionedTopologyTestDriver(build(), { partitions: { clicks: 4, users: 2 } })).toThrow(
      /^Sub-topology 0 \(the join KSTREAM-JOIN-\d+\) reads topics that are not co-partitioned: (clicks \(4 partitions\), users \(2 partitions\)|users \(2 partitions\), clicks \(4 partitions\))\. Give them the same partition count, or repartition\(\) one of them\.$/,
    );
    const driver = new PartitionedTopologyTestDriver(build(), { partitions: { clicks: 3, users: 3 } });
    driver.createInputTopic('users', Serdes.String(), Serdes.String()).pipeInput('ann', 'Ann');
    driver.createInputTopic('clicks', Serdes.String(), Serdes.String()).pipeInput('ann', 'c1');
    expect(driver.createOutputTopic('enriched', Serdes.String(), Serdes.String()).readKeyValuesToList()).toEqual([{ key: 'ann', value: 'c1:Ann' }]);
    expect(() => new PartitionedTopologyTestDriver(build(), { partitions: { 'copart-users-STATE-STORE-0000000000-changelog': 2 } })).toThrow(/internal topic/);
  });

  it('gives the same sessions when tasks move mid-stream: each restores its stores from its changelog and goes on', async () => {
    const views = traffic(80);
    const run = async (move: boolean, logging = true): Promise<Map<string, number>> => {
      const driver = new PartitionedTopologyTestDriver(sessionsByUser({ logging }), { partitions: { views: 3 } });
      const input = driver.createInputTopic('views', Serdes.String(), viewSerde);
      const output = driver.createOutputTopic('user-sessions', sessionKeys, Serdes.Int64());
      for (const [i, v] of views.entries()) {
        input.pipeInput(`view-${i}`, v);
        if (move && i === 30) for (const id of driver.taskIds()) await driver.moveTask(id);
      }
      expect(driver.metrics().processed).toBe(2 * views.length); // each view, then its repartitioned copy
      return liveSessions(output);
    };
    const unmoved = await run(false);
    expect(await run(true)).toEqual(unmoved);
    // The control: without a changelog, a moved task starts empty and the sessions it had are cut in two.
    expect(await run(true, false)).not.toEqual(unmoved);
  });

  it("restarts a task with its store as its changelog holds it, and keeps the task's stream time", async () => {
    const driver = new PartitionedTopologyTestDriver(sessionsByUser(), { partitions: { views: 2 } });
    const input = driver.createInputTopic('views', Serdes.String(), viewSerde);
    traffic(20).forEach((v, i) => input.pipeInput(`view-${i}`, v));
    const home = driver.partitionOfKey('views-sessions-repartition', 'ann', Serdes.String());
    const before = driver.getSessionStore<string, number>('sessions', home).fetch('ann');
    expect(before.length).toBeGreaterThan(0);
    const changelog = driver.createOutputTopic('views-sessions-changelog', Serdes.ByteArray(), Serdes.ByteArray(), home);
    expect(changelog.getQueueSize()).toBeGreaterThan(0);
    await driver.restartTask(`1_${home}`);
    expect(driver.getSessionStore<string, number>('sessions', home).fetch('ann')).toEqual(before);
    // A view older than the stream time minus the gap is late after the restart as before it.
    input.pipeInput('late', { user: 'ann', page: '/', at: T0 - 2 * GAP });
    expect(driver.metrics().droppedLate).toBe(1);
    await expect(driver.restartTask('9_0')).rejects.toThrow("No task '9_0'; the driver runs: 0_0, 0_1, 1_0, 1_1");
  });

  it('routes a late record to the lateRecords topic from the task that found it late', () => {
    const driver = new PartitionedTopologyTestDriver(sessionsByUser(), { partitions: { views: 3 }, lateRecords: { topic: 'late-views' } });
    const input = driver.createInputTopic('views', Serdes.String(), viewSerde);
    traffic(20).forEach((v, i) => input.pipeInput(`view-${i}`, v));
    input.pipeInput('late', { user: 'ann', page: '/', at: T0 - 2 * GAP });
    const [late, ...rest] = driver.createOutputTopic('late-views', Serdes.String(), viewSerde).readRecordsToList();
    expect(rest).toEqual([]);
    expect(late?.value).toEqual({ user: 'ann', page: '/', at: T0 - 2 * GAP });
    expect(String(late?.headers['kstreams.late.task'])).toBe(`1_${driver.partitionOfKey('views-sessions-repartition', 'ann', Serdes.String())}`);
    expect(driver.metrics()).toMatchObject({ lateRecordsTotal: 1, droppedLateTotal: 0 });
  });

  it('fires wall-clock punctuators of every task', () => {
    const builder = new StreamsBuilder();
    builder
      .stream('in', Consumed.with(Serdes.String(), Serdes.String()))
      .process<string, string>((): Processor<string, string, string, string> => {
        let seen = 0;
        return {
          init: (context) => void context.schedule(1000, 'WALL_CLOCK_TIME', (now) => context.forward({ key: context.taskId, value: String(seen), timestamp: now, headers: {} })),
          process: () => void seen++,
        };
      })
      .to('ticks', Produced.with(Serdes.String(), Serdes.String()));
    const driver = new PartitionedTopologyTestDriver(builder.build({ applicationId: 'ticks' }), { partitions: { in: 3 } });
    const input = driver.createInputTopic('in', Serdes.String(), Serdes.String(), () => 2);
    input.pipeInput('a', 'x');
    input.pipeInput('b', 'x');
    driver.advanceWallClockTime(1000);
    const ticks = driver.createOutputTopic('ticks', Serdes.String(), Serdes.String()).readKeyValuesToList();
    expect(ticks).toEqual([
      { key: '0_0', value: '0' },
      { key: '0_1', value: '0' },
      { key: '0_2', value: '2' },
    ]);
    expect(() => input.pipeInput('c', 'x', 0)).not.toThrow();
    const wrong = driver.createInputTopic('in', Serdes.String(), Serdes.String(), () => 3);
    expect(() => wrong.pipeInput('c', 'x')).toThrow("the input partitioner put a record of topic 'in' on partition 3, but the topic has 3 partitions (0 to 2)");
  });

  it('with a state dir keeps stores in LevelDB: a restart restores nothing (its store is at its changelog end), a move restores all', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'partitioned-driver-'));
    try {
      const restores: string[] = [];
      const logger: Logger = { debug() {}, info: (m) => void (m.includes(' restored ') && restores.push(m)), warn() {}, error() {} };
      expect(() => new PartitionedTopologyTestDriver(sessionsByUser(), { stateDir: dir })).toThrow('PartitionedTopologyTestDriver.create');
      const driver = await PartitionedTopologyTestDriver.create(sessionsByUser(), { partitions: { views: 2 }, stateDir: dir, logger });
      const inMemory = new PartitionedTopologyTestDriver(sessionsByUser(), { partitions: { views: 2 } });
      const views = traffic(40);
      const inputs = [driver, inMemory].map((d) => d.createInputTopic('views', Serdes.String(), viewSerde));
      const pipe = (from: number, to: number): void => views.slice(from, to).forEach((v, i) => inputs.forEach((input) => input.pipeInput(`view-${from + i}`, v)));
      pipe(0, 15);
      const home = driver.partitionOfKey('views-sessions-repartition', 'ann', Serdes.String());
      expect(existsSync(join(dir, 'views', `1_${home}`, 'sessions'))).toBe(true);
      const before = driver.getSessionStore<string, number>('sessions', home).fetch('ann');
      expect(before.length).toBeGreaterThan(0);
      await driver.restartTask(`1_${home}`);
      expect(restores).toEqual([]);
      expect(driver.getSessionStore<string, number>('sessions', home).fetch('ann')).toEqual(before);
      pipe(15, 25);
      await driver.moveTask(`1_${home}`);
      expect(restores).toHaveLength(1);
      expect(restores[0]).toMatch(new RegExp(`^task 1_${home}: restored \\d+ records of sessions from views-sessions-changelog-${home} \\[0, \\d+\\)`));
      pipe(25, 40);
      const expected = liveSessions(inMemory.createOutputTopic('user-sessions', sessionKeys, Serdes.Int64()));
      expect(liveSessions(driver.createOutputTopic('user-sessions', sessionKeys, Serdes.Int64()))).toEqual(expected);
      await driver.close();
      await inMemory.close();
      // Opened again on the same folder, its stores are ahead of the new driver's empty changelogs: wiped, as the runtime does.
      const again = await PartitionedTopologyTestDriver.create(sessionsByUser(), { partitions: { views: 2 }, stateDir: dir, logger });
      expect(again.getSessionStore<string, number>('sessions', home).fetch('ann')).toEqual([]);
      await again.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('runs a foreign-key join (subscriptions to the right key, answers back to the left partition) and a global table join as the one-partition driver does', () => {
    const build = () => {
      const builder = new StreamsBuilder();
      const S = Serdes.String();
      const customers = builder.table('customers', Consumed.with(S, S));
      builder
        .table('orders', Consumed.with(S, S))
        .leftJoin(customers, (order) => order.split(':')[0]!, (order, tier) => `${order}/${tier}`)
        .toStream()
        .to('orders-with-tier', Produced.with(S, S));
      const regions = builder.globalTable('regions', Consumed.with(S, S), Materialized.as('regions'));
      builder
        .stream('visits', Consumed.with(S, S))
        .leftJoin(regions, (_k, country) => country, (country, region) => `${country}@${region}`)
        .to('visits-by-region', Produced.with(S, S));
      return builder.build({ applicationId: 'joins' });
    };
    const steps: Array<[string, string, string | null]> = [
      ['regions', 'fr', 'eu'],
      ['orders', 'o1', 'c1:book'],
      ['customers', 'c1', 'gold'],
      ['orders', 'o2', 'c1:pen'],
      ['orders', 'o3', 'c2:cup'],
      ['visits', 'v1', 'fr'],
      ['customers', 'c2', 'silver'],
      ['orders', 'o1', 'c2:book'],
      ['customers', 'c1', null],
      ['visits', 'v2', 'us'],
    ];
    const run = (driver: TopologyTestDriver | PartitionedTopologyTestDriver) => {
      steps.forEach(([topic, key, value], t) => driver.createInputTopic(topic, Serdes.String(), Serdes.String()).pipeInput(key, value, t));
      const perKey = new Map<string, unknown[]>();
      for (const topic of ['orders-with-tier', 'visits-by-region']) {
        for (const r of driver.createOutputTopic(topic, Serdes.String(), Serdes.String()).readRecordsToList()) perKey.set(r.key!, [...(perKey.get(r.key!) ?? []), [r.value, r.timestamp]]);
      }
      return perKey;
    };
    const expected = run(new TopologyTestDriver(build()));
    expect(expected.get('o1')).toEqual([['c1:book/null', 1], ['c1:book/gold', 2], ['c2:book/silver', 7]]);
    const partitioned = new PartitionedTopologyTestDriver(build(), { partitions: { orders: 3, customers: 5, visits: 2 } });
    expect(run(partitioned)).toEqual(expected);
  });
});
