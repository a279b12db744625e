import { afterEach, describe, expect, it } from 'vitest';
import { SessionizeHarness, waitForState } from './sessionize-harness.js';

let harness: SessionizeHarness;
afterEach(async () => {
  await harness?.cleanup();
});

/**
 * A backlog spanning hours of event time, written to six partitions as web servers log it (one user's
 * views on every partition) before the application starts, is processed with a 5-minute grace: the
 * upstream tasks that feed the repartition topic must stay close in event time, and what they write must
 * reach the broker in that order, or the session aggregation downstream drops records as late (issue 15;
 * before the fix about two thirds of this data set).
 */
describe('replaying a backlog of hours with a 5-minute grace', () => {
  it('drops no record as late with one instance, and the sessions equal the oracle', async () => {
    harness = new SessionizeHarness('at_least_once');
    await harness.createTopics();
    const events = SessionizeHarness.events(30_000, 15);
    const span = events[events.length - 1]!.view.timestamp - events[0]!.view.timestamp;
    expect(span).toBeGreaterThan(3 * 3600_000);
    await harness.produce(events, true);

    const instance = await harness.start(undefined, {}, undefined, 5 * 60_000);
    await waitForState(instance.app, 'RUNNING');
    await harness.waitForLagZero(120_000);
    const metrics = instance.app.metrics();
    await instance.app.close();
    expect(metrics.droppedLateTotal).toBe(0);
    expect(metrics.skippedRecordsTotal).toBe(harness.produced.filter((e) => e.malformed).length);
    await harness.expectOracle();
  });
});
