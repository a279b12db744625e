/**
 * `npm run bench [suite ...]`: the project's benchmarks on one broker (KAFKA_BROKERS, or the local one).
 * Every figure that depends on the machine is printed as a ratio against a baseline measured in the same run.
 *
 *   compare      one data set (BENCH_EVENTS, default 1 000 000; BENCH_FORMAT avro (default) or json) through
 *                the kafkajs pass-through ceiling, our runtime (at-least-once and exactly-once; one instance,
 *                and two instances sharing the group) and Apache Kafka Streams (Java, same topology and
 *                guarantees, two stream threads); events/s, peak RSS, restoration records/s, and every
 *                contender's results checked against an offline oracle; CPU seconds per million views and views/s
 *                per core, state folder and changelog bytes per session (bench/lib/compare-costs.ts). Then ours
 *                against @kafkats/flow
 *                on a smaller set (FLOW_EVENTS, default 20 000; 0 skips it)
 *   catchup      peak RSS catching up on a backlog of N and of 5×N events (CATCHUP_EVENTS, default 300 000) from
 *                the same users (N/20), as after a downtime five times as long; OURS_NODE_FLAGS passes
 *                Node/V8 flags to our processes (every suite), e.g. a heap limit
 *   guarantees   only ours: exactly_once_v2 against at_least_once (BENCH_EVENTS, default 200 000)
 *   replay       a backlog spanning hours of event time (REPLAY_EVENTS, default 300 000, logged by six web
 *                servers so one user's views are on every partition), sessions with a 5-minute grace, processed
 *                by one and by two instances of ours and of Kafka Streams (one stream thread per instance):
 *                records dropped as late by each, and events/s
 *   failover     kill-to-first-output of a moved task, with and without a standby replica, for a store of
 *                FAILOVER_SESSIONS sessions (default 1 000 000), ours and Kafka Streams (one stream thread per
 *                instance, same 6 s session timeout; FAILOVER_KAFKA_STREAMS=0 skips it)
 *   restore      what a restoration costs, ours beside Kafka Streams (BENCH_EVENTS, default 300 000; at-least-once,
 *                one instance, CACHE_MAX_BYTES for both when set): changelog records and tombstones written for
 *                the same sessions, then the time to restore them into an empty state folder; ratios ours ÷ KS
 *   latency      end-to-end latency at steady input rates, ours beside Kafka Streams, both guarantees, default and
 *                explicit commit intervals (see bench/lib/latency-suite.ts for LATENCY_* settings)
 *   sessions     memory per 10 000 open sessions, ours beside Kafka Streams (OPEN_SESSIONS, default 100 000, see
 *                bench/lib/open-sessions.ts)
 *   sizing       every figure of README's Sizing table in one run (compare without @kafkats/flow, latency at
 *                2 000, 10 000 and 80% of the maximum unless LATENCY_RATES says otherwise, failover, sessions),
 *                then the table in Markdown
 *   soak         no broker: a simulated month (SOAK_DAYS, default 30; SOAK_USERS_PER_DAY, default 20 000,
 *                most of them seen on one day only) through the session aggregation on an on-disk state
 *                folder; its size after each day, and last day ÷ day 3 (goal ≤ 1.2); SOAK_LAYOUT=single
 *                (and SOAK_COMPACT_EVERY, SOAK_REOPEN_EVERY, SOAK_WRITE_BUFFER) measures one LevelDB instead
 *
 * Figures go to the console and to bench/results/latest.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchBroker, createTopic, fillInputTopic, PARTITIONS, usersFor, type BenchBroker, type ViewFormat } from './lib/bench-env.js';
import { runChild, runOurs, type RunFigures } from './lib/contender.js';
import { failover, type FailoverFigures } from './lib/failover.js';
import { soak } from './lib/soak.js';
import { restoreSuite } from './lib/restore-suite.js';
import { latencySuite } from './lib/latency-suite.js';
import { compareCosts } from './lib/compare-costs.js';
import { folderBytes } from './lib/proc-stats.js';
import { openSessionsSuite } from './lib/open-sessions.js';
import { sizingTable } from './lib/sizing-table.js';
import { ensureKafkaStreamsPeer, runKafkaStreams } from './lib/kafka-streams-peer.js';
import { oracleSessions } from '../examples/sessionize/generator.js';
import { readTopic } from '../examples/sessionize/kafka-io.js';
import { sessionKeySerde, sessionStatsSerde } from '../examples/sessionize/topology.js';

const SUITES = ['compare', 'catchup', 'guarantees', 'failover', 'replay', 'soak', 'restore', 'latency', 'sessions', 'sizing'] as const;
const DEFAULT_SUITES: Suite[] = ['compare', 'catchup', 'failover'];
type Suite = (typeof SUITES)[number];

const requested = process.argv.slice(2);
for (const s of requested) {
  if (!(SUITES as readonly string[]).includes(s)) {
    console.error(`unknown suite '${s}'; available: ${SUITES.join(', ')}`);
    process.exit(2);
  }
}
const suites: Suite[] = requested.length > 0 ? (requested as Suite[]) : DEFAULT_SUITES;
const run = Date.now().toString(36);
const results: Record<string, unknown> = { machine: machineLine(), startedAt: new Date().toISOString() };

function machineLine(): string {
  return `${process.platform} ${process.arch}, Node ${process.version}`;
}

async function ours(
  broker: BenchBroker,
  input: string,
  guarantee: 'at_least_once' | 'exactly_once_v2',
  label: string,
  extra: Record<string, string> = {},
): Promise<RunFigures & { applicationId: string; output: string }> {
  const applicationId = extra.APP_ID ?? `bench-${label}-${run}`;
  const output = `${applicationId}-out`;
  if (extra.APP_ID === undefined) await createTopic(broker.brokers, output);
  const stateDir = mkdtempSync(join(tmpdir(), 'kstreams-bench-'));
  try {
    const figures = await runOurs(
      { KAFKA_BROKERS: broker.brokers.join(','), APP_ID: applicationId, INPUT_TOPIC: input, OUTPUT_TOPIC: output, STATE_DIR: stateDir, GUARANTEE: guarantee, ...extra },
      label,
    );
    // After the process closed its stores: what the state folder keeps on disk.
    return { ...figures, stateBytes: folderBytes(stateDir), applicationId, output };
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/**
 * `instances` processes of ours sharing one application id (how Node users scale on a machine's cores),
 * until the group's lag is zero: the slowest one's time, and the sum of their peak RSS.
 */
