import { afterEach, describe, expect, it } from 'vitest';
import type { KafkaStreamsState, ProcessingGuarantee } from '../../src/index.js';
import { SessionizeHarness, eventually, waitForState } from './sessionize-harness.js';

let harness: SessionizeHarness;
afterEach(async () => {
  await harness?.cleanup();
});

describe.each<ProcessingGuarantee>(['at_least_once', 'exactly_once_v2'])('static membership (groupInstanceId, %s)', (guarantee) => {
  it('an instance restarted within the session timeout takes its own tasks back; the other never rebalances', async () => {
    harness = new SessionizeHarness(guarantee);
    await harness.createTopics();
    const events = SessionizeHarness.events(8000, 21);
    const settings = (id: string) => ({ groupInstanceId: id, sessionTimeoutMs: 30_000 });

    const a = await harness.start(undefined, settings('a'));
    await waitForState(a.app, 'RUNNING');
    const b = await harness.start(undefined, settings('b'));
    await eventually(
      () => a.app.localTaskIds().length + b.app.localTaskIds().length === 12 && a.app.state === 'RUNNING' && b.app.state === 'RUNNING' && b.app.localTaskIds().length > 0,
      'both instances to run tasks',
    );
    await harness.produce(events.slice(0, 4000));
    await harness.waitForLagZero();
    const tasksOfA = a.app.localTaskIds();
    const tasksOfB = b.app.localTaskIds();
    const seenByB: KafkaStreamsState[] = [];
    b.app.on('stateChange', (next) => seenByB.push(next));

    // A stops cleanly and comes back with the same instance id and state folder, well within 30 s.
    await a.app.close();
    await harness.produce(events.slice(4000, 6000));
    const a2 = await harness.start(a.stateDir, settings('a'));
    await eventually(() => a2.app.state === 'RUNNING' && a2.app.localTaskIds().length === tasksOfA.length, 'A to run again');

    expect(a2.app.localTaskIds()).toEqual(tasksOfA);
    expect(b.app.localTaskIds()).toEqual(tasksOfB);
    expect(seenByB).toEqual([]);
    // Its own state was on disk, checkpointed at its close, and nobody wrote its changelogs since.
    expect(a2.restoredTotal()).toBe(0);

    await harness.produce(events.slice(6000));
    await harness.waitForLagZero();
    expect(seenByB).toEqual([]);
    await a2.app.close();
    await b.app.close();
    await harness.expectOracle();
  });
});
