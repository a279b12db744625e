/**
 * The maximum rate a contender sustains, for the latency suite's "80%" rate: a saturating run on a backlog.
 * One input topic holds `events` page views of the benchmark's data set before the contender starts; the clock
 * runs from the moment it reports RUNNING (start-up, JVM or Node, not counted) until its group has consumed
 * and committed everything, at the compare suite's commit intervals (1 s at-least-once, 100 ms exactly-once).
 * What one instance processes flat out is what it can keep up with at most; a steady input at 80% of it
 * leaves the headroom an operator would keep.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTopic, type BenchBroker } from './bench-env.js';
import { drained, liveContenders, running, stop, type Contender, type Guarantee } from './live-contenders.js';

export interface MaxRates {
  readonly guarantee: Guarantee;
  readonly events: number;
  readonly commitMs: number;
  /** Views/s, from RUNNING to everything committed. */
  readonly ours: number;
  readonly kafkaStreams: number;
}

/** A rate of LATENCY_RATES: views/s, or a share of the measured maximum ("80%"). */
export type RateSpec = { readonly viewsPerSecond: number } | { readonly shareOfMax: number };

export function parseRates(text: string): RateSpec[] {
  return text.split(',').map((token) => {
    const t = token.trim();
    const share = /^(\d+(?:\.\d+)?)%$/.exec(t);
    if (share !== null) return { shareOfMax: Number(share[1]) / 100 };
    if (!/^\d+$/.test(t)) throw new Error(`LATENCY_RATES: '${t}' is neither views/s (2000) nor a share of the measured maximum (80%)`);
    return { viewsPerSecond: Number(t) };
  });
}

/**
 * A share of the maximum is taken of the slower contender's maximum under the same guarantee, and both run
 * at that one rate: latency is compared at the same absolute load (ours ÷ Kafka Streams means something only
 * there), and a rate above what one of them can sustain would measure its growing backlog, not its latency.
 */
export function rateFor(spec: RateSpec, max: MaxRates | undefined): { rate: number; note: string } {
  if ('viewsPerSecond' in spec) return { rate: spec.viewsPerSecond, note: '' };
  if (max === undefined) throw new Error('a share of the maximum rate needs the maximum rates measured first');
  const slower = Math.min(max.ours, max.kafkaStreams);
  const who = slower === max.ours ? 'ours' : "Kafka Streams'";
  return { rate: Math.round(spec.shareOfMax * slower), note: `${Math.round(100 * spec.shareOfMax)}% of ${who} max ${Math.round(slower)}` };
}

async function saturate(broker: BenchBroker, contender: Contender, guarantee: Guarantee, commitMs: number, input: string, events: number, run: string): Promise<number> {
  const applicationId = `bench-maxrate-${contender.name === 'ours' ? 'ours' : 'java'}-${guarantee === 'exactly_once_v2' ? 'eos' : 'alos'}-${run}`;
  const output = `${applicationId}-out`;
  await createTopic(broker.brokers, output);
  const stateDir = mkdtempSync(join(tmpdir(), 'kstreams-bench-maxrate-'));
  const child = contender.start({ KAFKA_BROKERS: broker.brokers.join(','), APP_ID: applicationId, INPUT_TOPIC: input, OUTPUT_TOPIC: output,
    STATE_DIR: stateDir, GUARANTEE: guarantee, COMMIT_INTERVAL_MS: String(commitMs) });
  try {
    await running(child, contender.name);
    const began = Date.now();
    if (!(await drained(broker, applicationId, input, 600_000))) throw new Error(`${contender.name} did not consume ${events} views within 10 minutes`);
    return events / ((Date.now() - began) / 1000);
  } finally {
    await stop(child);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** Both contenders' maximum rate under one guarantee, on a backlog `input` of `events` views filled beforehand. */
export async function maxRates(broker: BenchBroker, classpath: string, guarantee: Guarantee, input: string, events: number, run: string): Promise<MaxRates> {
  const commitMs = guarantee === 'exactly_once_v2' ? 100 : 1000;
  const [ours, kafkaStreams] = liveContenders(classpath) as [Contender, Contender];
  return {
    guarantee,
    events,
    commitMs,
    ours: await saturate(broker, ours, guarantee, commitMs, input, events, run),
    kafkaStreams: await saturate(broker, kafkaStreams, guarantee, commitMs, input, events, run),
  };
}
