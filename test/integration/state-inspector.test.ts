/**
 * The state inspector on a broker (issue 29): the example's sessionization runs under exactly-once, and
 * `kstreams state` reads its session store from the instance's state folder while the instance runs and
 * after it stopped, and from the store's changelog topic; each time every user's sessions equal the oracle's.
 * A transaction aborted on the changelog is not shown (read_committed).
 */
// First: kstreams-ts must load before kafkajs for its producer patch (see kafkajs-preload.ts).
import '../../src/index.js';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { oracleSessions, type OracleSession } from '../../examples/sessionize/generator.js';
import { buildSessionizeTopology, sessionStatsSerde, type SessionStats } from '../../examples/sessionize/topology.js';
import { createKafkajsClient } from '../../src/client/kafkajs/kafkajs-client.js';
import { sessionChangelogKey } from '../../src/stores/bucket-codec.js';
import { readStoreChangelog } from '../../src/tools/state/changelog-store-reader.js';
import { readLocalStore } from '../../src/tools/state/local-store-reader.js';
import { listState } from '../../src/tools/state/state-listing.js';
import type { StateEntry } from '../../src/tools/state/store-shape.js';
import { brokers, kafkaClient } from './kafka-env.js';
import { PARTITIONS, REPLAY_GRACE_MS, SessionizeHarness, eventually } from './sessionize-harness.js';

const STORE = 'session-stats';
const repo = resolve(import.meta.dirname, '../..');

/** The sessions of entries read from the store, keyed as the oracle keys them. */
async function sessionsOf(entries: AsyncIterable<StateEntry>): Promise<Map<string, OracleSession>> {
  const sessions = new Map<string, OracleSession>();
  for await (const entry of entries) {
    const userId = entry.key as string;
    const { start, end } = entry.window!;
    const stats = entry.value as SessionStats;
    const id = `${userId}@${start}-${end}`;
    if (sessions.has(id)) throw new Error(`session ${id} read twice`);
    sessions.set(id, { userId, start, end: end!, count: Number(stats.count), bytes: Number(stats.bytes), pages: stats.pages });
  }
  return sessions;
}

/** Where the read differs from the oracle (empty: equal), a few examples of each kind. */
function differences(read: Map<string, OracleSession>, oracle: Map<string, OracleSession>): string[] {
  const missing = [...oracle.keys()].filter((id) => !read.has(id));
  const extra = [...read.keys()].filter((id) => !oracle.has(id));
  const wrong = [...oracle].filter(([id, s]) => read.has(id) && JSON.stringify(read.get(id)) !== JSON.stringify(s)).map(([id]) => id);
  return [
    ...missing.slice(0, 3).map((id) => `missing ${id}`),
    ...extra.slice(0, 3).map((id) => `extra ${id}`),
    ...wrong.slice(0, 3).map((id) => `wrong ${id}: ${JSON.stringify(read.get(id))} vs ${JSON.stringify(oracle.get(id))}`),
    ...(missing.length + extra.length + wrong.length > 0 ? [`${missing.length} missing, ${extra.length} extra, ${wrong.length} wrong of ${oracle.size}`] : []),
  ];
}

