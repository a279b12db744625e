/**
 * The `restore` suite: what a restoration costs, ours beside Kafka Streams on the same sessions. One data set
 * (BENCH_EVENTS, default 300 000) through each at at-least-once, one instance (Kafka Streams: its default
 * stream threads), the same commit interval (1 s) and, when CACHE_MAX_BYTES is set, the same cache budget;
 * then the changelog each wrote is counted (records, of them tombstones, bytes) and restored into an empty
 * state folder. Changelog records are not noisy on a loaded machine; restore seconds are, so both are printed
 * as ratios against Kafka Streams in the same run.
 */
import { fillInputTopic, type BenchBroker } from './bench-env.js';
import type { RunFigures } from './contender.js';
import { ensureKafkaStreamsPeer } from './kafka-streams-peer.js';
import { changelogVolume } from './changelog-volume.js';

type Guarantee = 'at_least_once' | 'exactly_once_v2';

/** The helpers of bench/run.ts this suite runs its contenders with. */
export interface RestoreSuiteHelpers {
  readonly run: string;
  ours(broker: BenchBroker, input: string, guarantee: Guarantee, label: string, extra?: Record<string, string>): Promise<RunFigures & { applicationId: string }>;
  kafkaStreams(broker: BenchBroker, classpath: string, input: string, guarantee: string, label: string, appId?: string, format?: string,
    extra?: Record<string, string>): Promise<RunFigures & { applicationId: string; restored: number; restoreSeconds: number }>;
  table(rows: Array<Record<string, string | number>>): void;
}

export async function restoreSuite(broker: BenchBroker, helpers: RestoreSuiteHelpers): Promise<Record<string, unknown>> {
  const n = Number(process.env.BENCH_EVENTS ?? 300_000);
  const input = `bench-restore-${helpers.run}`;
  console.log(`\n[restore] filling ${input} with ${n} events...`);
  await fillInputTopic(broker, input, n, { seed: 31 });
  const classpath = ensureKafkaStreamsPeer((line) => console.log(`[restore] ${line}`));
  const cache: Record<string, string> = process.env.CACHE_MAX_BYTES === undefined ? {} : { CACHE_MAX_BYTES: process.env.CACHE_MAX_BYTES };
  console.log('[restore] ours, at_least_once...');
  const ours = await helpers.ours(broker, input, 'at_least_once', 'restore-ours', cache);
  console.log('[restore] Kafka Streams, at_least_once...');
  const java = await helpers.kafkaStreams(broker, classpath, input, 'at_least_once', 'restore-java', undefined, 'avro', cache);
  const oursLog = await changelogVolume(broker, ours.applicationId);
  const javaLog = await changelogVolume(broker, java.applicationId);
  console.log('[restore] restoring both into empty state folders...');
  const oursRestore = await helpers.ours(broker, input, 'at_least_once', 'restore-ours', { ...cache, APP_ID: ours.applicationId, UNTIL: 'running' });
  const javaRestore = await helpers.kafkaStreams(broker, classpath, input, 'at_least_once', 'restore-java', java.applicationId, 'avro', cache);
  const oursCommits = (ours.metrics as { commitTotal?: number } | undefined)?.commitTotal;
  helpers.table([
    { contender: 'ours', 'events/s': Math.round(n / ours.seconds), commits: oursCommits ?? '-', 'changelog records': oursLog.records, tombstones: oursLog.tombstones,
      'changelog MB': (oursLog.bytes / 1048576).toFixed(1), restored: Number(oursRestore.restored), 'restore s': Number(oursRestore.restoreSeconds).toFixed(2) },
    { contender: 'Kafka Streams', 'events/s': Math.round(n / java.seconds), commits: '-', 'changelog records': javaLog.records, tombstones: javaLog.tombstones,
      'changelog MB': (javaLog.bytes / 1048576).toFixed(1), restored: javaRestore.restored, 'restore s': javaRestore.restoreSeconds.toFixed(2) },
  ]);
  const ratios = {
    changelogRecordsOursOverKafkaStreams: oursLog.records / javaLog.records,
    restoreSecondsOursOverKafkaStreams: Number(oursRestore.restoreSeconds) / javaRestore.restoreSeconds,
  };
  console.log(`[restore] changelog records ours ÷ Kafka Streams ${ratios.changelogRecordsOursOverKafkaStreams.toFixed(2)} (goal ≤ 1.2), ` +
    `restore time ours ÷ Kafka Streams ${ratios.restoreSecondsOursOverKafkaStreams.toFixed(2)} (goal ≤ 1.0)`);
  return { events: n, cacheMaxBytes: cache.CACHE_MAX_BYTES ?? 'default', ours: { run: ours, changelog: oursLog, restore: oursRestore },
    kafkaStreams: { run: java, changelog: javaLog, restore: javaRestore }, ratios };
}
