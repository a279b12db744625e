/**
 * Liveness: the application keeps going through what a production cluster does to it. A broker that is
 * SIGKILLed and comes back (a dedicated broker this file can kill: skipped only where no local broker can be
 * started), a broker that never comes back (fatal after brokerUnavailableTimeoutMs, not before), an
 * instance with another topology under the same application id (refused, with a message saying what
 * differs), and close() in the middle of task creation (nothing is written afterwards).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { canStartLocalKafka, startLocalKafka, type LocalKafka } from '../../scripts/local-kafka.js';
import { Consumed, KafkaStreams, Materialized, Serdes, StreamsBuilder, type KafkaStreamsState, type Logger } from '../../src/index.js';
import { recentStartTime } from '../../examples/sessionize/generator.js';
import { useBrokers } from './kafka-env.js';
import { SessionizeHarness, waitForState, type Instance } from './sessionize-harness.js';

/** kafkajs' production retry settings (vitest's NODE_ENV=test would select kafkajs' short test ones). */
const PRODUCTION_RETRY = { initialRetryTime: 300, maxRetryTime: 30_000, retries: 5, factor: 0.2, multiplier: 2 };

/** A logger that keeps every line, to wait for and count what the instance said. */
class CapturingLogger implements Logger {
  readonly lines: Array<{ level: string; message: string }> = [];
  constructor(private readonly echo: boolean) {}
  private push(level: string, message: string): void {
    this.lines.push({ level, message });
    if (this.echo && level !== 'debug') console.error(`[${level}] ${message}`);
  }
  debug(message: string): void {
    this.push('debug', message);
  }
  info(message: string): void {
    this.push('info', message);
  }
  warn(message: string): void {
    this.push('warn', message);
  }
  error(message: string): void {
    this.push('error', message);
  }
  count(pattern: RegExp): number {
    return this.lines.filter((l) => pattern.test(l.message)).length;
  }
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function watchStates(app: KafkaStreams): KafkaStreamsState[] {
  const states: KafkaStreamsState[] = [app.state];
  app.on('stateChange', (next) => states.push(next));
  return states;
}

let harness: SessionizeHarness | undefined;
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else {
        const st = statSync(path);
        out[path.slice(dir.length)] = `${st.size}@${st.mtimeMs}`;
      }
    }
  };
  walk(dir);
  return out;
}

describe('one group, one topology, nothing after close', () => {
  it('refuses an instance whose topology differs, saying what differs; the group still runs every task', async () => {
    harness = new SessionizeHarness('at_least_once');
    const h = harness;
    await h.createTopics();
    await h.produce(SessionizeHarness.events(3000, 11));
    const a = await h.start();
    const statesA = watchStates(a.app);
    await waitFor('the first instance to run all 12 tasks', () => a.app.state === 'RUNNING' && a.app.localTaskIds().length === 12, 90_000);
    const logger = new CapturingLogger(false);
    // Same application id and input, another shape: one sub-topology counting views per key.
    const counting = (o: { applicationId?: string; inputTopic?: string }) => {
      const builder = new StreamsBuilder();
      builder.stream(o.inputTopic!, Consumed.with(Serdes.String(), Serdes.Buffer())).groupByKey().count(Materialized.as('view-count'));
      return builder.build({ applicationId: o.applicationId! });
    };
    const b = await h.start(undefined, { logger }, counting);
    await waitForState(b.app, 'ERROR', 90_000);
    const failure = logger.lines.find((l) => l.level === 'error' && /processing failed/.test(l.message))?.message ?? '';
    expect(failure).toMatch(/refused by the group of application '[^']+': its topology differs from the one the group runs/);
    expect(failure).toContain('1 sub-topology here, 2 sub-topologies in the group');
    expect(failure).toContain('view-count');
    expect(b.app.localTaskIds()).toEqual([]);
    await waitFor('the first instance to run all 12 tasks again', () => a.app.state === 'RUNNING' && a.app.localTaskIds().length === 12, 90_000);
    await h.waitForLagZero();
    await h.expectOracle();
    expect(statesA).not.toContain('ERROR');
  });

  it('close() during task creation stops it: after close resolves nothing in the state folder changes', async () => {
    harness = new SessionizeHarness('exactly_once_v2');
    const h = harness;
    await h.createTopics();
    await h.produce(SessionizeHarness.events(20_000, 12));
    const a = await h.start();
    await h.waitForLagZero(120_000);
    await a.app.close();
    // A new instance on an empty folder restores all 12 tasks, slowly (small batches); close it in the middle.
    const dir = h.newStateDir();
    const b = await h.start(dir, { restoreBatchRecords: 5 });
    await waitFor('a restoration in progress', () => b.app.metrics().restoreRemainingRecords > 0, 90_000);
    await b.app.close();
    const closedTree = tree(dir);
    expect(Object.keys(closedTree).length).toBeGreaterThan(0);
    // The group goes on without b: a third instance takes every task and processes new input to the end.
    const c = await h.start();
    // A day after the first input's event time, and still in the past: Kafka 4 refuses records stamped more than
    // an hour ahead of its clock (log.message.timestamp.after.max.ms).
    await h.produce(SessionizeHarness.events(2000, 13, recentStartTime() + 86_400_000));
    await waitFor('the third instance to run all 12 tasks', () => c.app.state === 'RUNNING' && c.app.localTaskIds().length === 12, 120_000);
    await h.waitForLagZero(120_000);
    expect(tree(dir)).toEqual(closedTree);
    // And no store of b is still open in this process (LevelDB would refuse a second open of a locked store).
    const { ClassicLevel } = await import('classic-level');
    for (const task of readdirSync(join(dir, h.applicationId))) {
      const storeDir = join(dir, h.applicationId, task, 'session-stats');
      if (!statSync(join(dir, h.applicationId, task)).isDirectory()) continue;
      try {
        statSync(storeDir);
      } catch {
        continue;
      }
      const db = new ClassicLevel(storeDir);
      await db.open();
      await db.close();
    }
  });
});

