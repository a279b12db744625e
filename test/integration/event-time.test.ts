/**
 * The event-time mode on a broker (issue 28): two instances catch up a backlog whose event times span nine
 * hours, written as six web servers log it (one user's views on every partition), with a 5-minute grace;
 * one instance is SIGKILLed mid-run. Without the mode, the survivor's aggregation tasks read what the other
 * upstream tasks write while the dead one's are stalled, run hours ahead, and drop the stalled tasks' views
 * as late (about a thousand in the issue's run). With progress markers, nothing is dropped as late and the
 * sessions equal the oracle (exactly-once: exactly; at-least-once: nothing missing or under-counted). The
 * same with the group scaling 1 → 3 → 1 during the catch-up.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generatePageViews, oracleSessions } from '../../examples/sessionize/generator.js';
import { Worker, type WorkerEvent } from '../../examples/sessionize/worker-process.js';
import type { ProcessingGuarantee } from '../../src/index.js';
import { groupLag } from './kafka-env.js';
import { SessionizeHarness } from './sessionize-harness.js';

let workers: Worker[] = [];
let harness: SessionizeHarness | undefined;
afterEach(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  workers = [];
  await harness?.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const GRACE_MS = 5 * 60_000;

/** The largest `field` a worker reported in its `tasks` events (counters since its start). */
function reported(w: Worker, field: string): number {
  return w.events.filter((e: WorkerEvent) => e.event === 'tasks').reduce((n, e) => Math.max(n, Number(e[field] ?? 0)), 0);
}

/** Nine hours of views (20 000, as the run), written as six web servers log them, before any instance starts. */
async function backlog(guarantee: ProcessingGuarantee) {
  harness = new SessionizeHarness(guarantee);
  const h = harness;
  await h.createTopics();
  const events = generatePageViews({ events: 20_000, seed: 28, users: 450 });
  const times = events.map((e) => e.view.timestamp);
  expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(8 * 3600_000);
  await h.produce(events, true);
  const env = h.workerEnv(
    guarantee,
    {
      COMMIT_INTERVAL_MS: guarantee === 'exactly_once_v2' ? '100' : '500',
      // EVENT_TIME_BASELINE=1: the same run with the mode off, to see what it prevents (this test then fails).
      ...(process.env.EVENT_TIME_BASELINE === '1' ? {} : { EVENT_TIME: JSON.stringify({ progressMarkers: true, maxUpstreamWaitMs: 120_000 }) }),
      LOG_LEVEL: 'info',
    },
    GRACE_MS,
  );
  const worker = (i: number) => new Worker(env, h.newStateDir(), join(tmpdir(), `${h.applicationId}-event-time-${i}.log`));
  /** Waits until the committed input lag is below `fraction` of the backlog. */
  const progressed = async (fraction: number): Promise<void> => {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const lag = (await groupLag(h.applicationId, [h.input])).reduce((n, p) => n + p.lag, 0n);
      if (lag < BigInt(Math.round(events.length * fraction))) return;
      if (Date.now() > deadline) throw new Error(`the backlog did not move (lag ${lag})`);
      await sleep(100);
    }
  };
  return { h, events, worker, progressed };
}

/** Output against the oracle: nothing missing or under-counted; under exactly-once, exactly the oracle. */
async function expectSessions(h: SessionizeHarness, guarantee: ProcessingGuarantee): Promise<void> {
  const expected = oracleSessions(h.produced);
  const { sessions } = await h.results();
  const missing = [...expected.keys()].filter((k) => !sessions.has(k));
  const short = [...expected].filter(([id, s]) => (sessions.get(id)?.count ?? 0) < s.count).map(([id]) => id);
  const extra = [...sessions.keys()].filter((k) => !expected.has(k));
  expect({ missing: missing.slice(0, 5), short: short.slice(0, 5), missingTotal: missing.length }).toEqual({ missing: [], short: [], missingTotal: 0 });
  if (guarantee === 'exactly_once_v2') {
    expect({ extra: extra.slice(0, 5), extraTotal: extra.length }).toEqual({ extra: [], extraTotal: 0 });
    for (const [id, session] of expected) expect(sessions.get(id), id).toEqual(session);
  }
}

async function catchUpWithOneKilled(guarantee: ProcessingGuarantee): Promise<void> {
  const { h, worker, progressed } = await backlog(guarantee);
  const [a, b] = [worker(0), worker(1)];
  workers = [a, b];
  a.start();
  b.start();
  for (const w of workers) expect(await w.waitFor('started', 60_000)).toBe(true);

  // Mid-run: once a quarter of the backlog is committed, kill one instance without a goodbye.
  await progressed(0.75);
  const droppedBeforeKill = reported(a, 'droppedLate');
  await a.kill();
  await h.waitForLagZero(180_000);
  await sleep(1500); // a report of the survivor after its last commit
  const dropped = { killed: droppedBeforeKill, survivor: reported(b, 'droppedLate') };
  console.log(`[event-time] ${guarantee}: dropped as late ${JSON.stringify(dropped)}; upstream waits given up: ${reported(b, 'upstreamWaitsExpired')}`);

  if (guarantee === 'exactly_once_v2') expect(dropped).toEqual({ killed: 0, survivor: 0 });
  await expectSessions(h, guarantee);
  await b.stop();
}

describe('event-time mode: a catch-up of nine hours with one of two instances SIGKILLed, grace 5 min', () => {
  it('exactly-once: nothing dropped as late, sessions equal the oracle', async () => {
    await catchUpWithOneKilled('exactly_once_v2');
  });

  it('at-least-once: nothing missing or under-counted', async () => {
    await catchUpWithOneKilled('at_least_once');
  });

  it('exactly-once, scaling 1 → 3 → 1 during the catch-up: nothing dropped as late, sessions equal the oracle', async () => {
    const { h, worker, progressed } = await backlog('exactly_once_v2');
    const [a, b, c] = [worker(0), worker(1), worker(2)];
    workers = [a, b, c];
    a.start();
    expect(await a.waitFor('started', 60_000)).toBe(true);
    await progressed(0.85);
    b.start();
    c.start();
    for (const w of [b, c]) expect(await w.waitFor('started', 60_000)).toBe(true);
    await progressed(0.5);
    const dropped = [reported(b, 'droppedLate'), reported(c, 'droppedLate')];
    await Promise.all([b.stop(), c.stop()]);
    await h.waitForLagZero(180_000);
    await sleep(1500);
    dropped.push(reported(a, 'droppedLate'));
    console.log(`[event-time] 1 → 3 → 1: dropped as late ${JSON.stringify(dropped)}`);
    expect(dropped).toEqual([0, 0, 0]);
    await expectSessions(h, 'exactly_once_v2');
    await a.stop();
  });
});
