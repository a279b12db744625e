import { afterEach, describe, expect, it } from 'vitest';
import type { ProcessingGuarantee } from '../../src/index.js';
import { SessionizeHarness, waitForState } from './sessionize-harness.js';

let harness: SessionizeHarness;
afterEach(async () => {
  await harness?.cleanup();
});

async function eventually(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.each<ProcessingGuarantee>(['at_least_once', 'exactly_once_v2'])('several instances of one application (%s)', (guarantee) => {
  it('share 6 partitions; a cleanly stopped instance hands its tasks to the other, results equal the oracle', async () => {
    harness = new SessionizeHarness(guarantee);
    await harness.createTopics();
    const events = SessionizeHarness.events(12_000, 11);

    const a = await harness.start();
    await waitForState(a.app, 'RUNNING');
    const b = await harness.start();
    // Both instances hold tasks once the group settled: the twelve tasks are split between them.
    await eventually(
      () => a.app.localTaskIds().length > 0 && b.app.localTaskIds().length > 0 && a.app.localTaskIds().length + b.app.localTaskIds().length === 12,
      'both instances to run tasks',
    );
    const taskOfA = new Set(a.app.localTaskIds());
    expect(b.app.localTaskIds().some((t) => taskOfA.has(t))).toBe(false);

    await harness.produce(events.slice(0, 6000));
    await harness.waitForLagZero();
    expect(a.app.metrics().processedTotal).toBeGreaterThan(0);
    expect(b.app.metrics().processedTotal).toBeGreaterThan(0);

    // B leaves cleanly: A takes all tasks, restoring B's state from the changelogs, and carries on.
    const moved = b.app.localTaskIds();
    await b.app.close();
    await eventually(() => a.app.localTaskIds().length === 12 && a.app.state === 'RUNNING', 'A to take every task');
    const restoredStores = new Set(a.restored.map((r) => r.partition.taskId));
    expect(moved.filter((t) => t.startsWith('1_')).every((t) => restoredStores.has(t))).toBe(true);

    await harness.produce(events.slice(6000));
    await harness.waitForLagZero();
    await a.app.close();
    await harness.expectOracle();
  });
});
