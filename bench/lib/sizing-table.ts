/**
 * README's Sizing table, in Markdown, from the figures of one `npm run bench -- sizing` run (or of any of its
 * suites run together: the rows of a suite that did not run are left out). Each row: ours, Kafka Streams
 * measured in the same run, their ratio, and the command that measures it alone.
 */
import type { CostFigures } from './compare-costs.js';
import type { FailoverFigures } from './failover.js';
import type { MaxRates } from './max-rate.js';
import type { OpenSessionsFigures } from './open-sessions.js';

interface CompareResults {
  events: number;
  oracle: { sessions: number };
  rows: Array<{ contender: string; 'events/s': number; 'peak RSS MB': number }>;
  restoration: { ours: { restoreSeconds: unknown }; kafkaStreams: { restoreSeconds: number } };
  costs: CostFigures[];
}

interface LatencyRun {
  guarantee: string;
  commitMs: number | 'default';
  rate: number;
  rateNote: string;
  seconds: number;
  ours: { p50: number; p99: number };
  kafkaStreams: { p50: number; p99: number };
}

interface SizingResults {
  compare?: CompareResults;
  latency?: { runs: LatencyRun[]; maxRates: MaxRates[] };
  failover?: { sessions: number; without?: FailoverFigures; withStandby?: FailoverFigures; kafkaStreams: { without?: FailoverFigures; withStandby?: FailoverFigures } };
  openSessions?: OpenSessionsFigures[];
}

/** 25278 -> "25 278", as README writes numbers; one decimal below 10, none above. */
function num(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  if (Math.abs(value) < 10) return value.toFixed(1);
  return String(Math.round(value)).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}

const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || !Number.isFinite(a / b) ? '–' : (a / b).toFixed(2));

type Row = [figure: string, ours: string, kafkaStreams: string, ratio: string, command: string];

function compareRows(c: CompareResults): Row[] {
  const rate = (prefix: string) => c.rows.find((r) => r.contender.startsWith(prefix));
  const cost = (contender: string, guarantee: string) => c.costs.find((f) => f.contender === contender && f.guarantee === guarantee);
  const cmd = `\`BENCH_EVENTS=${c.events} npm run bench -- compare\``;
  const rows: Row[] = [];
  for (const [guarantee, label] of [['at_least_once', 'at-least-once'], ['exactly_once_v2', 'exactly-once']] as const) {
    const one = rate(`ours, ${guarantee}`)?.['events/s'];
    const two = rate(`ours, two instances, ${guarantee}`)?.['events/s'];
    const ks = rate(`Kafka Streams 3.9.1, ${guarantee}`)?.['events/s'];
    rows.push([`views/s, one instance (KS: one JVM, two stream threads), ${label}`, num(one), num(ks), ratio(one, ks), cmd]);
    rows.push([`views/s, two instances of ours (KS: the same JVM), ${label}`, num(two), num(ks), ratio(two, ks), cmd]);
    const ours = cost('ours, one instance', guarantee);
    const java = cost('Kafka Streams 3.9.1', guarantee);
    rows.push([`views/s per core (views per CPU-second), ${label}`, num(ours?.viewsPerCpuSecond), num(java?.viewsPerCpuSecond), ratio(ours?.viewsPerCpuSecond, java?.viewsPerCpuSecond), cmd]);
    rows.push([`CPU seconds per million views, ${label}`, num(ours?.cpuSecondsPerMillionViews), num(java?.cpuSecondsPerMillionViews),
      ratio(ours?.cpuSecondsPerMillionViews, java?.cpuSecondsPerMillionViews), cmd]);
    const oursRss = rate(`ours, ${guarantee}`)?.['peak RSS MB'];
    const ksRss = rate(`Kafka Streams 3.9.1, ${guarantee}`)?.['peak RSS MB'];
    rows.push([`peak RSS of one instance (MB), ${label}`, num(oursRss), num(ksRss), ratio(oursRss, ksRss), cmd]);
  }
  const ours = cost('ours, one instance', 'at_least_once');
  const java = cost('Kafka Streams 3.9.1', 'at_least_once');
  rows.push(['state on disk per session (bytes; LevelDB / RocksDB folder)', num(ours?.stateBytesPerSession), num(java?.stateBytesPerSession),
    ratio(ours?.stateBytesPerSession, java?.stateBytesPerSession), cmd]);
  rows.push(['changelog per session, as written (key + value bytes), at-least-once 1 s commits', num(ours?.changelogBytesPerSession), num(java?.changelogBytesPerSession),
    ratio(ours?.changelogBytesPerSession, java?.changelogBytesPerSession), cmd]);
  rows.push(["changelog per session on the broker's disk (log segments, before compaction)", num(ours?.brokerChangelogBytesPerSession), num(java?.brokerChangelogBytesPerSession),
    ratio(ours?.brokerChangelogBytesPerSession, java?.brokerChangelogBytesPerSession), cmd]);
  rows.push(['changelog per session once compacted (last value per key)', num(ours?.compactedChangelogBytesPerSession), num(java?.compactedChangelogBytesPerSession),
    ratio(ours?.compactedChangelogBytesPerSession, java?.compactedChangelogBytesPerSession), cmd]);
  const perMillion = (seconds: unknown) => (1e6 * Number(seconds)) / c.oracle.sessions;
  const oursRestore = perMillion(c.restoration.ours.restoreSeconds);
  const ksRestore = perMillion(c.restoration.kafkaStreams.restoreSeconds);
  rows.push([`restore seconds per million sessions (${num(c.oracle.sessions)} restored, scaled)`, num(oursRestore), num(ksRestore), ratio(oursRestore, ksRestore), cmd]);
  return rows;
}

