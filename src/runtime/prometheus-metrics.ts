import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { StreamsMetrics } from './streams-metrics.js';

const STATES = ['CREATED', 'REBALANCING', 'RUNNING', 'PENDING_SHUTDOWN', 'NOT_RUNNING', 'ERROR'] as const;

/**
 * A Prometheus registry over an instance's metrics. Values are read from `metrics()` when scraped, so the
 * processing path pays nothing for them. Process metrics (RSS, heap, event-loop lag) come with it: they are
 * what sizing an instance needs beside lag and rates.
 */
export function createPrometheusRegistry(source: () => StreamsMetrics, labels: Record<string, string>): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry, prefix: 'kstreams_' });
  // One snapshot per scrape, shared by every collector of that scrape.
  let snapshot: StreamsMetrics | undefined;
  let taken = 0;
  const current = (): StreamsMetrics => {
    const now = Date.now();
    if (snapshot === undefined || now - taken > 50) {
      snapshot = source();
      taken = now;
    }
    return snapshot;
  };

  // Each metric is refilled from the scrape's snapshot when collected.
  const refill = <M extends { reset(): void }>(fill: (metric: M, m: StreamsMetrics) => void) =>
    function collect(this: M): void {
      this.reset();
      fill(this, current());
    };
  const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge, m: StreamsMetrics) => void): void => {
    new Gauge({ name, help, labelNames, registers: [registry], collect: refill(fill) });
  };
  const counter = (name: string, help: string, labelNames: string[], fill: (c: Counter, m: StreamsMetrics) => void): void => {
    new Counter({ name, help, labelNames, registers: [registry], collect: refill(fill) });
  };

  gauge('kstreams_state', 'Instance state: 1 for the current one', ['state'], (g, m) => {
    for (const state of STATES) g.set({ state }, m.state === state ? 1 : 0);
  });
  gauge('kstreams_active_tasks', 'Active tasks of this instance', [], (g, m) => g.set(m.activeTasks.length));
  gauge('kstreams_records_lag', 'Records behind the end of an input partition, per task', ['task_id', 'partition'], (g, m) => {
    for (const t of m.tasks) for (const [partition, lag] of Object.entries(t.recordsLag)) g.set({ task_id: t.taskId, partition }, lag);
  });
  gauge('kstreams_instance_records_lag', 'Records behind the end of the input, over all tasks of the instance', [], (g, m) => g.set(m.recordsLag));
  counter('kstreams_process_total', 'Records processed, per task', ['task_id'], (c, m) => {
    for (const t of m.tasks) c.inc({ task_id: t.taskId }, t.processedTotal);
  });
  counter('kstreams_instance_process_total', 'Records processed by the instance (tasks it no longer has included)', [], (c, m) => c.inc(m.processedTotal));
  counter('kstreams_dropped_records_total', 'Records dropped: late (after the grace), without a key, with an invalid timestamp, or output the production handler dropped', ['reason'], (c, m) => {
    c.inc({ reason: 'late' }, m.droppedLateTotal);
    c.inc({ reason: 'null_key' }, m.droppedNullKeyTotal);
    c.inc({ reason: 'invalid_timestamp' }, m.droppedInvalidTimestampTotal);
    c.inc({ reason: 'production' }, m.droppedProductionTotal);
  });
  counter('kstreams_late_records_total', 'Records late for their window or session sent to the late-records topic (lateRecords), by what they missed', ['reason'], (c, m) => {
    c.inc({ reason: 'session_closed' }, m.lateSessionRecordsTotal);
    c.inc({ reason: 'window_closed' }, m.lateWindowRecordsTotal);
  });
  counter('kstreams_skipped_records_total', 'Records skipped by the exception handlers (logAndContinue); dead letters count in kstreams_dead_letter_records_total', [], (c, m) => c.inc(m.skippedRecordsTotal));
  counter('kstreams_dead_letter_records_total', 'Records sent to a dead-letter topic', [], (c, m) => c.inc(m.deadLetterRecordsTotal));
  counter('kstreams_commit_total', 'Commits', [], (c, m) => c.inc(m.commitTotal));
  gauge('kstreams_commit_latency_avg_ms', 'Average commit latency', [], (g, m) => g.set(m.commitLatencyAvgMs));
  counter('kstreams_restore_records_total', 'Changelog records restored', [], (c, m) => c.inc(m.restoredRecordsTotal));
  gauge('kstreams_restore_remaining_records', 'Changelog records still to restore', [], (g, m) => g.set(m.restoreRemainingRecords));
  gauge('kstreams_cache_hit_ratio', 'Store reads answered by the write cache', ['task_id', 'store'], (g, m) => {
    for (const t of m.tasks) {
      for (const [store, ratio] of Object.entries(t.cacheHitRatio)) if (!Number.isNaN(ratio)) g.set({ task_id: t.taskId, store }, ratio);
    }
  });
  gauge('kstreams_punctuate_latency_avg_ms', 'Average time of a punctuation, per task', ['task_id'], (g, m) => {
    for (const t of m.tasks) g.set({ task_id: t.taskId }, t.punctuateLatencyAvgMs);
  });
  gauge('kstreams_buffered_records', 'Fetched records waiting to be processed, over the instance', [], (g, m) => g.set(m.bufferedRecords));
  counter('kstreams_produced_records_total', 'Records produced (output, repartition, changelog)', [], (c, m) => c.inc(m.producedRecordsTotal));
  counter('kstreams_produce_requests_total', 'Produce requests sent', [], (c, m) => c.inc(m.produceRequestsTotal));
  return registry;
}