const canRestart = canStartLocalKafka();

describe.skipIf(!canRestart)('a broker that goes away', () => {
  let kafka: LocalKafka;
  beforeAll(async () => {
    kafka = await startLocalKafka({ log: (line) => console.error(`[outage broker] ${line}`) });
    useBrokers([kafka.bootstrap]);
  });
  afterAll(async () => {
    useBrokers(undefined);
    await kafka?.stop();
  });

  /**
   * Kills the broker under two exactly-once instances, keeps it down until both suspended their tasks (and,
   * with kafkajs' production retries, saw their consumer crash and restart) and at least `minOutageMs`
   * passed, restarts it, and checks the results equal the oracle and no instance reached ERROR. Each
   * instance logs at most `maxEpisodes` outages, each closed by "broker available again".
   */
  async function rideOutOutage(retry: Record<string, number>, expectConsumerCrash: boolean, minOutageMs: number, maxEpisodes: number): Promise<void> {
    harness = new SessionizeHarness('exactly_once_v2');
    const h = harness;
    await h.createTopics();
    const events = SessionizeHarness.events(20_000, 77);
    const loggers = [new CapturingLogger(process.env.LIVENESS_ECHO === "1"), new CapturingLogger(false)];
    const instances: Instance[] = [];
    for (const logger of loggers) {
      instances.push(await h.start(undefined, { logger, kafka: { retry }, brokerUnavailableTimeoutMs: Number(process.env.LIVENESS_TIMEOUT ?? 180_000) }));
    }
    const states = instances.map((i) => watchStates(i.app));
    await h.produce(events.slice(0, 10_000));
    for (const i of instances) await waitForState(i.app, 'RUNNING', 90_000);
    await waitFor('processing before the outage', () => instances.every((i) => i.app.metrics().processedTotal > 0), 60_000);

    const killedAt = Date.now();
    await kafka.kill('SIGKILL');
    // The outage lasts until both instances noticed it, suspended their tasks and saw their consumer crash
    // and restart (kafkajs gives up fetching after its retries): the situation that made workers exit.
    await waitFor(
      'both instances to suspend their tasks and restart their consumer',
      () => {
        if (states.some((s) => s.includes('ERROR'))) throw new Error('an instance failed during the outage');
        return (
          Date.now() - killedAt >= minOutageMs &&
          loggers.every((l) => l.count(/^broker unavailable/) > 0 && l.count(/^suspended tasks/) > 0 && (!expectConsumerCrash || l.count(/^kafkajs: Crash: /) > 0))
        );
      },
      120_000,
    );
    for (const i of instances) expect(i.app.state).toBe('REBALANCING');
    const outageMs = Date.now() - killedAt;
    await kafka.restart();
    const restartedAt = Date.now();
    await h.produce(events.slice(10_000));
    // A task whose last transaction the restarted broker has not completed yet waits for it (up to 5 min, as
    // Kafka Streams' task.timeout.ms) rather than start from the offsets before it.
    await h.waitForLagZero(330_000);
    const recoveredMs = Date.now() - restartedAt;
    await h.expectOracle();

    // An instance whose consumer crashed rejoins when kafkajs restarts it (after up to its last retry delay,
    // 30 s): the group may finish the input before that, so wait for it rather than assume it.
    for (const i of instances) await waitForState(i.app, 'RUNNING', 90_000);
    for (const s of states) expect(s).not.toContain('ERROR');
    // The group's rejoin can make an instance RUNNING before its outage loop's next poll of the broker (up to
    // 3 s apart) logs the end of the outage: wait for that line, then count.
    await waitFor(
      'both instances to log the end of every outage they saw',
      () => loggers.every((l) => l.count(/^broker available again/) > 0 && l.count(/^broker available again/) >= l.count(/^broker unavailable/)),
      30_000,
    );
    // Logged once per outage, not at every retry.
    for (const l of loggers) {
      const episodes = l.count(/^broker unavailable/);
      expect(episodes).toBeGreaterThanOrEqual(1);
      expect(episodes).toBeLessThanOrEqual(maxEpisodes);
      expect(l.count(/^broker available again/)).toBe(episodes);
      expect(l.lines.filter((x) => x.level !== 'debug' && /ECONNREFUSED/.test(x.message)).length).toBeLessThanOrEqual(episodes);
    }
    console.log(`[liveness] broker down ${(outageMs / 1000).toFixed(1)} s; lag 0 and oracle ${(recoveredMs / 1000).toFixed(1)} s after its restart`);
  }

  it('is ridden out under exactly-once: SIGKILL, restart, results equal the oracle, never ERROR', async () => {
    await rideOutOutage(PRODUCTION_RETRY, true, 0, 1);
  }, 600_000);

  // A user's own retry settings (issue 26: { retries: 30, maxRetryTime: 5000 } made a worker exit with
  // "Producer attempted an operation with an old epoch" 35 s after the kill): the runtime recovers an
  // exactly-once producer fenced by its own restart whatever kafkajs' retries are, so the outage is kept
  // past those 35 s. A produce kafkajs retried through the outage can fail with ECONNREFUSED only after the
  // instance saw the broker answer again: that belongs to the same outage (BrokerOutage), so still one.
  it('is ridden out under exactly-once with a user\'s own kafka.retry settings', async () => {
    await rideOutOutage({ retries: 30, maxRetryTime: 5000 }, false, 40_000, 1);
  }, 600_000);

  it('is fatal only after brokerUnavailableTimeoutMs', async () => {
    harness = new SessionizeHarness('at_least_once');
    const h = harness;
    await h.createTopics();
    const logger = new CapturingLogger(false);
    const timeoutMs = 20_000;
    const instance = await h.start(undefined, { logger, kafka: { retry: PRODUCTION_RETRY }, brokerUnavailableTimeoutMs: timeoutMs });
    const errors: Error[] = [];
    instance.app.setUncaughtExceptionHandler((e) => {
      errors.push(e);
      return 'SHUTDOWN_CLIENT';
    });
    await h.produce(SessionizeHarness.events(2000, 5));
    await waitForState(instance.app, 'RUNNING', 90_000);
    const killedAt = Date.now();
    await kafka.kill('SIGKILL');
    try {
      await waitFor('the instance to give up', () => instance.app.state === 'ERROR', timeoutMs + 120_000);
      const survivedMs = Date.now() - killedAt;
      expect(survivedMs).toBeGreaterThanOrEqual(timeoutMs);
      expect(errors.map((e) => e.message).join('\n')).toMatch(/unavailable for \d+ ms, longer than brokerUnavailableTimeoutMs/);
      expect(logger.count(/^broker unavailable/)).toBe(1);
      console.log(`[liveness] without a broker the instance ran ${(survivedMs / 1000).toFixed(1)} s (timeout ${timeoutMs / 1000} s)`);
    } finally {
      await kafka.restart();
    }
  });
});
