/**
 * `npm run bench [suite ...]`: the project's benchmarks on one broker (KAFKA_BROKERS, or the local one).
 * Every figure that depends on the machine is printed as a ratio against a baseline measured in the same run.
 *
 *   catchup      peak RSS catching up on a backlog of N and of 5×N events (CATCHUP_EVENTS, default 100 000)
 *   guarantees   throughput under exactly_once_v2 against at_least_once (BENCH_EVENTS, default 200 000)
 *
 * Figures go to the console and to bench/results/latest.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchBroker, createTopic, fillInputTopic, type BenchBroker } from './lib/bench-env.js';
import { runOurs, type RunFigures } from './lib/contender.js';

const SUITES = ['catchup', 'guarantees'] as const;
type Suite = (typeof SUITES)[number];

const requested = process.argv.slice(2);
for (const s of requested) {
  if (!(SUITES as readonly string[]).includes(s)) {
    console.error(`unknown suite '${s}'; available: ${SUITES.join(', ')}`);
    process.exit(2);
  }
}
const suites: Suite[] = requested.length > 0 ? (requested as Suite[]) : [...SUITES];
const run = Date.now().toString(36);
const results: Record<string, unknown> = { machine: machineLine(), startedAt: new Date().toISOString() };

function machineLine(): string {
  return `${process.platform} ${process.arch}, Node ${process.version}`;
}

async function ours(broker: BenchBroker, input: string, guarantee: 'at_least_once' | 'exactly_once_v2', label: string): Promise<RunFigures> {
  const applicationId = `bench-${label}-${run}`;
  const output = `${applicationId}-out`;
  await createTopic(broker.kafka, output);
  const stateDir = mkdtempSync(join(tmpdir(), 'kstreams-bench-'));
  try {
    const figures = await runOurs(
      { KAFKA_BROKERS: broker.brokers.join(','), APP_ID: applicationId, INPUT_TOPIC: input, OUTPUT_TOPIC: output, STATE_DIR: stateDir, GUARANTEE: guarantee },
      label,
    );
    return figures;
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}

function table(rows: Array<Record<string, string | number>>): void {
  console.table(rows);
}

async function catchup(broker: BenchBroker): Promise<void> {
  const n = Number(process.env.CATCHUP_EVENTS ?? 100_000);
  const small = `bench-catchup-small-${run}`;
  const large = `bench-catchup-large-${run}`;
  console.log(`\n[catchup] filling backlogs of ${n} and ${5 * n} events...`);
  await fillInputTopic(broker.kafka, small, n, 11);
  await fillInputTopic(broker.kafka, large, 5 * n, 12);
  const a = await ours(broker, small, 'at_least_once', 'catchup-small');
  const b = await ours(broker, large, 'at_least_once', 'catchup-large');
  const ratio = b.peakRssMb / a.peakRssMb;
  table([
    { backlog: n, 'peak RSS MB': a.peakRssMb.toFixed(0), 'peak heap MB': Number(a.peakHeapMb).toFixed(0), 'live heap MB': Number(a.liveHeapMb).toFixed(0), 'events/s': (n / a.seconds).toFixed(0) },
    { backlog: 5 * n, 'peak RSS MB': b.peakRssMb.toFixed(0), 'peak heap MB': Number(b.peakHeapMb).toFixed(0), 'live heap MB': Number(b.liveHeapMb).toFixed(0), 'events/s': ((5 * n) / b.seconds).toFixed(0) },
  ]);
  console.log(`[catchup] peak RSS ratio 5N/N = ${ratio.toFixed(2)} (goal ≤ 1.5)`);
  results.catchup = { events: n, small: a, large: b, peakRssRatio: ratio };
}

async function guarantees(broker: BenchBroker): Promise<void> {
  const n = Number(process.env.BENCH_EVENTS ?? 200_000);
  const input = `bench-guarantees-${run}`;
  console.log(`\n[guarantees] filling ${n} events...`);
  await fillInputTopic(broker.kafka, input, n, 21);
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

const broker = await benchBroker();
try {
  for (const suite of suites) {
    if (suite === 'catchup') await catchup(broker);
    if (suite === 'guarantees') await guarantees(broker);
  }
} finally {
  await broker.stop();
}
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/latest.json', `${JSON.stringify(results, null, 2)}\n`);
console.log('\nfigures written to bench/results/latest.json');
