/** The Grafana dashboard in grafana/ queries only metrics a running instance exports, with their labels. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { Consumed, KafkaStreams, Produced, Serdes, StreamsBuilder } from '../../src/index.js';
import { brokers, createTopics, kafkaClient, uniqueName } from './kafka-env.js';
import { waitForState } from './sessionize-harness.js';

interface Panel {
  readonly title: string;
  readonly targets?: ReadonlyArray<{ readonly expr: string }>;
}

const dashboard = JSON.parse(readFileSync('grafana/kstreams-dashboard.json', 'utf8')) as { panels: Panel[] };

/** Metric names in the dashboard's queries (the instance's metrics all start with kstreams_). */
function queriedMetrics(): string[] {
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  return [...new Set(exprs.flatMap((e) => e.match(/\bkstreams_[a-z0-9_]+/g) ?? []))].sort();
}

describe('Grafana dashboard', () => {
  it('every metric its queries use is exported, with samples labelled by application and client id', async () => {
    const applicationId = uniqueName('dashboard');
    const source = uniqueName('dashboard-in');
    const sink = uniqueName('dashboard-out');
    await createTopics([{ topic: source, numPartitions: 2 }, { topic: sink, numPartitions: 2 }]);
    const producer = kafkaClient().producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic: source, messages: Array.from({ length: 20 }, (_, i) => ({ key: `k${i % 5}`, value: `v${i}` })) });
    await producer.disconnect();

    // A store, so that per-store and per-task series exist.
    const builder = new StreamsBuilder();
    builder.stream(source, Consumed.with(Serdes.String(), Serdes.String())).groupByKey().count().toStream().to(sink, Produced.with(Serdes.String(), Serdes.Int64()));
    const stateDir = mkdtempSync(join(tmpdir(), 'kstreams-dashboard-'));
    const app = new KafkaStreams(builder.build({ applicationId }), { applicationId, bootstrapServers: brokers(), stateDir, metricsPort: 0, commitIntervalMs: 100 });
    try {
      await app.start();
      await waitForState(app, 'RUNNING');
      await expect.poll(() => app.metrics().processedTotal, { timeout: 60_000 }).toBe(20);
      const { host, port } = app.metricsAddress!;
      const text = await (await fetch(`http://${host}:${port}/metrics`)).text();

      const metrics = queriedMetrics();
      expect(metrics.length).toBeGreaterThan(10);
      const missing = metrics.filter((name) => !new RegExp(`^# TYPE ${name} `, 'm').test(text));
      expect(missing, 'queried by the dashboard but not exported').toEqual([]);
      const unlabelled = metrics.filter((name) => {
        const samples = text.split('\n').filter((l) => l.startsWith(`${name}{`));
        return !samples.some((l) => l.includes(`application_id="${applicationId}"`) && l.includes('client_id="'));
      });
      expect(unlabelled, 'exported without a sample labelled application_id and client_id').toEqual([]);
    } finally {
      await app.close();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
