/**
 * The differential suite: seeded random cases (generator.ts) through Kafka Streams 3.9.1's own
 * TopologyTestDriver (java/, one JVM for all) and through ours, compared exactly: the same records, in the same
 * order, with the same timestamps, with the record cache off and on.
 *
 * Categories listed in known-differences.ts may disagree for now; every other case must agree, and every known
 * difference must still show (its witness still disagrees), so that a fix forces the list to shrink.
 * DIFFERENTIAL_SEED and DIFFERENTIAL_CASES pick another run; a failing case prints its replay command.
 * The first run resolves kafka-streams from Maven Central into .cache/differential (later runs are offline).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CACHING_MODES } from './cases.js';
import {
  DEFAULT_CASES,
  DEFAULT_SEED,
  formatSummary,
  globMatches,
  knownDifferencesOf,
  runCases,
  sideBySide,
  type CaseResult,
} from './compare.js';
import { CACHE_CYCLE, FAMILIES, generateCases } from './generator.js';
import { KNOWN_DIFFERENCES, witnessCase } from './known-differences.js';

const seed = Number(process.env.DIFFERENTIAL_SEED ?? DEFAULT_SEED);
const count = Number(process.env.DIFFERENTIAL_CASES ?? DEFAULT_CASES);
const isDefaultRun = seed === DEFAULT_SEED && count === DEFAULT_CASES;
/** Failing cases printed in full; the rest are counted. */
const SHOWN = 15;

let results: CaseResult[] = [];
let witnesses = new Map<string, CaseResult>();

describe(`differential: Kafka Streams 3.9.1's TopologyTestDriver and ours (seed ${seed}, ${count} cases)`, () => {
  beforeAll(async () => {
    const cases = generateCases(seed, count);
    const witnessCases = KNOWN_DIFFERENCES.map(witnessCase);
    const all = await runCases([...cases, ...witnessCases], (line) => console.log(line));
    results = all.slice(0, cases.length);
    witnesses = new Map(all.slice(cases.length).map((r, i) => [KNOWN_DIFFERENCES[i]!.id, r]));
  }, 600_000);

  afterAll(() => {
    if (results.length > 0) console.log(`differential summary, seed ${seed} (agreeing/total per family and cache mode):\n${formatSummary(results)}`);
  });

  it('generates every family in every cache mode', () => {
    const seen = new Set(results.map((r) => r.category));
    if (count < FAMILIES.length * CACHE_CYCLE.length) return;
    const missing = FAMILIES.flatMap((f) => CACHING_MODES.map((m) => `${f}/cache-${m}`)).filter((c) => !seen.has(c));
    expect(missing).toEqual([]);
  });

  it('agrees exactly (records, order, timestamps) on every case outside the known differences', () => {
    const failing = results.filter((r) => r.status !== 'agree' && knownDifferencesOf(r.category).length === 0);
    const report = failing.slice(0, SHOWN).map(sideBySide).join('\n\n');
    const more = failing.length > SHOWN ? `\n\n... and ${failing.length - SHOWN} more` : '';
    expect(failing.length, `${failing.length} cases disagree outside known-differences.ts:\n\n${report}${more}`).toBe(0);
  });

  for (const known of KNOWN_DIFFERENCES) {
    it(`still disagrees where known: ${known.id} (issue 14: ${known.bullet})`, () => {
      const witness = witnesses.get(known.id)!;
      expect(
        witness.status,
        `The witness of '${known.id}' agrees now: remove the entry from known-differences.ts (and the categories ` +
          `it excused, where no other entry needs them).\n${sideBySide(witness)}`,
      ).not.toBe('agree');
      // Each pattern must still excuse something; checked on the default run only, as smaller or other runs
      // may miss a pattern's disagreements by chance.
      if (!isDefaultRun || known.rare === true) return;
      const stale = known.categories.filter(
        (pattern) => !results.some((r) => r.status !== 'agree' && globMatches(pattern, r.category)),
      );
      expect(stale, `Patterns of '${known.id}' that match no disagreeing case any more: remove them`).toEqual([]);
    });
  }
});
