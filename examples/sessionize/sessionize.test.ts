/** The example's topology, unit-tested with the TopologyTestDriver: no broker needed. */
import { describe, expect, it } from 'vitest';
import { PartitionedTopologyTestDriver, Serdes, TopologyTestDriver, isChangelogSchemaRecord, type TestOutputTopic, type Windowed } from '../../src/index.js';
import { generatePageViews, oracleSessions } from './generator.js';
import { buildSessionizeTopology, pageViewSerde, sessionKeySerde, sessionStatsSerde, type PageView, type SessionStats } from './topology.js';

const T0 = Date.UTC(2026, 0, 1);
const view = (userId: string, minute: number, page = '/', status = 200): PageView => ({
  userId,
  page,
  status,
  bytes: 100,
  timestamp: T0 + minute * 60_000,
});

function drive() {
  const driver = new TopologyTestDriver(buildSessionizeTopology());
  const input = driver.createInputTopic('page-views', Serdes.String(), pageViewSerde);
  const output = driver.createOutputTopic('session-stats', sessionKeySerde, sessionStatsSerde);
  return { driver, input, output };
}

describe('sessionize example', () => {
  it('aggregates a session and splits at a 30-minute gap, ignoring server errors', () => {
    const { input, output } = drive();
    for (const v of [view('ann', 0, '/'), view('ann', 10, '/cart'), view('ann', 12, '/x', 503), view('ann', 45, '/')]) {
      input.pipeInput('web-1', v, v.timestamp);
    }
    const finals = new Map<string, { count: number; pages: string[] } | null>();
    for (const { key, value } of output.readKeyValuesToList()) {
      finals.set(`${key!.window.start - T0}-${key!.window.end - T0}`, value === null ? null : { count: Number(value.count), pages: value.pages });
    }
    expect([...finals].filter(([, v]) => v !== null)).toEqual([
      ['0-600000', { count: 2, pages: ['/', '/cart'] }],
      ['2700000-2700000', { count: 1, pages: ['/'] }],
    ]);
  });

  it("names the store's writer schema once in its changelog, in a schema record before the first session, as the runtime does", () => {
    const { driver, input } = drive();
    input.pipeInput('web-1', view('ann', 0), T0);
    input.pipeInput('web-1', view('bob', 1), T0 + 1);
    const changelog = driver.createOutputTopic('sessionize-session-stats-changelog', Serdes.ByteArray(), Serdes.ByteArray());
    const [schemaRecord, ...sessions] = changelog.readRecordsToList();
    expect(schemaRecord?.headers['kstreams.schema.record']).toBeDefined();
    expect(String(schemaRecord?.value)).toContain('SessionStats');
    expect(sessions).toHaveLength(2);
    expect(sessions.map((r) => r.headers)).toEqual([{}, {}]);
  });

  it('matches the offline oracle on generated traffic', () => {
    const { driver, input, output } = drive();
    const events = generatePageViews({ events: 3000, users: 60, seed: 3, malformedRate: 0 });
    for (const { view: v } of events) input.pipeInput(v.userId, v, v.timestamp);
    // The output is a changelog of sessions: the last value per windowed key, tombstoned ones removed.
    const latest = new Map<string, number | null>();
    for (const { key, value } of output.readKeyValuesToList()) {
      latest.set(`${key!.key}@${key!.window.start}-${key!.window.end}`, value === null ? null : Number(value.count));
    }
    const actual = new Map([...latest].filter(([, count]) => count !== null));
    const expected = new Map([...oracleSessions(events)].map(([id, s]) => [id, s.count]));
    expect(actual).toEqual(expected);
    expect(driver.metrics().droppedLate).toBe(0);
  });

  it('on 4 partitions, meets every view of a user in one task after the selectKey, whatever the server that logged it', () => {
    const driver = new PartitionedTopologyTestDriver(buildSessionizeTopology(), { partitions: { 'page-views': 4 } });
    const input = driver.createInputTopic('page-views', Serdes.String(), pageViewSerde);
    const events = generatePageViews({ events: 1500, users: 40, seed: 5, malformedRate: 0 });
    // Keyed by the web server that logged the view, as the example's producer does: a user's views are on every partition.
    events.forEach(({ view: v }, i) => input.pipeInput(`web-${i % 7}`, v, v.timestamp));
    const repartition = driver.createOutputTopic('sessionize-session-stats-repartition', Serdes.String(), pageViewSerde);
    const tasksOfUser = new Map<string, Set<number>>();
    for (const { key, partition } of repartition.readRecordsToList()) tasksOfUser.set(key!, (tasksOfUser.get(key!) ?? new Set()).add(partition!));
    expect(tasksOfUser.size).toBe(40);
    for (const [user, partitions] of tasksOfUser) {
      expect([...partitions]).toEqual([driver.partitionOfKey('sessionize-session-stats-repartition', user, Serdes.String())]);
    }
    // And only that task (1_<partition>) wrote the user's sessions: to its partition of the store's changelog.
    // Read as bytes: each partition also holds the schema record of the sessions' Avro schema (not a session key).
    const changelog = driver.createOutputTopic('sessionize-session-stats-changelog', Serdes.ByteArray(), Serdes.ByteArray());
    const writers = new Map<string, Set<number>>();
    for (const record of changelog.readRecordsToList()) {
      if (isChangelogSchemaRecord(record)) continue;
      const { key, partition } = record;
      const user = sessionKeySerde.deserialize(key!).key;
      writers.set(user, (writers.get(user) ?? new Set()).add(partition!));
    }
    expect(writers).toEqual(tasksOfUser);
    expect(latestCounts(driver.createOutputTopic('session-stats', sessionKeySerde, sessionStatsSerde))).toEqual(
      new Map([...oracleSessions(events)].map(([id, s]) => [id, s.count])),
    );
  });

  it('gives the same sessions when the session tasks move to another instance mid-stream (restored from their changelogs)', async () => {
    const events = generatePageViews({ events: 1500, users: 40, seed: 6, malformedRate: 0 });
    const driver = new PartitionedTopologyTestDriver(buildSessionizeTopology(), { partitions: { 'page-views': 3 } });
    const input = driver.createInputTopic('page-views', Serdes.String(), pageViewSerde);
    const sessionTasks = driver.taskIds().filter((id) => id.startsWith('1_'));
    expect(sessionTasks).toEqual(['1_0', '1_1', '1_2']);
    for (const [i, { view: v }] of events.entries()) {
      input.pipeInput(`web-${i % 7}`, v, v.timestamp);
      if (i === 500) for (const id of sessionTasks) await driver.moveTask(id);
      if (i === 1000) await driver.moveTask('1_1');
    }
    expect(latestCounts(driver.createOutputTopic('session-stats', sessionKeySerde, sessionStatsSerde))).toEqual(
      new Map([...oracleSessions(events)].map(([id, s]) => [id, s.count])),
    );
    expect(driver.metrics().droppedLate).toBe(0);
  });
});

/** The output is a changelog of sessions: the last count per windowed key, tombstoned ones removed. */
function latestCounts(output: TestOutputTopic<Windowed<string>, SessionStats>): Map<string, number> {
  const latest = new Map<string, number | null>();
  for (const { key, value } of output.readKeyValuesToList()) {
    latest.set(`${key!.key}@${key!.window.start}-${key!.window.end}`, value === null ? null : Number(value.count));
  }
  return new Map([...latest].filter((e): e is [string, number] => e[1] !== null));
}
