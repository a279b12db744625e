/**
 * The users' question: "how is state resurrected if a node crashes before checkpointing, and where does
 * replay start?" Three instances of the sessionization example run as separate processes while a
 * controller SIGKILLs a random one every few seconds and starts it again (once with its state folder
 * wiped, killed again in the middle of restoring). Afterwards the output must hold exactly the oracle's
 * sessions under exactly-once; under at-least-once nothing may be missing, and the duplicates are reported.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProcessingGuarantee } from '../../src/index.js';
import { oracleSessions } from '../../examples/sessionize/generator.js';
import { brokers } from './kafka-env.js';
import { REPLAY_GRACE_MS, SessionizeHarness } from './sessionize-harness.js';
import { Worker } from '../../examples/sessionize/worker-process.js';

const EVENTS = 100_000;
const MIN_KILLS = 8;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let workers: Worker[] = [];
let harness: SessionizeHarness | undefined;
afterEach(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  workers = [];
  await harness?.cleanup();
});

async function crashRun(guarantee: ProcessingGuarantee) {
  harness = new SessionizeHarness(guarantee);
  const h = harness;
  await h.createTopics();
  const events = SessionizeHarness.events(EVENTS, 2026);
  const env = {
    KAFKA_BROKERS: brokers().join(','),
    APP_ID: h.applicationId,
    INPUT_TOPIC: h.input,
    OUTPUT_TOPIC: h.output,
    GUARANTEE: guarantee,
    GRACE_MS: String(REPLAY_GRACE_MS),
    COMMIT_INTERVAL_MS: guarantee === 'exactly_once_v2' ? '100' : '1000',
    // Small restore batches make restoration long enough to be killed in the middle of.
    RESTORE_BATCH_RECORDS: '20',
    LOG_LEVEL: process.env.CRASH_LOG_LEVEL ?? 'info',
  };
  workers = [0, 1, 2].map((i) => new Worker(env, h.newStateDir(), join(tmpdir(), `${h.applicationId}-worker-${i}.log`)));
  console.log(`[crash test] worker logs: ${workers.map((w) => w.logFile).join(' ')}`);
  for (const w of workers) w.start();
  for (const w of workers) expect(await w.waitFor('started')).toBe(true);

  let producing = true;
  const producer = (async () => {
    for (let i = 0; i < events.length; i += 2500) {
      await h.produce(events.slice(i, i + 2500));
      await sleep(500);
    }
    producing = false;
  })();

  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  let kills = 0;
  let killsDuringRestore = 0;
  const began = Date.now();
  while ((producing || kills < MIN_KILLS || killsDuringRestore < 1) && kills < 40 && Date.now() - began < 150_000) {
    await sleep(2000 + rand() * 1500);
    const victim = workers[Math.floor(rand() * workers.length)]!;
    await victim.kill();
    kills++;
    if (kills >= 3 && killsDuringRestore === 0) {
      // Lose the disk too: the restarted instance must restore everything, and dies while it does.
      rmSync(victim.stateDir, { recursive: true, force: true });
      victim.start();
      const restoring = await victim.waitFor('restore-start', 30_000);
      await victim.kill();
      kills++;
      if (restoring && victim.count('restore-end') < victim.count('restore-start')) killsDuringRestore++;
    }
    victim.start();
  }
  await producer;
  expect(kills).toBeGreaterThanOrEqual(MIN_KILLS);
  expect(killsDuringRestore).toBeGreaterThanOrEqual(1);

  await h.waitForLagZero(240_000);
  await Promise.all(workers.map((w) => w.stop()));
  const expected = oracleSessions(h.produced);
  const { sessions } = await h.results();
  return { expected, sessions, kills, killsDuringRestore, seconds: (Date.now() - began) / 1000 };
}

describe('crashes with SIGKILL while processing', () => {
  it('exactly_once_v2: the output holds exactly the oracle sessions, none missing, none extra, no count off', async () => {
    const { expected, sessions, kills, killsDuringRestore, seconds } = await crashRun('exactly_once_v2');
    console.log(
      `[crash test] exactly_once_v2: ${kills} kills (${killsDuringRestore} during restoration), ${EVENTS} events, ` +
        `${expected.size} sessions, ${seconds.toFixed(0)} s`,
    );
    const missing = [...expected.keys()].filter((k) => !sessions.has(k));
    const extra = [...sessions.keys()].filter((k) => !expected.has(k));
    const wrong = [...expected].filter(([id, s]) => sessions.has(id) && JSON.stringify(sessions.get(id)) !== JSON.stringify(s));
    if (wrong.length + missing.length > 0) {
      const sample = wrong.slice(0, 5).map(([id, s]) => `${id}: ${sessions.get(id)?.count} views, oracle ${s.count}`);
      console.log(`[crash test] wrong sessions, for example:\n  ${sample.join('\n  ')}\nmissing: ${missing.slice(0, 5).join(', ')}`);
    }
    expect({ missing: missing.length, extra: extra.length, wrong: wrong.length }).toEqual({ missing: 0, extra: 0, wrong: 0 });
    expect(expected.size).toBeGreaterThan(3000);
  });

  it('at_least_once: nothing is lost; duplicates are counted and reported', async () => {
    const { expected, sessions, kills, killsDuringRestore, seconds } = await crashRun('at_least_once');
    const missing = [...expected.keys()].filter((k) => !sessions.has(k));
    const undercounted = [...expected].filter(([id, s]) => (sessions.get(id)?.count ?? 0) < s.count);
    const overcounted = [...expected].filter(([id, s]) => (sessions.get(id)?.count ?? 0) > s.count);
    const extraViews = overcounted.reduce((n, [id, s]) => n + sessions.get(id)!.count - s.count, 0);
    console.log(
      `[crash test] at_least_once: ${kills} kills (${killsDuringRestore} during restoration), ${EVENTS} events, ` +
        `${expected.size} sessions, ${seconds.toFixed(0)} s: ${overcounted.length} sessions counted ` +
        `${extraViews} page views twice (duplicates from replay after a crash)`,
    );
    expect({ missing: missing.length, undercounted: undercounted.length }).toEqual({ missing: 0, undercounted: 0 });
  });
});
