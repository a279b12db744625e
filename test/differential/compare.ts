/**
 * Runs a seed's cases on both sides and compares them exactly: the same records, in the same order, with the
 * same keys, values and timestamps. Both sides failing counts as agreement; a case our API cannot express
 * (`unsupported`) does not.
 */
import {
  CACHING_MODES,
  describeCase,
  formatOutcome,
  formatRecord,
  type CaseOutcome,
  type DifferentialCase,
} from './cases.js';
import { generateCase, generateCases } from './generator.js';
import { ensureKafkaStreamsRunner, runKafkaStreams } from './kafka-streams.js';
import { KNOWN_DIFFERENCES, type KnownDifference } from './known-differences.js';
import { runOurs } from './ours.js';

/** The seed and size of `npm test`'s run; DIFFERENTIAL_SEED / DIFFERENTIAL_CASES override them. */
export const DEFAULT_SEED = 20_250_914;
export const DEFAULT_CASES = 2_800;

export type Status = 'agree' | 'differ' | 'unsupported';

export interface CaseResult {
  readonly testCase: DifferentialCase;
  readonly category: string;
  readonly theirs: CaseOutcome;
  readonly ours: CaseOutcome;
  readonly status: Status;
}

/** A case's category: its family and its cache mode, e.g. `session-count-inorder/cache-on`. */
export function categoryOf(c: DifferentialCase): string {
  return `${c.family}/cache-${c.caching}`;
}

export function statusOf(theirs: CaseOutcome, ours: CaseOutcome): Status {
  if (ours.kind === 'unsupported') return 'unsupported';
  if (theirs.kind === 'error' || ours.kind === 'error') return theirs.kind === ours.kind ? 'agree' : 'differ';
  if (theirs.kind !== 'records' || ours.kind !== 'records') return 'differ';
  // The topologies must be described alike too (names of processors, stores and internal topics).
  if (theirs.description !== ours.description) return 'differ';
  const a = theirs.records;
  const b = ours.records;
  if (a.length !== b.length) return 'differ';
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.key !== b[i]!.key || a[i]!.value !== b[i]!.value || a[i]!.ts !== b[i]!.ts) return 'differ';
  }
  return 'agree';
}

