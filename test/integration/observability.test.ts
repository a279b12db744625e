/**
 * Seeing into a running application: Prometheus metrics and health over HTTP, and interactive queries
 * that find a user's session on the instance that owns it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { QueryableStoreTypes, type KafkaStreams } from '../../src/index.js';
import { oracleSessions } from '../../examples/sessionize/generator.js';
import type { SessionStats } from '../../examples/sessionize/topology.js';
import { SessionizeHarness, waitForState } from './sessionize-harness.js';

let harness: SessionizeHarness | undefined;
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

/** The value of a metric line (summed over its label sets when `labels` is not given). */
function metricValue(text: string, name: string, labels?: string): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (labels !== undefined && !line.includes(labels)) continue;
    found = true;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return found ? sum : Number.NaN;
}

describe('metrics and interactive queries', () => {
  it('serves Prometheus metrics and health; lag goes to zero; a session is found on the instance that owns it', async () => {
    harness = new SessionizeHarness('at_least_once');
    const h = harness;
    await h.createTopics();
    const a = await h.start(undefined, { metricsPort: 0, metricsHost: '127.0.0.1', applicationServer: 'instance-a:7001' });
    const b = await h.start(undefined, { applicationServer: 'instance-b:7002' });
    await Promise.all([waitForState(a.app, 'RUNNING'), waitForState(b.app, 'RUNNING')]);
    const address = a.app.metricsAddress!;
    const url = (path: string) => `http://${address.host}:${address.port}${path}`;
    expect((await fetch(url('/health'))).status).toBe(200);

    await h.produce(SessionizeHarness.events(3000, 17));
    await h.waitForLagZero();
    // Lag as the instance reports it reaches zero too.
    await expect
      .poll(async () => metricValue(await (await fetch(url('/metrics'))).text(), 'kstreams_instance_records_lag'), { timeout: 20_000 })
      .toBe(0);
    const text = await (await fetch(url('/metrics'))).text();
    for (const name of [
      'kstreams_process_total',
      'kstreams_records_lag',
      'kstreams_commit_total',
      'kstreams_commit_latency_avg_ms',
      'kstreams_restore_records_total',
      'kstreams_restore_remaining_records',
      'kstreams_dropped_records_total',
      'kstreams_cache_hit_ratio',
      'kstreams_punctuate_latency_avg_ms',
      'kstreams_process_resident_memory_bytes',
    ]) {
      expect(text, name).toContain(`\n${name}`);
    }
    expect(metricValue(text, 'kstreams_instance_process_total')).toBe(a.app.metrics().processedTotal);
    expect(metricValue(text, 'kstreams_instance_process_total')).toBeGreaterThan(0);
    expect(metricValue(text, 'kstreams_state', 'state="RUNNING"')).toBe(1);
    expect(text).toContain(`application_id="${h.applicationId}"`);

    // Both instances share the tasks, and each knows where the other answers queries.
    const clients = await b.app.metadataForAllStreamsClients();
    expect(clients.map((c) => c.applicationServer).sort()).toEqual(['instance-a:7001', 'instance-b:7002']);
    expect(clients.flatMap((c) => c.activeTasks).sort()).toEqual([...a.app.localTaskIds(), ...b.app.localTaskIds()].sort());
    expect(clients.flatMap((c) => c.activeTasks)).toHaveLength(12);

    const byServer: Record<string, KafkaStreams> = { 'instance-a:7001': a.app, 'instance-b:7002': b.app };
    const expected = [...oracleSessions(h.produced).values()];
    let checked = 0;
    for (const session of expected.filter((_, i) => i % 7 === 0)) {
      const where = await a.app.metadataForKey('session-stats', session.userId);
      expect(where).toBeDefined();
      const owner = byServer[where!.applicationServer!]!;
      const other = owner === a.app ? b.app : a.app;
      const found = owner.store('session-stats', QueryableStoreTypes.sessionStore<string, SessionStats>()).fetch(session.userId);
      const match = found.find((s) => s.key.window.start === session.start && s.key.window.end === session.end);
      expect(match?.value.count, session.userId).toBe(session.count);
      expect(other.store('session-stats', QueryableStoreTypes.sessionStore<string, SessionStats>()).fetch(session.userId)).toEqual([]);
      checked++;
    }
    expect(checked).toBeGreaterThan(10);

    await b.app.close();
    await a.app.close();
    expect(() => a.app.store('session-stats', QueryableStoreTypes.sessionStore())).toThrow(/cannot be queried/);
  });
});
