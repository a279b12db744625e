/**
 * The query server on a real broker: three instances of the sessionization example (worker processes),
 * each serving queries on its applicationServer. Every user's sessions, asked of a random instance over
 * HTTP, equal the oracle; while one instance is SIGKILLed and the group fails over, current reads answer the
 * right sessions or 503, never anything else. With a standby replica per task, stale reads keep answering
 * (the right sessions, or a copy that says it is behind); without, the takeover restores from the changelog.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { oracleSessions } from '../../examples/sessionize/generator.js';
import type { SessionStats } from '../../examples/sessionize/topology.js';
import { Worker, lastTasks } from '../../examples/sessionize/worker-process.js';
import { QueryClient, QueryClientError } from '../../src/index.js';
// After kstreams-ts, which must load before kafkajs (the script imports it).
import { freePort } from '../../scripts/local-kafka.js';
import { SessionizeHarness, eventually } from './sessionize-harness.js';

let workers: Worker[] = [];
let harness: SessionizeHarness | undefined;
afterEach(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  workers = [];
  await harness?.cleanup();
});

type Session = { start: number; end: number; count: number; bytes: number; pages: string[] };

const normalize = (sessions: Session[]): Session[] =>
  [...sessions].map(({ start, end, count, bytes, pages }) => ({ start, end, count, bytes, pages })).sort((a, b) => a.start - b.start);

/** Keeps the workers' logs beside the failure (test-results/evidence/query-server/). */
function keepWorkerLogs(started: () => readonly Worker[]): void {
  onTestFailed(() => {
    const dir = resolve('test-results/evidence/query-server');
    mkdirSync(dir, { recursive: true });
    for (const w of started()) if (existsSync(w.logFile)) copyFileSync(w.logFile, join(dir, w.logFile.split('/').pop()!));
    console.log(`[query-server] worker logs kept in ${dir}`);
  });
}

