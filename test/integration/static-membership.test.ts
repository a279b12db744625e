import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Worker, lastTasks } from '../../examples/sessionize/worker-process.js';
import type { KafkaStreamsState, ProcessingGuarantee } from '../../src/index.js';
import { brokers } from './kafka-env.js';
import { REPLAY_GRACE_MS, SessionizeHarness, eventually, waitForState } from './sessionize-harness.js';

let harness: SessionizeHarness;
let worker: Worker | undefined;
afterEach(async () => {
  await worker?.kill();
  worker = undefined;
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

describe('static membership after a crash', () => {
  it('an instance SIGKILLed and restarted within the session timeout takes its tasks back; the other never rebalances; exact under exactly-once', async () => {
    harness = new SessionizeHarness('exactly_once_v2');
    await harness.createTopics();
    const events = SessionizeHarness.events(8000, 22);
    const a = new Worker(
      {
        KAFKA_BROKERS: brokers().join(','),
        APP_ID: harness.applicationId,
        INPUT_TOPIC: harness.input,
        OUTPUT_TOPIC: harness.output,
        GUARANTEE: 'exactly_once_v2',
        GRACE_MS: String(REPLAY_GRACE_MS),
        COMMIT_INTERVAL_MS: '100',
        GROUP_INSTANCE_ID: 'a',
        SESSION_TIMEOUT_MS: '30000',
        NODE_ENV: 'production',
      },
      harness.newStateDir(),
      join(tmpdir(), `${harness.applicationId}-worker-a.log`),
    );
    worker = a;
    a.start();
    expect(await a.waitFor('started')).toBe(true);
    const b = await harness.start(undefined, { groupInstanceId: 'b', sessionTimeoutMs: 30_000 });
    const tasksOfA = () => lastTasks(a)?.active ?? [];
    await eventually(
      () => b.app.state === 'RUNNING' && b.app.localTaskIds().length > 0 && lastTasks(a)?.state === 'RUNNING' && tasksOfA().length + b.app.localTaskIds().length === 12,
      'both instances to run tasks',
    );
    await harness.produce(events.slice(0, 4000));
    await harness.waitForLagZero();
    const before = { a: [...tasksOfA()].sort(), b: b.app.localTaskIds() };
    const seenByB: KafkaStreamsState[] = [];
    b.app.on('stateChange', (next) => seenByB.push(next));

    await a.kill();
    await harness.produce(events.slice(4000, 6000));
    a.start();
    expect(await a.waitFor('started')).toBe(true);
    await eventually(() => lastTasks(a)?.state === 'RUNNING' && [...tasksOfA()].sort().join() === before.a.join(), 'A to run its tasks again');
    expect(b.app.localTaskIds()).toEqual(before.b);
    expect(seenByB).toEqual([]);

    await harness.produce(events.slice(6000));
    await harness.waitForLagZero();
    expect(seenByB).toEqual([]);
    await a.stop();
    await b.app.close();
    await harness.expectOracle();
  });
});