/** `*` matches any run of characters; everything else matches itself. */
export function globMatches(pattern: string, name: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('.*')}$`);
  return regex.test(name);
}

export function knownDifferencesOf(category: string): KnownDifference[] {
  return KNOWN_DIFFERENCES.filter((k) => k.categories.some((p) => globMatches(p, category)));
}

/** Runs the given cases through both drivers (one JVM for all of Kafka Streams' side). */
export async function runCases(cases: readonly DifferentialCase[], log: (line: string) => void = () => {}): Promise<CaseResult[]> {
  const classpath = ensureKafkaStreamsRunner(log);
  const theirsPromise = runKafkaStreams(cases, classpath);
  const ours: CaseOutcome[] = [];
  for (const [i, c] of cases.entries()) {
    ours.push(runOurs(c));
    // Let the JVM's output drain meanwhile, so that it never blocks on a full pipe.
    if (i % 25 === 24) await new Promise((r) => setImmediate(r));
  }
  const theirs = await theirsPromise;
  return cases.map((c, i) => {
    const t = theirs.get(c.id)!;
    const o = ours[i]!;
    return { testCase: c, category: categoryOf(c), theirs: t, ours: o, status: statusOf(t, o) };
  });
}

export async function runSeed(seed: number, count: number, log?: (line: string) => void): Promise<CaseResult[]> {
  return runCases(generateCases(seed, count), log);
}

export async function runOne(seed: number, index: number, log?: (line: string) => void): Promise<CaseResult> {
  return (await runCases([generateCase(seed, index)], log))[0]!;
}

export function replayCommand(c: DifferentialCase): string {
  if (c.id.startsWith('witness:')) return `npx tsx test/differential/replay.ts --witness ${c.id.slice('witness:'.length)}`;
  return `npx tsx test/differential/replay.ts --seed ${c.seed} --case ${c.index}`;
}

/** A case, its input and both outputs, record by record side by side. */
export function sideBySide(result: CaseResult): string {
  const c = result.testCase;
  const lines = [
    `case ${c.id} (${result.category}): ${result.status}`,
    `  topology: ${describeCase(c)}`,
    `  input:    ${c.records.map(formatRecord).join(', ')}`,
  ];
  if (result.theirs.kind !== 'records' || result.ours.kind !== 'records') {
    lines.push(`  Kafka Streams: ${formatOutcome(result.theirs)}`, `  ours:          ${formatOutcome(result.ours)}`);
  } else {
    const a = result.theirs.records.map(formatRecord);
    const b = result.ours.records.map(formatRecord);
    const width = Math.max(13, ...a.map((s) => s.length));
    lines.push(`  ${'Kafka Streams'.padEnd(width)} | ours`);
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const left = a[i] ?? '';
      const right = b[i] ?? '';
      lines.push(`  ${left.padEnd(width)} | ${right}${left === right ? '' : '   <--'}`);
    }
  }
  if (result.theirs.kind === 'records' && result.ours.kind === 'records' && result.theirs.description !== result.ours.description) {
    lines.push('  topology.describe() differs:', ...describeDiff(result.theirs.description ?? '', result.ours.description ?? ''));
  }
  lines.push(`  replay: ${replayCommand(c)}`);
  return lines.join('\n');
}

/** Two descriptions line by line, side by side, the differing lines marked. */
function describeDiff(theirs: string, ours: string): string[] {
  const a = theirs.split('\n');
  const b = ours.split('\n');
  const width = Math.max(13, ...a.map((s) => s.length));
  const lines = [`  ${'Kafka Streams'.padEnd(width)} | ours`];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const left = a[i] ?? '';
    const right = b[i] ?? '';
    lines.push(`  ${left.padEnd(width)} | ${right}${left === right ? '' : '   <--'}`);
  }
  return lines;
}

export interface FamilySummary {
  readonly family: string;
  /** Per cache mode: agreeing and total cases. */
  readonly byCaching: Map<string, { agree: number; total: number }>;
}

/** Agreeing / total per family and cache mode, as a table. */
export function formatSummary(results: readonly CaseResult[]): string {
  const families = new Map<string, Map<string, { agree: number; total: number }>>();
  for (const r of results) {
    let row = families.get(r.testCase.family);
    if (row === undefined) families.set(r.testCase.family, (row = new Map<string, { agree: number; total: number }>()));
    const cell = row.get(r.testCase.caching) ?? { agree: 0, total: 0 };
    cell.total++;
    if (r.status === 'agree') cell.agree++;
    row.set(r.testCase.caching, cell);
  }
  const width = Math.max(6, ...[...families.keys()].map((f) => f.length));
  const header = `${'family'.padEnd(width)} | ${CACHING_MODES.map((m) => `cache-${m}`.padEnd(15)).join(' | ')} | known differences`;
  const lines = [header, '-'.repeat(header.length)];
  let agree = 0;
  for (const [family, row] of families) {
    const cells = CACHING_MODES.map((m) => {
      const cell = row.get(m);
      if (cell === undefined) return '-'.padEnd(15);
      return `${cell.agree}/${cell.total}${cell.agree === cell.total ? '' : ' !'}`.padEnd(15);
    });
    const known = new Set(
      CACHING_MODES.flatMap((m) => knownDifferencesOf(`${family}/cache-${m}`).map((k) => k.id)),
    );
    lines.push(`${family.padEnd(width)} | ${cells.join(' | ')} | ${[...known].join(', ')}`);
    for (const cell of row.values()) agree += cell.agree;
  }
  lines.push(`agreeing: ${agree}/${results.length} (${((100 * agree) / Math.max(1, results.length)).toFixed(1)}%)`);
  return lines.join('\n');
}

/** The differing case with the fewest input records (then the fewest output records) of each category. */
export function smallestDifferencePerCategory(results: readonly CaseResult[]): Map<string, CaseResult> {
  const size = (r: CaseResult): number =>
    r.testCase.records.length * 1000 +
    (r.theirs.kind === 'records' ? r.theirs.records.length : 0) +
    (r.ours.kind === 'records' ? r.ours.records.length : 0);
  const smallest = new Map<string, CaseResult>();
  for (const r of results) {
    if (r.status === 'agree') continue;
    const best = smallest.get(r.category);
    if (best === undefined || size(r) < size(best)) smallest.set(r.category, r);
  }
  return smallest;
}

export { KNOWN_DIFFERENCES };