describe('query server on a broker', () => {
  it.each([
    { standbys: 1, title: 'with a standby per task: stale reads keep answering' },
    { standbys: 0, title: 'without standbys: the takeover restores from the changelog' },
  ])('any instance answers every user’s sessions as the oracle; during a failover, 503 or the right data ($title)', async ({ standbys }) => {
    let started: Worker[] = [];
    keepWorkerLogs(() => started);
    harness = new SessionizeHarness('at_least_once');
    const h = harness;
    await h.createTopics();
    const ports = [await freePort(), await freePort(), await freePort()];
    const servers = ports.map((p) => `127.0.0.1:${p}`);
    const env = h.workerEnv('at_least_once', { COMMIT_INTERVAL_MS: '300', NUM_STANDBY_REPLICAS: String(standbys), LOG_LEVEL: 'info' });
    workers = ports.map((port, i) => new Worker({ ...env, QUERY_PORT: String(port) }, h.newStateDir(), join(tmpdir(), `${h.applicationId}-query-${i}.log`)));
    started = workers;
    for (const w of workers) w.start();
    for (const w of workers) expect(await w.waitFor('started', 60_000)).toBe(true);
    await h.produce(SessionizeHarness.events(6000, 29));
    await h.waitForLagZero(90_000);
    await eventually(() => workers.every((w) => lastTasks(w)?.state === 'RUNNING' && lastTasks(w)!.standby.length >= standbys), 'three running instances', 60_000);

    const expected = new Map<string, Session[]>();
    for (const s of oracleSessions(h.produced).values()) expected.set(s.userId, [...(expected.get(s.userId) ?? []), s]);
    const users = [...expected.keys()].sort();
    const clients = servers.map((s) => new QueryClient({ baseUrl: `http://${s}`, retries: 20 }));
    const ask = async (client: QueryClient, user: string, stale = false) => {
      const answer = await client.sessions<SessionStats>('session-stats', user, { stale });
      return { ...answer, sessions: normalize(answer.sessions.map((s) => ({ start: s.start, end: s.end, ...s.value }))) };
    };

    // 1. Every user, of a random instance (each instance asked about a third of the users it does not own, at least).
    const answeredBy = new Map<string, number>();
    let seed = 7;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    for (const user of users) {
      const client = clients[random(3)]!;
      const answer = await client.sessions<SessionStats>('session-stats', user);
      answeredBy.set(answer.answeredBy, (answeredBy.get(answer.answeredBy) ?? 0) + 1);
      expect(normalize(answer.sessions.map((s) => ({ start: s.start, end: s.end, ...s.value }))), user).toEqual(normalize(expected.get(user)!));
      expect(answer.stale).toBe(false);
    }
    expect([...answeredBy.keys()].sort()).toEqual([...servers].sort());
    console.log(`[query-server] ${users.length} users answered by ${JSON.stringify(Object.fromEntries(answeredBy))}`);

    // The replicas caught up with the last commit (stale reads are to be exact below).
    if (standbys > 0) await eventually(async () => {
      for (const s of servers) {
        const local = (await (await fetch(`http://${s}/status/local.json`)).json()) as { standbys: Array<{ lag: number | null }> };
        if (local.standbys.length === 0 || local.standbys.some((r) => r.lag !== 0)) return false;
      }
      return true;
    }, 'standby replicas at lag 0', 30_000);

    // 2. SIGKILL one instance; ask the two others, without retries, until the survivors run every task.
    const [killed, ...survivors] = [0, 1, 2].map((i) => ({ worker: workers[i]!, server: servers[i]! }));
    // Current reads without retries (to see the 503s); stale reads as an application would ask, retrying a 503
    // after its Retry-After (a task handed from its replica to its new active task has no copy for a moment).
    const once = survivors.map((s) => new QueryClient({ baseUrl: `http://${s.server}`, retries: 0 }));
    const patient = survivors.map((s) => new QueryClient({ baseUrl: `http://${s.server}`, retries: 3 }));
    await killed!.worker.kill();
    const killedAt = Date.now();
    const counts = { current200: 0, current503: 0, stale200: 0, stale503: 0, staleBehind: 0 };
    const failures: string[] = [];
    let round = 0;
    const takenOver = () => survivors.every((s) => lastTasks(s.worker)?.state === 'RUNNING') && survivors.reduce((n, s) => n + lastTasks(s.worker)!.active.length, 0) === 12;
    let settledRounds = 0;
    while (settledRounds < 2) {
      if (Date.now() - killedAt > 120_000) throw new Error(`no takeover within 120 s: ${JSON.stringify(counts)}`);
      const settled = takenOver();
      for (const user of users) {
        const which = round++ % 2;
        for (const stale of standbys > 0 ? [false, true] : [false]) {
          try {
            const got = await ask(stale ? patient[which]! : once[which]!, user, stale);
            if (got.stale && got.lag !== 0) {
              // A copy that says it is behind (or does not know yet): its answer may be older, and says so.
              counts.staleBehind++;
              continue;
            }
            expect(got.sessions, `${user} (stale ${stale}, answered by ${got.answeredBy}, ${got.source ?? 'active'})`).toEqual(normalize(expected.get(user)!));
            if (stale) counts.stale200++;
            else counts.current200++;
          } catch (err) {
            if (!(err instanceof QueryClientError) || err.status !== 503) throw err;
            if (stale) counts.stale503++;
            else counts.current503++;
            if (stale) failures.push(`${user}: ${err.message}`);
          }
        }
      }
      if (settled) settledRounds++;
    }
    const afterMs = Date.now() - killedAt;
    console.log(`[query-server] failover (${standbys} standbys): ${JSON.stringify(counts)} over ${afterMs} ms; stale 503s: ${failures.slice(0, 5).join(' | ')}`);
    // Current reads answered 503 while the killed instance's tasks had no owner, and the right sessions otherwise.
    expect(counts.current503).toBeGreaterThan(0);
    expect(counts.current200).toBeGreaterThan(0);
    // Stale reads kept answering: a replica of every task lives on a survivor.
    if (standbys > 0) expect(counts.stale503).toBe(0);

    // 3. After the takeover, every user again from both survivors, current reads.
    for (const user of users) {
      for (const s of survivors) {
        const client = new QueryClient({ baseUrl: `http://${s.server}`, retries: 20 });
        expect((await ask(client, user)).sessions, user).toEqual(normalize(expected.get(user)!));
      }
    }
  });
});
