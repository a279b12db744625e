/**
 * State that survives an upgrade: v1 of the sessionization app runs and stops; v2 (a field added to the
 * session aggregate with a default, a new filter) starts on the same state and changelogs, keeps every open
 * session and merges new views into it. Then the same with the state folder wiped (v1's records restored
 * from the changelog), and an incompatible v3 that must fail at start without touching anything.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SchemaEvolutionError, Serdes } from '../../src/index.js';
import { oracleSessions, recentStartTime, type GeneratedEvent } from '../../examples/sessionize/generator.js';
import { readTopic } from '../../examples/sessionize/kafka-io.js';
import { buildSessionizeTopology, sessionKeySerde, sessionStatsSchema, type SessionStats } from '../../examples/sessionize/topology.js';
import { buildSessionizeTopologyV2, sessionStatsV2Schema, type SessionStatsV2 } from '../../examples/sessionize/topology-v2.js';
import { brokers, withAdmin } from './kafka-env.js';
import { PARTITIONS, SessionizeHarness, waitForState } from './sessionize-harness.js';

let harness: SessionizeHarness | undefined;
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

/** The last v2 aggregate per session in the output (v1 records read through the v2 schema). */
async function finalV2(topic: string): Promise<Map<string, SessionStatsV2>> {
  const serde = Serdes.Avro<SessionStatsV2>(sessionStatsV2Schema);
  serde.learnWriterSchema(JSON.stringify(sessionStatsSchema), 'output');
  const latest = new Map<string, SessionStatsV2 | null>();
  for (const [k, v] of await readTopic(brokers(), topic, PARTITIONS, true)) {
    const key = sessionKeySerde.deserialize(k);
    latest.set(`${key.key}@${key.window.start}-${key.window.end}`, v === null ? null : serde.deserialize(v));
  }
  return new Map([...latest].filter((e): e is [string, SessionStatsV2] => e[1] !== null));
}

function notFoundBySession(sessionsOf: Map<string, { userId: string; start: number; end: number }>, views: readonly GeneratedEvent[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [id, s] of sessionsOf) {
    const n = views.filter((e) => !e.malformed && e.view.userId === s.userId && e.view.status === 404 && e.view.timestamp >= s.start && e.view.timestamp <= s.end).length;
    counts.set(id, n);
  }
  return counts;
}

describe.each([
  { variant: 'on its state folder', wipe: false },
  { variant: 'with the state folder wiped', wipe: true },
])('upgrading v1 -> v2 $variant', ({ wipe }) => {
  it('keeps every open session and merges new views into it; an incompatible v3 fails at start and changes nothing', async () => {
    harness = new SessionizeHarness('at_least_once');
    const h = harness;
    await h.createTopics();
    const t0 = recentStartTime();
    const batch1 = SessionizeHarness.events(3000, 31, t0);
    const lastV1 = Math.max(...batch1.map((e) => e.view.timestamp));
    // Batch 2 begins within the inactivity gap of batch 1's end: many sessions continue across the upgrade.
    const batch2 = SessionizeHarness.events(3000, 32, lastV1 - 3600_000);

    const stateDir = h.newStateDir();
    const v1 = await h.start(stateDir);
    await waitForState(v1.app, 'RUNNING');
    await h.produce(batch1);
    await h.waitForLagZero();
    await v1.app.close();

    if (!wipe) {
      // v3 changes `count` from long to string: it must fail at start and leave state and offsets alone.
      const checkpointsBefore = readCheckpoints(join(stateDir, h.applicationId));
      const offsetsBefore = await committed(h.applicationId, h.input);
      const error = await h.start(stateDir, {}, buildIncompatible).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(SchemaEvolutionError);
      expect((error as Error).message).toContain("Store 'session-stats'");
      expect((error as Error).message).toContain('"name":"count","type":"long"');
      expect((error as Error).message).toContain('"name":"count","type":"string"');
      expect(readCheckpoints(join(stateDir, h.applicationId))).toEqual(checkpointsBefore);
      expect(await committed(h.applicationId, h.input)).toEqual(offsetsBefore);
    }

    const v2 = await h.start(wipe ? h.newStateDir() : stateDir, {}, buildSessionizeTopologyV2);
    await waitForState(v2.app, 'RUNNING');
    if (wipe) expect(v2.restoredTotal()).toBeGreaterThan(0);
    else expect(v2.restoredTotal()).toBe(0);
    await h.produce(batch2);
    await h.waitForLagZero();
    await v2.app.close();

    const expected = oracleSessions(h.produced);
    const continued = [...expected.values()].filter((s) => s.start <= lastV1 && s.end > lastV1 - 3600_000 && s.end >= Math.min(...batch2.map((e) => e.view.timestamp)));
    const spanning = continued.filter((s) => batch1.some((e) => e.view.userId === s.userId && e.view.timestamp >= s.start && e.view.timestamp <= s.end) && batch2.some((e) => e.view.userId === s.userId && e.view.timestamp >= s.start && e.view.timestamp <= s.end));
    expect(spanning.length).toBeGreaterThan(10);

    const actual = await finalV2(h.output);
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    const notFound = notFoundBySession(expected, batch2);
    for (const [id, s] of expected) {
      const got = actual.get(id)!;
      expect({ count: Number(got.count), bytes: Number(got.bytes), pages: got.pages }, id).toEqual({ count: s.count, bytes: s.bytes, pages: s.pages });
      // v1's aggregates read with the default 0; only views processed by v2 count.
      expect(Number(got.notFound), id).toBe(notFound.get(id));
    }
  });
});

function readCheckpoints(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const task of readdirSync(root)) {
    try {
      out[task] = readFileSync(join(root, task, '.checkpoint'), 'utf8');
    } catch {
      // a task without a checkpoint
    }
  }
  return out;
}

async function committed(groupId: string, topic: string): Promise<string[]> {
  return withAdmin(async (admin) => (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions.map((p) => `${p.partition}:${p.offset}`).sort());
}

/** v3: `count` becomes a string, which Avro cannot read from a long. */
function buildIncompatible(options: Parameters<typeof buildSessionizeTopology>[0]) {
  const schema = { ...sessionStatsSchema, fields: sessionStatsSchema.fields.map((f) => (f.name === 'count' ? { name: 'count', type: 'string' } : f)) };
  return buildSessionizeTopology({ ...options, statsSerde: Serdes.Avro<SessionStats>(schema) });
}
