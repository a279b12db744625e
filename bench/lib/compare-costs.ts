/**
 * What each view and each session costs, from the compare suite's runs: CPU seconds per million views and views
 * per CPU-second (views/s one fully busy core sustains), measured from outside as the OS counts them (our
 * Node processes: process.cpuUsage; Kafka Streams' JVM: /proc/<pid>/stat, every thread, JIT and GC
 * included), from each contender's first RUNNING to its last commit; and what a session leaves behind:
 * bytes of the state folder (LevelDB for ours, RocksDB for Kafka Streams, after a clean close) and of the
 * changelog, per session of the data set (every session stays in the store: the grace outlasts the data).
 * Every ratio is against Kafka Streams under the same guarantee in the same run.
 */
import type { BenchBroker } from './bench-env.js';
import { changelogVolume, type ChangelogVolume } from './changelog-volume.js';
import type { RunFigures } from './contender.js';

export interface CostedRun {
  readonly contender: string;
  readonly guarantee: 'at_least_once' | 'exactly_once_v2';
  readonly kafkaStreams: boolean;
  /** One instance: its state folder and changelog are measured (two instances share theirs). */
  readonly single: boolean;
  readonly figures: RunFigures & { applicationId: string };
}

export interface CostFigures {
  contender: string;
  guarantee: string;
  runningCpuSeconds: number;
  cpuSecondsPerMillionViews: number;
  viewsPerCpuSecond: number;
  viewsPerCpuSecondOverKafkaStreams: number;
  stateBytesPerSession?: number;
  changelog?: ChangelogVolume;
  changelogBytesPerSession?: number;
  compactedChangelogBytesPerSession?: number;
  brokerChangelogBytesPerSession?: number;
}

const n = (value: unknown): number => (typeof value === 'number' ? value : Number.NaN);

export async function compareCosts(broker: BenchBroker, views: number, sessions: number, runs: readonly CostedRun[],
  table: (rows: Array<Record<string, string | number>>) => void): Promise<CostFigures[]> {
  const figures: CostFigures[] = [];
  for (const run of runs) {
    const cpu = n(run.figures.runningCpuSeconds);
    const cost: CostFigures = { contender: run.contender, guarantee: run.guarantee, runningCpuSeconds: cpu, cpuSecondsPerMillionViews: (1e6 * cpu) / views,
      viewsPerCpuSecond: views / cpu, viewsPerCpuSecondOverKafkaStreams: Number.NaN };
    if (run.single) {
      cost.stateBytesPerSession = n(run.figures.stateBytes) / sessions;
      cost.changelog = await changelogVolume(broker, run.figures.applicationId);
      cost.changelogBytesPerSession = cost.changelog.bytes / sessions;
      cost.compactedChangelogBytesPerSession = cost.changelog.compactedBytes / sessions;
      cost.brokerChangelogBytesPerSession = cost.changelog.brokerBytes / sessions;
    }
    figures.push(cost);
  }
  for (const cost of figures) {
    const peer = figures.find((f) => f.guarantee === cost.guarantee && runs.find((r) => r.contender === f.contender)?.kafkaStreams === true);
    if (peer !== undefined) cost.viewsPerCpuSecondOverKafkaStreams = cost.viewsPerCpuSecond / peer.viewsPerCpuSecond;
  }
  const fixed = (value: number | undefined, digits = 0) => (value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits));
  console.log(`[compare] CPU from each contender's first RUNNING to its last commit (${views} views; ratios against Kafka Streams, same guarantee):`);
  table(figures.map((f) => ({ contender: f.contender, guarantee: f.guarantee, 'CPU s': fixed(f.runningCpuSeconds, 1),
    'CPU s / million views': fixed(f.cpuSecondsPerMillionViews, 1), 'views/s per core': fixed(f.viewsPerCpuSecond), '÷ KS': fixed(f.viewsPerCpuSecondOverKafkaStreams, 2) })));
  console.log(`[compare] state and changelog per session (${sessions} sessions, all still in the store), one instance each:`);
  table(figures.filter((f) => f.changelog !== undefined).map((f) => ({ contender: f.contender, guarantee: f.guarantee,
    'state B/session': fixed(f.stateBytesPerSession), 'changelog records': f.changelog!.records, tombstones: f.changelog!.tombstones,
    'changelog B/session (key+value, as written)': fixed(f.changelogBytesPerSession), 'on the broker B/session (log segments)': fixed(f.brokerChangelogBytesPerSession),
    'compacted B/session (last value per key)': fixed(f.compactedChangelogBytesPerSession) })));
  return figures;
}