function latencyRows(l: NonNullable<SizingResults['latency']>): Row[] {
  const rows: Row[] = [];
  for (const m of l.maxRates) {
    rows.push([`maximum views/s, one instance, ${m.guarantee} (backlog of ${num(m.events)}, from RUNNING)`, num(m.ours), num(m.kafkaStreams), ratio(m.ours, m.kafkaStreams),
      `\`LATENCY_RATES=80% LATENCY_MAX_EVENTS=${m.events} npm run bench -- latency\``]);
  }
  for (const r of l.runs) {
    const commit = r.commitMs === 'default' ? (r.guarantee === 'exactly_once_v2' ? 'default 100 ms' : 'default 30 s') : `${r.commitMs} ms`;
    const rate = `${num(r.rate)} views/s${r.rateNote === '' ? '' : ` (${r.rateNote})`}`;
    rows.push([`latency p50 / p99 (ms), ${r.guarantee}, commit ${commit}, ${rate}`, `${num(r.ours.p50)} / ${num(r.ours.p99)}`,
      `${num(r.kafkaStreams.p50)} / ${num(r.kafkaStreams.p99)}`, `${ratio(r.ours.p99, r.kafkaStreams.p99)} (p99)`,
      `\`LATENCY_SECONDS=${r.seconds} LATENCY_RATES=2000,10000,80% npm run bench -- latency\``]);
  }
  return rows;
}

export function sizingTable(input: Record<string, unknown>): string[] {
  const results = input as SizingResults;
  const rows: Row[] = [];
  if (results.compare?.costs !== undefined) rows.push(...compareRows(results.compare));
  const open = results.openSessions;
  const oursOpen = open?.find((f) => f.contender === 'ours')?.mbPer10kSessions;
  const ksOpen = open?.find((f) => f.contender === 'Kafka Streams')?.mbPer10kSessions;
  if (open !== undefined) {
    const opened = (open[0]?.steps.at(-1)?.[0] ?? 0) - 1000;
    rows.push([`memory per 10 000 open sessions (MB of RSS above the baseline, ${num(opened)} opened)`, num(oursOpen), num(ksOpen), ratio(oursOpen, ksOpen),
      `\`OPEN_SESSIONS=${opened} npm run bench -- sessions\``]);
  }
  const f = results.failover;
  if (f !== undefined) {
    const cmd = `\`FAILOVER_SESSIONS=${f.sessions} npm run bench -- failover\``;
    rows.push([`failover seconds, no standby (${num(f.sessions)} sessions, 6 s session timeout)`, num(f.without?.failoverSeconds), num(f.kafkaStreams.without?.failoverSeconds),
      ratio(f.without?.failoverSeconds, f.kafkaStreams.without?.failoverSeconds), cmd]);
    rows.push(['failover seconds, one standby replica', num(f.withStandby?.failoverSeconds), num(f.kafkaStreams.withStandby?.failoverSeconds),
      ratio(f.withStandby?.failoverSeconds, f.kafkaStreams.withStandby?.failoverSeconds), cmd]);
  }
  if (results.latency !== undefined) rows.push(...latencyRows(results.latency));
  return [
    '| figure | ours | Kafka Streams 3.9.1 | ours ÷ KS | measured alone by |',
    '| --- | ---: | ---: | ---: | --- |',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}
