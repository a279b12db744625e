/**
 * The users' question: "what state survives a crash or a handover, and where does replay start?" Three
 * instances of the sessionization example run as separate processes while a controller fails them:
 *
 * - exactly_once_v2, SIGKILL loop: a random worker killed every few seconds (at least 10 times), once with
 *   its state folder wiped and killed again while restoring. The output must hold exactly the oracle's
 *   sessions, and the changelog, replayed from the beginning, exactly the same sessions (the changelog is a
 *   faithful log of the store: no session the store merged away survives in it).
 * - at_least_once, clean restarts: three workers stopped with SIGTERM and started again under load. A clean
 *   shutdown commits and hands over: the result is exact, no session lost and none counted twice.
 * - at_least_once, SIGKILL loop: nothing may be missing or under-counted; duplicates are reported.
 *
 * The input has out-of-order views, and views that arrive late between two sessions already stored and
 * logged, merging them. After the last failure the group's lag must reach zero within a bound (liveness).
 * `CRASH_FULL=1` runs the long version (more events, more kills); CI runs the short one. `CRASH_EVENT_TIME=1`
 * runs the workers with the event-time mode on (progress markers; issue 28).
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { canStartLocalKafka, startLocalKafka, type LocalKafka } from '../../scripts/local-kafka.js';
import type { ProcessingGuarantee } from '../../src/index.js';
import { parseSessionChangelogKey } from '../../src/stores/bucket-codec.js';
import { generatePageViews, oracleSessions, type OracleSession } from '../../examples/sessionize/generator.js';
import { readTopic } from '../../examples/sessionize/kafka-io.js';
import { buildSessionizeTopology, sessionStatsSerde } from '../../examples/sessionize/topology.js';
import { brokers, useBrokers } from './kafka-env.js';
import { PARTITIONS, SessionizeHarness } from './sessionize-harness.js';
import { Worker } from '../../examples/sessionize/worker-process.js';

const FULL = process.env.CRASH_FULL === '1';
const EVENTS = Number(process.env.CRASH_EVENTS ?? (FULL ? 100_000 : 40_000));
const MIN_KILLS = FULL ? 14 : 10;
/** After the last failure, the group must have processed and committed everything within this. */
const CATCH_UP_BOUND_MS = 240_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let workers: Worker[] = [];
let harness: SessionizeHarness | undefined;
afterEach(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  workers = [];
  await harness?.cleanup();
});

