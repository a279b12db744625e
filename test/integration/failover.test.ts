/**
 * Fast failover with standby replicas: two instances, one standby each; SIGKILL one mid-run. The survivor
 * takes its tasks over within the session timeout and restores only the changelog tail its replicas had not
 * read; no record is lost. The killed instance, restarted on its own state folder, also restores only tails.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { oracleSessions } from '../../examples/sessionize/generator.js';
import { SessionizeHarness, eventually } from './sessionize-harness.js';
import { Worker, lastTasks } from '../../examples/sessionize/worker-process.js';

let workers: Worker[] = [];
let harness: SessionizeHarness | undefined;
afterEach(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  workers = [];
  await harness?.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const restoredSince = (w: Worker, from: number) =>
  w.events.slice(from).filter((e) => e.event === 'restore-end').reduce((n, e) => n + Number(e.count), 0);

describe('standby replicas', () => {
  it('a SIGKILLed instance’s tasks move to the survivor, which restores only the tail; nothing is lost', async () => {
    harness = new SessionizeHarness('at_least_once');
    const h = harness;
    await h.createTopics();
    const env = h.workerEnv('at_least_once', { COMMIT_INTERVAL_MS: '500', NUM_STANDBY_REPLICAS: '1' });
    const [a, b] = [0, 1].map((i) => new Worker(env, h.newStateDir(), join(tmpdir(), `${h.applicationId}-failover-${i}.log`))) as [Worker, Worker];
    workers = [a, b];
    a.start();
    b.start();
    for (const w of workers) expect(await w.waitFor('started')).toBe(true);
    await h.produce(SessionizeHarness.events(20_000, 41));
    await h.waitForLagZero(90_000);
    // Each instance runs half the tasks and keeps the other half's stores warm.
    await eventually(() => (lastTasks(a)?.standby.length ?? 0) > 0 && (lastTasks(b)?.standby.length ?? 0) > 0, 'standby replicas', 20_000);
    const aTasks = lastTasks(a)!.active.filter((t) => t.startsWith('1_'));
    expect(aTasks.length).toBeGreaterThan(0);
    expect(lastTasks(b)!.standby.sort()).toEqual(expect.arrayContaining(aTasks));
    await sleep(1500); // a catch-up round or two after the last commit
    const changelog = await h.changelogSize();

    const before = b.events.length;
    const killedAt = Date.now();
    await a.kill();
    await h.produce(SessionizeHarness.events(3000, 42));
    // The survivor owns everything within the session timeout (6 s) plus a rebalance.
    await eventually(() => lastTasks(b)?.active.length === 12 && lastTasks(b)?.state === 'RUNNING', 'the takeover', 30_000);
    const takeoverMs = Date.now() - killedAt;
    await h.waitForLagZero(60_000);
    const tail = restoredSince(b, before);
    console.log(`[failover] takeover in ${takeoverMs} ms; restored ${tail} of ${changelog} changelog records`);
    expect(tail).toBeLessThan(changelog * 0.05);

    // Nothing lost: every oracle session is there, none counted short (at-least-once may count twice).
    const expected = oracleSessions(h.produced);
    const { sessions } = await h.results();
    const missing = [...expected.keys()].filter((k) => !sessions.has(k));
    const short = [...expected].filter(([id, s]) => (sessions.get(id)?.count ?? 0) < s.count);
    expect({ missing: missing.length, short: short.length }).toEqual({ missing: 0, short: 0 });

    // The killed instance comes back on its own state folder: whatever it gets, it restores at most what
    // was logged while it was away, never a store from the start.
    const loggedWhileAway = (await h.changelogSize()) - changelog;
    a.start();
    expect(await a.waitFor('started')).toBe(true);
    await eventually(() => (lastTasks(a)?.active.length ?? 0) > 0 && lastTasks(a)?.state === 'RUNNING', 'the restart', 30_000);
    console.log(`[failover] restart restored ${restoredSince(a, 0)} records; ${loggedWhileAway} were logged while it was away`);
    expect(restoredSince(a, 0)).toBeLessThanOrEqual(loggedWhileAway);
    await Promise.all(workers.map((w) => w.stop()));
  });
});
