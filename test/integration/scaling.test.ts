import { afterEach, describe, expect, it } from 'vitest';
import type { ProcessingGuarantee } from '../../src/index.js';
import { SessionizeHarness, eventually, waitForState } from './sessionize-harness.js';

let harness: SessionizeHarness;
afterEach(async () => {
  await harness?.cleanup();
});

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

describe('adding and removing instances', () => {
  it('three instances over 6 partitions: a fourth joining and one leaving move the fewest tasks', async () => {
    harness = new SessionizeHarness('at_least_once');
    await harness.createTopics();
    const instances = [await harness.start(), await harness.start(), await harness.start()];
    const owners = () => {
      const map = new Map<string, number>();
      instances.forEach((inst, i) => {
        if (inst.app.state !== 'NOT_RUNNING') for (const t of inst.app.localTaskIds()) map.set(t, i);
      });
      return map;
    };
    const settled = (members: number[]) => () =>
      members.every((i) => instances[i]!.app.state === 'RUNNING' && instances[i]!.app.localTaskIds().length === 12 / members.length) &&
      owners().size === 12;
    await eventually(settled([0, 1, 2]), 'three instances with four tasks each');
    await harness.produce(SessionizeHarness.events(3000, 12));
    await harness.waitForLagZero();
    const three = owners();

    // A fourth joins: it takes three tasks (one of each sub-topology where it can), nobody else trades.
    instances.push(await harness.start());
    await eventually(settled([0, 1, 2, 3]), 'four instances with three tasks each').catch((err: unknown) => {
      throw new Error(`${(err as Error).message}: ${instances.map((i) => `${i.app.state} [${i.app.localTaskIds().join(' ')}]`).join('; ')}`);
    });
    const four = owners();
    const movedOnJoin = [...four].filter(([task, owner]) => three.get(task) !== owner);
    expect(movedOnJoin.length).toBe(3);
    expect(movedOnJoin.every(([, owner]) => owner === 3)).toBe(true);

    // One leaves: only its three tasks move.
    const leaving = instances[1]!;
    const itsTasks = leaving.app.localTaskIds();
    await leaving.app.close();
    await eventually(settled([0, 2, 3]), 'three instances with four tasks each again');
    const after = owners();
    const movedOnLeave = [...after].filter(([task, owner]) => four.get(task) !== owner).map(([task]) => task);
    expect(movedOnLeave.sort()).toEqual([...itsTasks].sort());

    await harness.produce(SessionizeHarness.events(3000, 13, Date.now() - 86_400_000));
    await harness.waitForLagZero();
    for (const inst of instances) await inst.app.close();
    await harness.expectOracle();
  });
});
