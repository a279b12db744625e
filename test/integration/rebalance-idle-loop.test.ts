/**
 * A rebalance must never stop an instance's event loop (issue 31). A task whose cache asks for a commit
 * while the group rebalances (no commit can run then) made the processing loop start the commit again and
 * again in microtasks: no timer, heartbeat or acknowledgement ran any more, the instance hung at 100% CPU
 * while its heap filled. With no cache budget (cacheMaxBytes 0) every task asked for a commit at all times,
 * so any rebalance did it. Each instance is a worker process that reports what it runs once a second (a
 * timer): a hung instance stops reporting.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionizeHarness, eventually } from './sessionize-harness.js';
import { Worker, lastTasks } from '../../examples/sessionize/worker-process.js';

let workers: Worker[] = [];
let harness: SessionizeHarness | undefined;
afterEach(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  workers = [];
  await harness?.cleanup();
});

describe('a rebalance with caches that ask for a commit', () => {
  it('cacheMaxBytes 0: the running instance keeps its event loop turning through the rebalance a second one starts', async () => {
    harness = new SessionizeHarness('at_least_once');
    const h = harness;
    await h.createTopics();
    const env = h.workerEnv('at_least_once', { COMMIT_INTERVAL_MS: '500', CACHE_MAX_BYTES: '0', NUM_STANDBY_REPLICAS: '1' });
    const [a, b] = [0, 1].map((i) => new Worker(env, h.newStateDir(), join(tmpdir(), `${h.applicationId}-rebalance-${i}.log`))) as [Worker, Worker];
    workers = [a, b];
    const events = SessionizeHarness.events(6000, 53);
    a.start();
    expect(await a.waitFor('started', 60_000)).toBe(true);
    await h.produce(events.slice(0, 3000));
    await h.waitForLagZero(90_000);
    await eventually(() => lastTasks(a)?.state === 'RUNNING' && lastTasks(a)!.active.length === 12, 'A to run every task', 30_000);

    // B joins: A rebalances with running tasks, nothing left to process.
    b.start();
    expect(await b.waitFor('started', 60_000)).toBe(true);
    await eventually(
      () => (lastTasks(a)?.active.length ?? 0) > 0 && (lastTasks(b)?.active.length ?? 0) > 0 && lastTasks(a)!.active.length + lastTasks(b)!.active.length === 12,
      'both instances to run tasks',
      60_000,
    );
    // A's once-a-second report keeps coming after the rebalance: its event loop turns.
    const reports = a.count('tasks');
    await eventually(() => a.count('tasks') >= reports + 3, 'A to keep reporting', 30_000);
    await eventually(() => lastTasks(a)?.state === 'RUNNING' && lastTasks(b)?.state === 'RUNNING', 'both RUNNING', 30_000);

    await h.produce(events.slice(3000));
    await h.waitForLagZero(90_000);
    await Promise.all(workers.map((w) => w.stop()));
    await h.expectOracle();
  });
});