/** A deterministic PRNG for the controller's choices (which worker, how long to wait). */
function controllerRandom(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

interface Comparison {
  missing: string[];
  extra: string[];
  over: Array<[string, number, number]>;
  under: Array<[string, number, number]>;
  /** Sessions whose count matches but whose bytes or pages differ. */
  otherwise: string[];
}

function compare(expected: Map<string, OracleSession>, actual: Map<string, OracleSession>): Comparison {
  const c: Comparison = { missing: [], extra: [], over: [], under: [], otherwise: [] };
  for (const [id, s] of expected) {
    const got = actual.get(id);
    if (got === undefined) c.missing.push(id);
    else if (got.count > s.count) c.over.push([id, got.count, s.count]);
    else if (got.count < s.count) c.under.push([id, got.count, s.count]);
    else if (got.bytes !== s.bytes || JSON.stringify(got.pages) !== JSON.stringify(s.pages)) c.otherwise.push(id);
  }
  for (const id of actual.keys()) if (!expected.has(id)) c.extra.push(id);
  return c;
}

/** The differing sessions, a few of each kind, for the failure message and the log. */
function report(label: string, c: Comparison): string {
  const sample = (xs: unknown[]) => xs.slice(0, 5).map((x) => JSON.stringify(x)).join(', ');
  return (
    `${label}: ${c.missing.length} missing [${sample(c.missing)}], ${c.extra.length} extra [${sample(c.extra)}], ` +
    `${c.over.length} over-counted [${sample(c.over)}] (session, got, oracle), ${c.under.length} under-counted ` +
    `[${sample(c.under)}], ${c.otherwise.length} with other differences [${sample(c.otherwise)}]`
  );
}

const counts = (c: Comparison) => ({
  missing: c.missing.length,
  extra: c.extra.length,
  over: c.over.length,
  under: c.under.length,
  otherwise: c.otherwise.length,
});

/** The store's sessions as a restoration from the changelog's beginning would rebuild them. */
async function changelogSessions(applicationId: string, readCommitted: boolean): Promise<Map<string, OracleSession>> {
  // Keys as the store serializes them (whatever serde the topology chose for the grouping).
  const storeKeySerde = buildSessionizeTopology().stores.get('session-stats')!.keySerde;
  const records = await readTopic(brokers(), `${applicationId}-session-stats-changelog`, PARTITIONS, readCommitted);
  const latest = new Map<string, OracleSession | null>();
  for (const [key, value] of records) {
    const { keyBytes, start, end } = parseSessionChangelogKey(key);
    const userId = storeKeySerde.deserialize(keyBytes) as string;
    const id = `${userId}@${start}-${end}`;
    if (value === null) {
      latest.set(id, null);
      continue;
    }
    const stats = sessionStatsSerde.deserialize(value);
    latest.set(id, { userId, start, end, count: Number(stats.count), bytes: Number(stats.bytes), pages: stats.pages });
  }
  const sessions = new Map<string, OracleSession>();
  for (const [id, s] of latest) if (s !== null) sessions.set(id, s);
  return sessions;
}

/**
 * How the controller fails the application: SIGKILL a worker, SIGTERM one (a clean restart), or SIGKILL the
 * broker (`broker`, given) and start it again once every worker has logged that it is unavailable.
 */
type Failure = 'sigkill' | 'sigterm' | { broker: LocalKafka; outages: number };

/** True once the worker's log has a line matching `pattern`. */
const logged = (w: Worker, pattern: RegExp): boolean => {
  try {
    return pattern.test(readFileSync(w.logFile, 'utf8'));
  } catch {
    return false;
  }
};

async function waitUntil(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

async function chaosRun(guarantee: ProcessingGuarantee, failure: Failure, seed: number) {
  harness = new SessionizeHarness(guarantee);
  const h = harness;
  await h.createTopics();
  // Few users, so that one user's views meet in one commit interval: a view reported late puts a logged
  // session back with the same window and the next view merges it away, the case that once left merged-away
  // sessions in the changelog. Bridging views merge two logged sessions.
  const events = generatePageViews({ events: EVENTS, seed, users: Math.max(20, Math.round(EVENTS / 100)), bridgeRate: 0.3, lateRate: 0.1 });
  const env = h.workerEnv(guarantee, {
    // Long enough for several views of a user to meet in one commit interval.
    COMMIT_INTERVAL_MS: '1000',
    // Small restore batches make restoration long enough to be killed in the middle of.
    RESTORE_BATCH_RECORDS: '20',
    LOG_LEVEL: process.env.CRASH_LOG_LEVEL ?? 'info',
    // kafkajs' production retries (under vitest, NODE_ENV=test selects its short test ones).
    NODE_ENV: 'production',
    ...(process.env.CRASH_EVENT_TIME === '1' ? { EVENT_TIME: JSON.stringify({ progressMarkers: true, maxUpstreamWaitMs: 120_000 }) } : {}),
  });
  workers = [0, 1, 2].map((i) => new Worker(env, h.newStateDir(), join(tmpdir(), `${h.applicationId}-worker-${i}.log`)));
  console.log(`[crash test] worker logs: ${workers.map((w) => w.logFile).join(' ')}`);
  for (const w of workers) w.start();
  for (const w of workers) expect(await w.waitFor('started')).toBe(true);

  const began = Date.now();
  if (typeof failure === 'object') {
    // The input in shares, a broker outage after each but the last, while the workers are still at work.
    const share = Math.ceil(events.length / (failure.outages + 1));
    for (let outage = 0; outage <= failure.outages; outage++) {
      await h.produce(events.slice(outage * share, (outage + 1) * share));
      if (outage === failure.outages) break;
      await waitUntil('processing', () => workers.every((w) => logged(w, /is running/)), 60_000);
      // Counted before the kill: a worker may report the outage before kill() has seen the broker exit.
      const marks = workers.map((w) => (logged(w, /broker unavailable/) ? readFileSync(w.logFile, 'utf8').match(/broker unavailable/g)!.length : 0));
      await failure.broker.kill('SIGKILL');
      await waitUntil(
        'every worker to report the broker unavailable',
        () => workers.every((w, i) => (readFileSync(w.logFile, 'utf8').match(/broker unavailable/g)?.length ?? 0) > marks[i]!),
        120_000,
      );
      await failure.broker.restart();
    }
    for (const w of workers) expect(w.events.filter((e) => e.event === 'state').map((e) => e.state)).not.toContain('ERROR');
    return finish(h, guarantee, `broker SIGKILL x${failure.outages}`, failure.outages, 0, began, events);
  }
  let producing = true;
  const producer = (async () => {
    const batch = Math.ceil(EVENTS / 40);
    for (let i = 0; i < events.length; i += batch) {
      await h.produce(events.slice(i, i + batch));
      await sleep(400);
    }
    producing = false;
  })();

  const rand = controllerRandom(seed);
  const minFailures = failure === 'sigkill' ? MIN_KILLS : 3;
  let failures = 0;
  let killsDuringRestore = 0;
  while ((producing || failures < minFailures || (failure === 'sigkill' && killsDuringRestore < 1)) && failures < 40 && Date.now() - began < 180_000) {
    if (failure === 'sigterm' && failures >= minFailures) {
      await sleep(200);
      continue;
    }
    await sleep(failure === 'sigkill' ? 1500 + rand() * 1500 : 4000 + rand() * 2000);
    const victim = workers[Math.floor(rand() * workers.length)]!;
    if (failure === 'sigterm') {
      await victim.stop();
      failures++;
      victim.start();
      expect(await victim.waitFor('started', 60_000)).toBe(true);
      continue;
    }
    await victim.kill();
    failures++;
    if (failures >= 3 && killsDuringRestore === 0) {
      // Lose the disk too: the restarted instance must restore everything, and dies while it does.
      rmSync(victim.stateDir, { recursive: true, force: true });
      victim.start();
      const restoring = await victim.waitFor('restore-start', 30_000);
      await victim.kill();
      failures++;
      if (restoring && victim.count('restore-end') < victim.count('restore-start')) killsDuringRestore++;
    }
    victim.start();
  }
  await producer;
  expect(failures).toBeGreaterThanOrEqual(minFailures);
  if (failure === 'sigkill') expect(killsDuringRestore).toBeGreaterThanOrEqual(1);
  return finish(h, guarantee, failure, failures, killsDuringRestore, began, events);
}

/** After the last failure: lag to zero within the bound, then output and changelog against the oracle. */
async function finish(
  h: SessionizeHarness,
  guarantee: ProcessingGuarantee,
  label: string,
  failures: number,
  killsDuringRestore: number,
  began: number,
  events: ReturnType<typeof generatePageViews>,
) {
  const lastFailure = Date.now();
  await h.waitForLagZero(CATCH_UP_BOUND_MS);
  const catchUpSeconds = (Date.now() - lastFailure) / 1000;
  await Promise.all(workers.map((w) => w.stop()));
  const expected = oracleSessions(events);
  const { sessions } = await h.results();
  const changelog = await changelogSessions(h.applicationId, guarantee === 'exactly_once_v2');
  const output = compare(expected, sessions);
  const replayed = compare(expected, changelog);
  const outputVsChangelog = compare(sessions, changelog);
  const seconds = (Date.now() - began) / 1000;
  console.log(
    `[crash test] ${guarantee}, ${label}: ${failures} failures (${killsDuringRestore} during restoration), ${EVENTS} events, ` +
      `${expected.size} sessions, ${seconds.toFixed(0)} s, lag 0 ${catchUpSeconds.toFixed(1)} s after the last failure\n  ` +
      `${report('output vs oracle', output)}\n  ${report('changelog replay vs oracle', replayed)}\n  ` +
      `${report('changelog replay vs output', outputVsChangelog)}`,
  );
  return { expected, output, replayed, outputVsChangelog };
}

describe('chaos: crashes and restarts while processing', () => {
  it('exactly_once_v2, SIGKILL loop: output and changelog replay both equal the oracle exactly', async () => {
    const { expected, output, replayed } = await chaosRun('exactly_once_v2', 'sigkill', 2026);
    expect(counts(output), report('output vs oracle', output)).toEqual({ missing: 0, extra: 0, over: 0, under: 0, otherwise: 0 });
    expect(counts(replayed), report('changelog replay vs oracle', replayed)).toEqual({ missing: 0, extra: 0, over: 0, under: 0, otherwise: 0 });
    expect(expected.size).toBeGreaterThan(1000);
  });

  it('at_least_once, clean restarts: exact, no session lost, none counted twice', async () => {
    const { output, replayed } = await chaosRun('at_least_once', 'sigterm', 77);
    expect(counts(output), report('output vs oracle', output)).toEqual({ missing: 0, extra: 0, over: 0, under: 0, otherwise: 0 });
    expect(counts(replayed), report('changelog replay vs oracle', replayed)).toEqual({ missing: 0, extra: 0, over: 0, under: 0, otherwise: 0 });
  });

  it('at_least_once, SIGKILL loop: nothing is lost; duplicates are counted and reported', async () => {
    const { output, outputVsChangelog } = await chaosRun('at_least_once', 'sigkill', 11);
    expect({ missing: output.missing.length, under: output.under.length }, report('output vs oracle', output)).toEqual({ missing: 0, under: 0 });
    // Whatever was counted twice, the changelog holds what the output says: the store is logged faithfully.
    expect(counts(outputVsChangelog), report('changelog replay vs output', outputVsChangelog)).toEqual({
      missing: 0,
      extra: 0,
      over: 0,
      under: 0,
      otherwise: 0,
    });
  });
});

const canRestartBroker = canStartLocalKafka();

describe.skipIf(!canRestartBroker)('chaos: the broker crashes', () => {
  let kafka: LocalKafka;
  beforeAll(async () => {
    // A broker of this file's own, to kill: the shared one serves the other test files.
    kafka = await startLocalKafka({ log: (line) => console.error(`[crash broker] ${line}`) });
    useBrokers([kafka.bootstrap]);
  });
  afterAll(async () => {
    useBrokers(undefined);
    await kafka?.stop();
  });

  it('exactly_once_v2, broker SIGKILLed and restarted: output and changelog replay equal the oracle, no worker fails', async () => {
    const { output, replayed } = await chaosRun('exactly_once_v2', { broker: kafka, outages: FULL ? 2 : 1 }, 404);
    expect(counts(output), report('output vs oracle', output)).toEqual({ missing: 0, extra: 0, over: 0, under: 0, otherwise: 0 });
    expect(counts(replayed), report('changelog replay vs oracle', replayed)).toEqual({ missing: 0, extra: 0, over: 0, under: 0, otherwise: 0 });
  });
});