describe('kstreams state on a broker', () => {
  let harness: SessionizeHarness;
  afterEach(async () => harness.cleanup());

  it("reads the example's session store locally (while the instance runs, and after) and from its changelog: every user's sessions equal the oracle", async () => {
    harness = new SessionizeHarness('exactly_once_v2');
    await harness.createTopics();
    const topology = buildSessionizeTopology({ applicationId: harness.applicationId, inputTopic: harness.input, outputTopic: harness.output, graceMs: REPLAY_GRACE_MS });
    const instance = await harness.start();
    const stateDir = instance.stateDir;
    const local = () => sessionsOf(readLocalStore({ stateDir, applicationId: harness.applicationId, store: STORE, topology }));

    // While the instance processes and commits every 100 ms, copies are read without disturbing it.
    await harness.produce(SessionizeHarness.events(1500, 29, Date.UTC(2026, 10, 1)));
    await eventually(async () => (await local().catch(() => new Map())).size > 0, 'the first sessions on disk');
    await harness.produce(SessionizeHarness.events(1500, 30, Date.UTC(2026, 10, 2)));
    const during = await local();
    for (const s of during.values()) expect(s.count, `${s.userId}@${s.start}`).toBeGreaterThan(0);
    await harness.waitForLagZero();
    const oracle = oracleSessions(harness.produced);
    // The store is written at each commit (after the transaction's offsets): wait for the read to catch up.
    let last: string[] = [];
    await eventually(async () => (last = differences(await local(), oracle)).length === 0, 'the running instance\'s store to equal the oracle', 30_000).catch((err: unknown) => {
      throw new Error(`${String(err)}: ${last.join('; ')}`);
    });

    // list: one task per partition of the sessionization's sub-topology, positions at the changelog's end.
    const admin = createKafkajsClient({ clientId: 'inspect-test', brokers: brokers(), connection: {} }).admin();
    await admin.connect();
    const ends = new Map((await admin.fetchTopicOffsets(`${harness.applicationId}-${STORE}-changelog`)).map((o) => [o.partition, BigInt(o.high)]));
    await admin.disconnect();
    const [app] = await listState({ stateDir, applicationId: harness.applicationId, topology, endOffset: async (_topic, partition) => ends.get(partition) });
    const rows = app!.tasks.flatMap((t) => t.stores.filter((s) => s.name === STORE).map((s) => ({ task: t.task, role: t.role, ...s })));
    expect(rows.map((r) => r.task)).toEqual(Array.from({ length: PARTITIONS }, (_, p) => `1_${p}`));
    for (const row of rows) expect([row.role, row.kind, row.problem], row.task).toEqual(['active', 'session', undefined]);

    await instance.app.close();
    expect(differences(await local(), oracle)).toEqual([]);
    const [stopped] = await listState({ stateDir, applicationId: harness.applicationId, topology, endOffset: async (_topic, partition) => ends.get(partition) });
    // After a clean close every store is at its changelog's end (the commit markers after it aside: lag <= 1 per partition).
    for (const task of stopped!.tasks) for (const s of task.stores.filter((x) => x.name === STORE)) expect(Number(s.lag), task.task).toBeLessThanOrEqual(1);

    // A session written to the changelog in a transaction that is then aborted: read_committed never shows it.
    const producer = kafkaClient('inspect-aborter').producer({ transactionalId: `${harness.applicationId}-aborter`, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const transaction = await producer.transaction();
    const ghost = { count: 1, bytes: 1, pages: ['/ghost'], firstSeen: 1, lastSeen: 1 };
    await transaction.send({
      topic: `${harness.applicationId}-${STORE}-changelog`,
      messages: [{ partition: 0, key: sessionChangelogKey(Buffer.from('ghost'), Date.UTC(2026, 10, 3), Date.UTC(2026, 10, 3)), value: sessionStatsSerde.serialize(ghost) }],
    });
    await transaction.abort();
    await producer.disconnect();

    const client = createKafkajsClient({ clientId: 'inspect-test', brokers: brokers(), connection: {} });
    const fromChangelog = await sessionsOf(readStoreChangelog({ client, topology, store: STORE }));
    expect(differences(fromChangelog, oracle)).toEqual([]);

    // The command itself, with the topology as a module of the user's: one user's sessions, from the changelog.
    const module = join(harness.newStateDir(), 'topology.ts');
    writeFileSync(
      module,
      `import { buildSessionizeTopology } from ${JSON.stringify(join(repo, 'examples/sessionize/topology.ts'))};\n` +
        `export default () => buildSessionizeTopology({ applicationId: ${JSON.stringify(harness.applicationId)}, graceMs: ${REPLAY_GRACE_MS} });\n`,
    );
    const user = [...oracle.values()][0]!.userId;
    const { stdout } = await promisify(execFile)(
      join(repo, 'node_modules/.bin/tsx'),
      ['src/cli/kstreams.ts', 'state', 'get', '--topology', module, '--store', STORE, '--key', user, '--from-changelog', '--bootstrap-servers', brokers().join(',')],
      { cwd: repo },
    );
    const printed = stdout.trim().split('\n').map((line) => JSON.parse(line) as { key: string; window: { start: number; end: number }; value: SessionStats });
    const expected = [...oracle.values()].filter((s) => s.userId === user).map((s) => `${s.start}-${s.end}:${s.count}`).sort();
    expect(printed.map((p) => `${p.window.start}-${p.window.end}:${Number(p.value.count)}`).sort()).toEqual(expected);
  }, 300_000);
});