async function oursInstances(
  broker: BenchBroker,
  input: string,
  guarantee: 'at_least_once' | 'exactly_once_v2',
  label: string,
  instances: number,
  extra: Record<string, string> = {},
): Promise<RunFigures & { applicationId: string; output: string; runs: RunFigures[] }> {
  const applicationId = `bench-${label}-${run}`;
  const output = `${applicationId}-out`;
  await createTopic(broker.brokers, output);
  const dirs = Array.from({ length: instances }, () => mkdtempSync(join(tmpdir(), 'kstreams-bench-')));
  try {
    const env = { KAFKA_BROKERS: broker.brokers.join(','), APP_ID: applicationId, INPUT_TOPIC: input, OUTPUT_TOPIC: output, GUARANTEE: guarantee, ...extra };
    const runs = await Promise.all(dirs.map((dir, i) => runOurs({ ...env, STATE_DIR: dir }, `${label}-${i}`)));
    const sum = (field: string) => runs.reduce((total, r) => total + Number(r[field]), 0);
    return { seconds: Math.max(...runs.map((r) => r.seconds)), peakRssMb: sum('peakRssMb'), runningCpuSeconds: sum('runningCpuSeconds'),
      runningSeconds: Math.max(...runs.map((r) => Number(r.runningSeconds))), stateBytes: dirs.reduce((total, dir) => total + folderBytes(dir), 0), applicationId, output, runs };
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

/** @kafkats/flow, the other TypeScript stream library, on the same topology (see bench/lib/flow-process.ts). */
async function flowPeer(broker: BenchBroker, input: string, guarantee: 'at_least_once' | 'exactly_once_v2', label: string, format: ViewFormat) {
  const applicationId = `bench-${label}-${run}`;
  const output = `${applicationId}-out`;
  await createTopic(broker.brokers, output);
  const figures = await runChild(process.execPath, ['--import', 'tsx', 'bench/lib/flow-process.ts'],
    { KAFKA_BROKERS: broker.brokers.join(','), APP_ID: applicationId, INPUT_TOPIC: input, OUTPUT_TOPIC: output, GUARANTEE: guarantee, FORMAT: format }, label);
  return { ...figures, applicationId, output };
}

async function kafkaStreams(broker: BenchBroker, classpath: string, input: string, guarantee: string, label: string, appId?: string, format = 'avro',
  extra: Record<string, string> = {}) {
  const applicationId = appId ?? `bench-${label}-${run}`;
  const output = `${applicationId}-out`;
  if (appId === undefined) await createTopic(broker.brokers, output);
  const stateDir = mkdtempSync(join(tmpdir(), 'kstreams-bench-java-'));
  const admin = broker.kafka.admin();
  await admin.connect();
  try {
    const env = {
      KAFKA_BROKERS: broker.brokers.join(','),
      APP_ID: applicationId,
      INPUT_TOPIC: input,
      OUTPUT_TOPIC: output,
      STATE_DIR: stateDir,
      GUARANTEE: guarantee,
      COMMIT_INTERVAL_MS: guarantee === 'exactly_once_v2' ? '100' : '1000',
      FORMAT: format,
      ...extra,
    };
    const figures = await runKafkaStreams(classpath, env, admin, appId !== undefined);
    return { ...figures, stateBytes: folderBytes(stateDir), applicationId, output };
  } finally {
    await admin.disconnect();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

async function ceiling(broker: BenchBroker, input: string): Promise<RunFigures> {
  const applicationId = `bench-ceiling-${run}`;
  await createTopic(broker.brokers, `${applicationId}-out`);
  return runChild(process.execPath, ['--import', 'tsx', 'bench/lib/ceiling-process.ts'],
    { KAFKA_BROKERS: broker.brokers.join(','), APP_ID: applicationId, INPUT_TOPIC: input, OUTPUT_TOPIC: `${applicationId}-out` }, 'ceiling');
}

/** Sessions in an output topic (last value per windowed key) with a checksum over their aggregates. */
/** Count and bytes of one of our output values (Avro SessionStats). */
function decodeOurs(v: Buffer): { count: number; bytes: number } {
  const s = sessionStatsSerde.deserialize(v);
  return { count: Number(s.count), bytes: Number(s.bytes) };
}

/** Count and bytes of the Java and @kafkats/flow peers' output values (text `count|bytes|…`). */
function decodeText(v: Buffer): { count: number; bytes: number } {
  const [count, bytes] = v.toString().split('|');
  return { count: Number(count), bytes: Number(bytes) };
}

async function outputSummary(broker: BenchBroker, topic: string, decode: (value: Buffer) => { count: number; bytes: number }) {
  const latest = new Map<string, { count: number; bytes: number } | null>();
  for (const [k, v] of await readTopic(broker.brokers, topic, PARTITIONS, true)) {
    const key = sessionKeySerde.deserialize(k);
    latest.set(`${key.key}@${key.window.start}-${key.window.end}`, v === null ? null : decode(v));
  }
  return summarize(latest);
}

/** Count of sessions and an order-independent checksum over their ids, counts and bytes. */
function summarize(latest: ReadonlyMap<string, { count: number; bytes: number } | null>): { sessions: number; checksum: string } {
  let sessions = 0;
  let checksum = 0n;
  for (const [id, stats] of latest) {
    if (stats === null) continue;
    sessions++;
    let h = 0n;
    for (const c of id) h = (h * 31n + BigInt(c.charCodeAt(0))) & 0xffffffffffffn;
    checksum = (checksum + h * BigInt(stats.count) + BigInt(stats.bytes)) & 0xffffffffffffn;
  }
  return { sessions, checksum: checksum.toString(16) };
}

async function compare(broker: BenchBroker, withFlow = true): Promise<void> {
  const n = Number(process.env.BENCH_EVENTS ?? 1_000_000);
  const format = (process.env.BENCH_FORMAT ?? 'avro') as ViewFormat;
  if (format !== 'avro' && format !== 'json') throw new Error(`BENCH_FORMAT must be avro or json, not ${String(format)}`);
  const classpath = ensureKafkaStreamsPeer((line) => console.log(`  ${line}`));
  const input = `bench-compare-${run}`;
  console.log(`\n[compare] filling ${n} events (6 partitions, ${format} values)...`);
  const generated = await fillInputTopic(broker, input, n, { seed: 31, format });
  const oracle = summarize(new Map([...oracleSessions(generated)].map(([id, s]) => [id, { count: s.count, bytes: s.bytes }])));
  generated.length = 0;
  console.log('[compare] ceiling (kafkajs pass-through)...');
  const top = await ceiling(broker, input);
  console.log('[compare] ours, at_least_once...');
  const alos = await ours(broker, input, 'at_least_once', 'ours-alos', { FORMAT: format });
  console.log('[compare] ours, exactly_once_v2...');
  const eos = await ours(broker, input, 'exactly_once_v2', 'ours-eos', { FORMAT: format });
  console.log('[compare] ours, two instances (two processes, one group), at_least_once...');
  const alos2 = await oursInstances(broker, input, 'at_least_once', 'ours-alos-2', 2, { FORMAT: format });
  console.log('[compare] ours, two instances, exactly_once_v2...');
  const eos2 = await oursInstances(broker, input, 'exactly_once_v2', 'ours-eos-2', 2, { FORMAT: format });
  console.log('[compare] Kafka Streams (Java), at_least_once...');
  const javaAlos = await kafkaStreams(broker, classpath, input, 'at_least_once', 'java-alos', undefined, format);
  console.log('[compare] Kafka Streams (Java), exactly_once_v2...');
  const javaEos = await kafkaStreams(broker, classpath, input, 'exactly_once_v2', 'java-eos', undefined, format);
  console.log('[compare] restoration from the changelog into an empty state folder...');
  const oursRestore = await ours(broker, input, 'at_least_once', 'ours-alos', { APP_ID: alos.applicationId, UNTIL: 'running', FORMAT: format });
  const javaRestore = await kafkaStreams(broker, classpath, input, 'at_least_once', 'java-alos', javaAlos.applicationId, format);

  const oursResult = await outputSummary(broker, alos.output, decodeOurs);
  const oursEosResult = await outputSummary(broker, eos.output, decodeOurs);
  const oursAlos2Result = await outputSummary(broker, alos2.output, decodeOurs);
  const oursEos2Result = await outputSummary(broker, eos2.output, decodeOurs);
  const javaResult = await outputSummary(broker, javaAlos.output, decodeText);
  const javaEosResult = await outputSummary(broker, javaEos.output, decodeText);

  const rate = (f: RunFigures) => n / f.seconds;
  const rows = [
    { contender: 'oracle (computed offline)', 'events/s': Number.NaN, 'peak RSS MB': Number.NaN, ...oracle },
    { contender: 'ceiling: kafkajs pass-through', 'events/s': rate(top), 'peak RSS MB': top.peakRssMb, sessions: '-', checksum: '-' },
    { contender: 'ours, at_least_once', 'events/s': rate(alos), 'peak RSS MB': alos.peakRssMb, ...oursResult },
    { contender: 'ours, exactly_once_v2', 'events/s': rate(eos), 'peak RSS MB': eos.peakRssMb, ...oursEosResult },
    { contender: 'ours, two instances, at_least_once', 'events/s': rate(alos2), 'peak RSS MB': alos2.peakRssMb, ...oursAlos2Result },
    { contender: 'ours, two instances, exactly_once_v2', 'events/s': rate(eos2), 'peak RSS MB': eos2.peakRssMb, ...oursEos2Result },
    { contender: 'Kafka Streams 3.9.1, at_least_once', 'events/s': rate(javaAlos), 'peak RSS MB': javaAlos.peakRssMb, ...javaResult },
    { contender: 'Kafka Streams 3.9.1, exactly_once_v2', 'events/s': rate(javaEos), 'peak RSS MB': javaEos.peakRssMb, ...javaEosResult },
  ];
  table(rows.map((r) => ({ ...r, 'events/s': Number.isNaN(r['events/s']) ? '-' : Math.round(r['events/s']), 'peak RSS MB': Number.isNaN(r['peak RSS MB']) ? '-' : Math.round(r['peak RSS MB']) })));
  const restoreRate = (restored: number, seconds: number) => (seconds > 0 ? restored / seconds : Number.NaN);
  const oursRestoreRate = restoreRate(Number(oursRestore.restored), Number(oursRestore.restoreSeconds));
  const javaRestoreRate = restoreRate(javaRestore.restored, javaRestore.restoreSeconds);
  table([
    { restoration: 'ours', records: Number(oursRestore.restored), seconds: Number(oursRestore.restoreSeconds).toFixed(1), 'records/s': Math.round(oursRestoreRate) },
    { restoration: 'Kafka Streams', records: javaRestore.restored, seconds: javaRestore.restoreSeconds.toFixed(1), 'records/s': Math.round(javaRestoreRate) },
  ]);
  const same = (a: { sessions: number | string; checksum: string }) => a.sessions === oracle.sessions && a.checksum === oracle.checksum;
  const agreement = {
    ours: same(oursResult),
    oursExactlyOnce: same(oursEosResult),
    oursTwoInstances: same(oursAlos2Result),
    oursTwoInstancesExactlyOnce: same(oursEos2Result),
    kafkaStreams: same(javaResult), kafkaStreamsExactlyOnce: same(javaEosResult) };
  const agree = agreement.ours && agreement.oursExactlyOnce && agreement.oursTwoInstances && agreement.oursTwoInstancesExactlyOnce;
  const ratios = {
    oursAlosOverCeiling: rate(alos) / rate(top),
    oursAlosOverKafkaStreams: rate(alos) / rate(javaAlos),
    oursEosOverKafkaStreams: rate(eos) / rate(javaEos),
    oursTwoInstancesAlosOverKafkaStreams: rate(alos2) / rate(javaAlos),
    oursTwoInstancesEosOverKafkaStreams: rate(eos2) / rate(javaEos),
    oursEosOverOursAlos: rate(eos) / rate(alos),
    restoreOursOverKafkaStreams: oursRestoreRate / javaRestoreRate,
  };
  console.log(`[compare] ours/ceiling ${ratios.oursAlosOverCeiling.toFixed(2)}, ours/Kafka Streams ${ratios.oursAlosOverKafkaStreams.toFixed(2)} ` +
    `(exactly-once ${ratios.oursEosOverKafkaStreams.toFixed(2)}), ours exactly-once/at-least-once ${ratios.oursEosOverOursAlos.toFixed(2)}, ` +
    `restoration ours/Kafka Streams ${ratios.restoreOursOverKafkaStreams.toFixed(2)}`);
  console.log(`[compare] on the machine's cores (ours two instances ÷ Kafka Streams two stream threads): ` +
    `${ratios.oursTwoInstancesAlosOverKafkaStreams.toFixed(2)} at-least-once, ${ratios.oursTwoInstancesEosOverKafkaStreams.toFixed(2)} exactly-once`);
  console.log(`[compare] Kafka Streams' dropped-records-total: ${javaAlos.dropped} (at-least-once), ${javaEos.dropped} (exactly-once); the malformed input records count here`);
  console.log(`[compare] against the oracle (${oracle.sessions} sessions, ${oracle.checksum}): ` +
    Object.entries(agreement).map(([k, v]) => `${k} ${v ? 'agrees' : 'DIFFERS'}`).join(', '));
  const costs = await compareCosts(broker, n, oracle.sessions, [
    { contender: 'ours, one instance', guarantee: 'at_least_once', kafkaStreams: false, single: true, figures: alos },
    { contender: 'ours, one instance', guarantee: 'exactly_once_v2', kafkaStreams: false, single: true, figures: eos },
    { contender: 'ours, two instances', guarantee: 'at_least_once', kafkaStreams: false, single: false, figures: alos2 },
    { contender: 'ours, two instances', guarantee: 'exactly_once_v2', kafkaStreams: false, single: false, figures: eos2 },
    { contender: 'Kafka Streams 3.9.1', guarantee: 'at_least_once', kafkaStreams: true, single: true, figures: javaAlos },
    { contender: 'Kafka Streams 3.9.1', guarantee: 'exactly_once_v2', kafkaStreams: true, single: true, figures: javaEos },
  ], table);
  results.compare = { events: n, format, oracle, rows, restoration: { ours: oursRestore, kafkaStreams: javaRestore }, ratios, agreement, costs };
  if (!agree) process.exitCode = 1;
  if (process.env.FLOW_EVENTS !== '0' && withFlow) await compareWithFlow(broker, format);
}

/**
 * Ours against @kafkats/flow on a smaller data set of its own (FLOW_EVENTS, default 20 000): its in-memory
 * session store scans every session it holds (those of the last 24 gaps) for each record, so a million
 * events would take hours. Both run on the same set, checked by the same oracle.
 */
async function compareWithFlow(broker: BenchBroker, format: ViewFormat): Promise<void> {
  const n = Number(process.env.FLOW_EVENTS ?? 20_000);
  const input = `bench-compare-flow-${run}`;
  console.log(`\n[compare] @kafkats/flow: filling ${n} events of their own...`);
  const generated = await fillInputTopic(broker, input, n, { seed: 33, format });
  const oracle = summarize(new Map([...oracleSessions(generated)].map(([id, s]) => [id, { count: s.count, bytes: s.bytes }])));
  generated.length = 0;
  const rows: Array<Record<string, string | number>> = [];
  const rates: Record<string, number> = {};
  const agreement: Record<string, boolean> = {};
  for (const guarantee of ['at_least_once', 'exactly_once_v2'] as const) {
    console.log(`[compare] ours, ${guarantee}, on the smaller set...`);
    const o = await ours(broker, input, guarantee, `flowset-ours-${guarantee === 'at_least_once' ? 'alos' : 'eos'}`, { FORMAT: format });
    console.log(`[compare] @kafkats/flow, ${guarantee}...`);
    const f = await flowPeer(broker, input, guarantee, `flowset-flow-${guarantee === 'at_least_once' ? 'alos' : 'eos'}`, format);
    for (const [name, figures, decode] of [['ours', o, decodeOurs], ['@kafkats/flow 0.12.0', f, decodeText]] as const) {
      const summary = await outputSummary(broker, figures.output, decode);
      const agrees = summary.sessions === oracle.sessions && summary.checksum === oracle.checksum;
      rates[`${name} ${guarantee}`] = n / figures.seconds;
      agreement[`${name} ${guarantee}`] = agrees;
      rows.push({ contender: `${name}, ${guarantee}`, 'events/s': Math.round(n / figures.seconds), 'peak RSS MB': Math.round(figures.peakRssMb), ...summary, oracle: agrees ? 'agrees' : 'DIFFERS' });
    }
  }
  table(rows);
  const ratios = {
    oursOverFlowAlos: rates['ours at_least_once']! / rates['@kafkats/flow 0.12.0 at_least_once']!,
    oursOverFlowEos: rates['ours exactly_once_v2']! / rates['@kafkats/flow 0.12.0 exactly_once_v2']!,
  };
  console.log(`[compare] ${n} events, oracle ${oracle.sessions} sessions: ours/@kafkats/flow ${ratios.oursOverFlowAlos.toFixed(2)} at-least-once, ` +
    `${ratios.oursOverFlowEos.toFixed(2)} exactly-once`);
  results.compareFlow = { events: n, format, oracle, rows, ratios, agreement };
}

function table(rows: Array<Record<string, string | number>>): void {
  console.table(rows);
}

async function catchup(broker: BenchBroker): Promise<void> {
  // N long enough that the small run outlasts V8's first heap growth (about 8 s of processing here): with
  // 100 000 events it ended after 4 s, and the ratio measured how far V8 had grown the heap by then.
  const n = Number(process.env.CATCHUP_EVENTS ?? 300_000);
  // One population of users for both: a backlog after a downtime five times as long, not five times the
  // traffic (more users at once means more live sessions, which is state, not backlog).
  const users = usersFor(n);
  const small = `bench-catchup-small-${run}`;
  const large = `bench-catchup-large-${run}`;
  console.log(`\n[catchup] filling backlogs of ${n} and ${5 * n} events from ${users} users...`);
  await fillInputTopic(broker, small, n, { seed: 11, users });
  await fillInputTopic(broker, large, 5 * n, { seed: 12, users });
  // Node's defaults (or OURS_NODE_FLAGS), then the heap limit the README's "Memory" suggests where memory is
  // tight (V8 lets the old generation grow to about 4 times the live heap under its default 4 GB limit).
  const defaults = process.env.OURS_NODE_FLAGS ?? '';
  const variants = [
    { name: 'defaults', flags: defaults, label: defaults === '' ? "Node's defaults" : defaults },
    { name: 'heap1g', flags: '--max-old-space-size=1024', label: '--max-old-space-size=1024' },
  ];
  const row = (variant: string, backlog: number, f: RunFigures) => ({
    node: variant,
    backlog,
    'peak RSS MB': f.peakRssMb.toFixed(0),
    'peak heap MB': Number(f.peakHeapMb).toFixed(0),
    'peak off-heap MB': Number(f.peakOffHeapMb).toFixed(0),
    'peak arrayBuffers MB': Number(f.peakArrayBuffersMb).toFixed(0),
    'live heap MB': Number(f.liveHeapMb).toFixed(0),
    'CPU ms / 1000 events': ((1e6 * Number(f.cpuSeconds)) / backlog).toFixed(0),
    'events/s': (backlog / f.seconds).toFixed(0),
  });
  const rows: Array<Record<string, string | number>> = [];
  const figures: Record<string, { small: RunFigures; large: RunFigures; peakRssRatio: number }> = {};
  for (const { name, flags, label } of variants) {
    const extra = { OURS_NODE_FLAGS: flags };
    const a = await ours(broker, small, 'at_least_once', `catchup-small-${name}`, extra);
    const b = await ours(broker, large, 'at_least_once', `catchup-large-${name}`, extra);
    rows.push(row(label, n, a), row(label, 5 * n, b));
    figures[name] = { small: a, large: b, peakRssRatio: b.peakRssMb / a.peakRssMb };
  }
  table(rows);
  for (const { name, label } of variants) {
    console.log(`[catchup] peak RSS ratio 5N/N = ${figures[name]!.peakRssRatio.toFixed(2)} (goal ≤ 1.2) with ${label}`);
  }
  results.catchup = { events: n, users, ...figures };
}

async function guarantees(broker: BenchBroker): Promise<void> {
  const n = Number(process.env.BENCH_EVENTS ?? 200_000);
  const input = `bench-guarantees-${run}`;
  console.log(`\n[guarantees] filling ${n} events...`);
  await fillInputTopic(broker, input, n, { seed: 21 });
  const alos = await ours(broker, input, 'at_least_once', 'alos');
  const eos = await ours(broker, input, 'exactly_once_v2', 'eos');
  const ratio = alos.seconds / eos.seconds;
  table([
    { guarantee: 'at_least_once (commit 1 s)', 'events/s': (n / alos.seconds).toFixed(0), 'peak RSS MB': alos.peakRssMb.toFixed(0) },
    { guarantee: 'exactly_once_v2 (commit 100 ms)', 'events/s': (n / eos.seconds).toFixed(0), 'peak RSS MB': eos.peakRssMb.toFixed(0) },
  ]);
  console.log(`[guarantees] throughput exactly_once_v2 / at_least_once = ${ratio.toFixed(2)}`);
  results.guarantees = { events: n, atLeastOnce: alos, exactlyOnce: eos, throughputRatio: ratio };
}

/** Instances of one application side by side until the group's lag is zero; their figures, summed. */
async function replay(broker: BenchBroker): Promise<void> {
  const n = Number(process.env.REPLAY_EVENTS ?? 300_000);
  const graceMs = 5 * 60_000;
  const classpath = ensureKafkaStreamsPeer((line) => console.log(`  ${line}`));
  const input = `bench-replay-${run}`;
  console.log(`\n[replay] filling ${n} events logged by ${PARTITIONS} servers (no malformed ones)...`);
  const generated = await fillInputTopic(broker, input, n, { seed: 41, byServer: true });
  const spanHours = (generated[generated.length - 1]!.view.timestamp - generated[0]!.view.timestamp) / 3600_000;
  generated.length = 0;

  const oursRun = async (instances: number) => {
    const { seconds, runs } = await oursInstances(broker, input, 'at_least_once', `replay-ours-${instances}`, instances, { GRACE_MS: String(graceMs) });
    const dropped = runs.reduce((sum, r) => sum + Number((r.metrics as { droppedLateTotal: number }).droppedLateTotal), 0);
    return { seconds, dropped };
  };
  const javaRun = async (instances: number) => {
    const applicationId = `bench-replay-java-${instances}-${run}`;
    const output = `${applicationId}-out`;
    await createTopic(broker.brokers, output);
    const dirs = Array.from({ length: instances }, () => mkdtempSync(join(tmpdir(), 'kstreams-bench-java-')));
    const admin = broker.kafka.admin();
    await admin.connect();
    try {
      const env = {
        KAFKA_BROKERS: broker.brokers.join(','), APP_ID: applicationId, INPUT_TOPIC: input, OUTPUT_TOPIC: output,
        GUARANTEE: 'at_least_once', COMMIT_INTERVAL_MS: '1000', FORMAT: 'avro', GRACE_MS: String(graceMs), THREADS: '1',
      };
      const runs = await Promise.all(dirs.map((dir) => runKafkaStreams(classpath, { ...env, STATE_DIR: dir }, admin)));
      // No malformed input here: Kafka Streams' dropped-records-total counts late records only.
      return { seconds: Math.max(...runs.map((r) => r.seconds)), dropped: runs.reduce((sum, r) => sum + r.dropped, 0) };
    } finally {
      await admin.disconnect();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  };
  console.log('[replay] ours, one instance...');
  const ours1 = await oursRun(1);
  console.log('[replay] ours, two instances...');
  const ours2 = await oursRun(2);
  console.log('[replay] Kafka Streams, one instance (one stream thread)...');
  const java1 = await javaRun(1);
  console.log('[replay] Kafka Streams, two instances...');
  const java2 = await javaRun(2);
  const rate = (r: { seconds: number }) => n / r.seconds;
  const rows = [
    { contender: 'ours, 1 instance', 'dropped as late': ours1.dropped, 'late %': ((100 * ours1.dropped) / n).toFixed(2), 'events/s': Math.round(rate(ours1)) },
    { contender: 'ours, 2 instances', 'dropped as late': ours2.dropped, 'late %': ((100 * ours2.dropped) / n).toFixed(2), 'events/s': Math.round(rate(ours2)) },
    { contender: 'Kafka Streams 3.9.1, 1 instance', 'dropped as late': java1.dropped, 'late %': ((100 * java1.dropped) / n).toFixed(2), 'events/s': Math.round(rate(java1)) },
    { contender: 'Kafka Streams 3.9.1, 2 instances', 'dropped as late': java2.dropped, 'late %': ((100 * java2.dropped) / n).toFixed(2), 'events/s': Math.round(rate(java2)) },
  ];
  table(rows);
  const ratios = { oneInstanceOursOverKafkaStreams: rate(ours1) / rate(java1), twoInstancesOursOverKafkaStreams: rate(ours2) / rate(java2) };
  const goals = { oursDropsNoneWithOne: ours1.dropped === 0, oursDropsFewerWithTwo: ours2.dropped < java2.dropped || (ours2.dropped === 0 && java2.dropped === 0) };
  console.log(`[replay] ${n} events over ${spanHours.toFixed(1)} h of event time, grace 5 min; events/s ours/Kafka Streams: ` +
    `${ratios.oneInstanceOursOverKafkaStreams.toFixed(2)} (one instance), ${ratios.twoInstancesOursOverKafkaStreams.toFixed(2)} (two)`);
  console.log(`[replay] goals: ours drops none with one instance: ${goals.oursDropsNoneWithOne ? 'yes' : 'NO'}; ` +
    `fewer than Kafka Streams with two: ${goals.oursDropsFewerWithTwo ? 'yes' : 'NO'} (${ours2.dropped} against ${java2.dropped})`);
  results.replay = { events: n, spanHours, graceMs, rows, ratios, goals };
  if (!goals.oursDropsNoneWithOne) process.exitCode = 1;
}

async function failoverSuite(broker: BenchBroker): Promise<void> {
  const sessions = Number(process.env.FAILOVER_SESSIONS ?? 1_000_000);
  console.log(`\n[failover] two instances, a store of about ${sessions} sessions, one instance SIGKILLed...`);
  // One failed run (a timeout) is reported and the others still run.
  const attempt = async (standbys: number, label: string, classpath?: string): Promise<FailoverFigures | undefined> => {
    try {
      return await failover(broker.kafka, broker.brokers, sessions, standbys, label, classpath);
    } catch (err) {
      console.log(`[failover] ${label} failed: ${String(err)}`);
      process.exitCode = 1;
      return undefined;
    }
  };
  const without = await attempt(0, 'cold');
  const withStandby = await attempt(1, 'warm');
  // Kafka Streams beside ours, same sessions and session timeout (FAILOVER_KAFKA_STREAMS=0 skips it).
  const classpath = process.env.FAILOVER_KAFKA_STREAMS === '0' ? undefined : ensureKafkaStreamsPeer((line) => console.log(`[failover] ${line}`));
  const javaWithout = classpath === undefined ? undefined : await attempt(0, 'java-cold', classpath);
  const javaWith = classpath === undefined ? undefined : await attempt(1, 'java-warm', classpath);
  const rows: Array<[string, FailoverFigures | undefined]> = [['ours', without], ['ours', withStandby], ['Kafka Streams', javaWithout], ['Kafka Streams', javaWith]];
  table(rows.filter((r): r is [string, FailoverFigures] => r[1] !== undefined).map(([contender, f]) => ({
    contender,
    standby: f.standbys === 0 ? 'none' : 'one replica',
    'kill to first output (s)': f.failoverSeconds.toFixed(1),
    'records restored': f.restoredRecords,
    'changelog records': f.changelogRecords,
  })));
  if (without !== undefined && withStandby !== undefined) {
    console.log(`[failover] with a standby / without: ${(withStandby.failoverSeconds / without.failoverSeconds).toFixed(2)} of the time ` +
      '(both include the 6 s session timeout of the workers)');
  }
  const ratio = (a: FailoverFigures | undefined, b: FailoverFigures | undefined) => (a === undefined || b === undefined ? '-' : (a.failoverSeconds / b.failoverSeconds).toFixed(2));
  if (classpath !== undefined) {
    console.log(`[failover] ours ÷ Kafka Streams: ${ratio(without, javaWithout)} without a standby, ${ratio(withStandby, javaWith)} with one (goal ≤ 1.0)`);
  }
  results.failover = { sessions, without, withStandby, kafkaStreams: { without: javaWithout, withStandby: javaWith } };
}

async function soakSuite(): Promise<void> {
  console.log('\n[soak] a simulated month of page views through the session aggregation, state on disk...');
  const figures = await soak();
  console.log(`[soak] ${figures.layout}: ${figures.events} views over ${figures.days} days in ${figures.seconds.toFixed(0)} s ` +
    `(${figures.cpuSeconds.toFixed(1)} s CPU); last day ÷ day 3: ` +
    `state folder ${figures.lastOverDay3.toFixed(2)}, its data ${figures.dataLastOverDay3.toFixed(2)} (goal ≤ 1.2)`);
  const r = figures.restoration;
  console.log(`[soak] restoring the last changelog (${r.records} records, compacted, retention + 1 day): ${r.seconds.toFixed(2)} s, ` +
    `${Math.round(r.records / r.seconds)} records/s, ${r.entriesWritten} LevelDB entries written`);
  results.soak = figures;
  if (!(figures.lastOverDay3 <= 1.2)) process.exitCode = 1;
}

/**
 * Every figure of README's Sizing table in one run: compare (without @kafkats/flow), latency (default rates
 * 2 000, 10 000 and 80% of the measured maximum), failover and open sessions, then the table itself in
 * Markdown, each figure's ratio against Kafka Streams measured in this run.
 */
async function sizing(broker: BenchBroker): Promise<void> {
  await compare(broker, false);
  console.log('\n[latency] end-to-end latency at steady rates...');
  results.latency = await latencySuite(broker, run, table, '2000,10000,80%');
  await failoverSuite(broker);
  results.openSessions = await openSessionsSuite(broker, run, table);
  console.log('\n[sizing] the Sizing table (Markdown, for README):\n');
  for (const line of sizingTable(results)) console.log(line);
}

// Only the suites that need one start (or reach) a broker.
const broker = suites.some((s) => s !== 'soak') ? await benchBroker() : undefined;
try {
  for (const suite of suites) {
    if (suite === 'soak') await soakSuite();
    if (broker === undefined) continue;
    if (suite === 'compare') await compare(broker);
    if (suite === 'failover') await failoverSuite(broker);
    if (suite === 'catchup') await catchup(broker);
    if (suite === 'guarantees') await guarantees(broker);
    if (suite === 'replay') await replay(broker);
    if (suite === 'latency') results.latency = await latencySuite(broker, run, table);
    if (suite === 'sessions') results.openSessions = await openSessionsSuite(broker, run, table);
    if (suite === 'sizing') await sizing(broker);
    if (suite === 'restore') results.restore = await restoreSuite(broker, { run, ours, kafkaStreams, table });
  }
} finally {
  await broker?.stop();
}
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/latest.json', `${JSON.stringify(results, null, 2)}\n`);
console.log('\nfigures written to bench/results/latest.json');
