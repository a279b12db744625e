/**
 * Replays differential cases and prints both outputs side by side.
 *
 *   npx tsx test/differential/replay.ts --seed 20250914 --case 17     one case, as the test reported it
 *   npx tsx test/differential/replay.ts --witness store-expiry         a known difference's witness case
 *   npx tsx test/differential/replay.ts --seed 20250914 --cases 2000 [--summary] [--smallest] [--minimize]
 *        [--only <globs over categories, comma-separated, e.g. 'session0-*,tumbling-*-ooo/cache-on'>]
 *     a whole run: the table of agreeing / total per category (--summary, the default), the smallest
 *     differing case of each category (--smallest), or each category's smallest difference shrunk record by
 *     record to one that still differs (--minimize; a few JVM runs).
 */
import { parseArgs } from 'node:util';
import type { DifferentialCase } from './cases.js';
import { generateCases } from './generator.js';
import {
  categoryOf,
  DEFAULT_CASES,
  DEFAULT_SEED,
  formatSummary,
  globMatches,
  runCases,
  runOne,
  runSeed,
  sideBySide,
  smallestDifferencePerCategory,
  type CaseResult,
} from './compare.js';
import { KNOWN_DIFFERENCES, witnessCase } from './known-differences.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    case: { type: 'string' },
    cases: { type: 'string' },
    witness: { type: 'string' },
    only: { type: 'string' },
    summary: { type: 'boolean' },
    smallest: { type: 'boolean' },
    minimize: { type: 'boolean' },
  },
});
const log = (line: string): void => console.error(line);

/** Removes input records one at a time while the case still differs; one JVM run per round. */
async function minimize(results: readonly CaseResult[]): Promise<CaseResult[]> {
  let current = [...results];
  for (let round = 0; round < 40; round++) {
    const candidates: { owner: number; testCase: DifferentialCase }[] = [];
    current.forEach((r, owner) => {
      const c = r.testCase;
      for (let i = 0; i < c.records.length && c.records.length > 1; i++) {
        const records = c.records.filter((_, j) => j !== i);
        candidates.push({ owner, testCase: { ...c, id: `${c.id}-${round}-${i}`, records } });
      }
    });
    if (candidates.length === 0) break;
    const outcomes = await runCases(candidates.map((x) => x.testCase), log);
    let progress = false;
    const next = [...current];
    const taken = new Set<number>();
    outcomes.forEach((outcome, k) => {
      const owner = candidates[k]!.owner;
      if (taken.has(owner) || outcome.status === 'agree') return;
      // Keep the same kind of difference: an error stays an error, records stay records.
      const before = current[owner]!;
      if ((before.ours.kind === 'error') !== (outcome.ours.kind === 'error')) return;
      taken.add(owner);
      next[owner] = { ...outcome, testCase: { ...outcome.testCase, id: before.testCase.id } };
      progress = true;
    });
    current = next;
    if (!progress) break;
  }
  return current;
}

if (values.witness !== undefined) {
  const known = KNOWN_DIFFERENCES.find((k) => k.id === values.witness);
  if (known === undefined) {
    console.error(`No known difference '${values.witness}'; there are: ${KNOWN_DIFFERENCES.map((k) => k.id).join(', ')}`);
    process.exit(2);
  }
  const [result] = await runCases([witnessCase(known)], log);
  console.log(`${known.id}: ${known.bullet}\n${sideBySide(result!)}`);
} else if (values.case !== undefined) {
  const seed = Number(values.seed ?? DEFAULT_SEED);
  console.log(sideBySide(await runOne(seed, Number(values.case), log)));
} else {
  const seed = Number(values.seed ?? DEFAULT_SEED);
  const count = Number(values.cases ?? DEFAULT_CASES);
  // With --only, only the matching cases run (the rest of the seed's cases are generated, not run).
  const patterns = values.only?.split(',');
  const results =
    patterns === undefined
      ? await runSeed(seed, count, log)
      : await runCases(generateCases(seed, count).filter((c) => patterns.some((p) => globMatches(p, categoryOf(c)))), log);
  if (values.smallest || values.minimize) {
    let smallest = [...smallestDifferencePerCategory(results).values()];
    if (values.minimize) smallest = await minimize(smallest.filter((r) => r.status === 'differ'));
    for (const r of smallest) console.log(`${sideBySide(r)}\n`);
  }
  if (values.summary || !(values.smallest || values.minimize)) console.log(formatSummary(results));
}
