/**
 * Damaged local state on a real broker: one instance processes, stops cleanly, its state folder is damaged,
 * more input arrives, and it starts again on the same folder. Either the results equal the oracle (the
 * damaged stores were detected, wiped with a WARN naming them, and restored from their changelogs) or the
 * start fails with an error naming the path. Never a silently wrong result, and never a dead letter.
 */
import { existsSync, openSync, readdirSync, rmSync, statSync, truncateSync, unlinkSync, writeSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/logging/logger.js';
import type { StreamsConfig } from '../../src/index.js';
import type { GeneratedEvent } from '../../examples/sessionize/generator.js';
import { readTopic } from '../../examples/sessionize/kafka-io.js';
import { LevelDbBytesStore } from '../../src/stores/leveldb-bytes-store.js';
import { makeReadOnly } from '../unit/support/read-only-folder.js';
import { brokers, createTopics } from './kafka-env.js';
import { SessionizeHarness, waitForState, type Instance } from './sessionize-harness.js';

const STORE = 'session-stats';

let harness: SessionizeHarness | undefined;
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

/** A logger that keeps what it is told, for assertions. */
interface Line {
  readonly level: string;
  readonly message: string;
  readonly fields?: Record<string, unknown>;
}

function capturingLogger(): Logger & { readonly lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, fields });
  return { lines, debug: () => {}, info: () => {}, warn: at('warn'), error: at('error') };
}

/** Every task's folder of the session store: `<stateDir>/<applicationId>/<taskId>/session-stats`. */
function storeFolders(stateDir: string, applicationId: string): string[] {
  const root = join(stateDir, applicationId);
  return readdirSync(root)
    .map((task) => join(root, task, STORE))
    .filter((path) => existsSync(path))
    .sort();
}

/** A session store's LevelDB folders: the store's own (its meta database) and one per live segment. */
function levelDbFolders(store: string): string[] {
  const segments = join(store, 'segments');
  return [store, ...(existsSync(segments) ? readdirSync(segments).map((name) => join(segments, name)) : [])];
}

function files(path: string, suffix: string): string[] {
  return readdirSync(path)
    .filter((f) => f.endsWith(suffix))
    .map((f) => join(path, f));
}

interface Scenario {
  readonly guarantee?: 'at_least_once' | 'exactly_once_v2';
  /** Damages the stopped instance's state; returns the store folders it damaged. */
  damage(stateDir: string, stores: string[]): Promise<string[]> | string[];
  /** What the WARN says about each damaged store. */
  readonly reason: RegExp;
}

/** Run, stop, damage, produce more, run again on the same folder: the results must equal the oracle. */
async function restartsOnDamagedState({ guarantee = 'at_least_once', damage, reason }: Scenario): Promise<{ second: Instance; warns: string[] }> {
  harness = new SessionizeHarness(guarantee);
  const h = harness;
  await h.createTopics();
  const dlq = `${h.applicationId}-dead-letters`;
  await createTopics([{ topic: dlq, numPartitions: 1 }]);
  const overrides = (logger: Logger): Partial<StreamsConfig> => ({ logger, processingExceptionHandler: { deadLetterTopic: dlq } });

  // Two runs, as a real store ages: the second open turns the first run's log into tables; the second run
  // writes other users in two commits (with the newest changelog position) to a new log. A damage that loses
  // the tables but keeps the log, or the log's first block but not the later ones, then leaves a position
  // whose data is gone.
  const stateDir = h.newStateDir();
  for (const batches of [[users('a-', 3000, 31)], [users('b-', 2000, 32), users('c-', 2000, 33)]]) {
    const run = await h.start(stateDir, overrides(capturingLogger()));
    for (const events of batches) {
      await h.produce(events);
      await waitForState(run.app, 'RUNNING');
      await h.waitForLagZero();
    }
    await run.app.close();
  }
  await h.expectOracle();
  const stores = storeFolders(stateDir, h.applicationId);
  expect(stores.length).toBeGreaterThan(0);
  const damaged = await damage(stateDir, stores);
  expect(damaged.length).toBeGreaterThan(0);

  // New views of users whose sessions the damage took (a-, b-) merge into them.
  await h.produce([...users('a-', 2000, 34), ...users('b-', 1000, 35)]);
  const logger = capturingLogger();
  const second = await h.start(stateDir, overrides(logger));
  await waitForState(second.app, 'RUNNING');
  await h.waitForLagZero();
  await second.app.close();
  await h.expectOracle();

  const warns = logger.lines.filter((l) => l.level === 'warn').map((l) => l.message);
  for (const path of damaged) {
    expect(warns.find((w) => w.includes(path)), `a WARN naming ${path}`).toMatch(reason);
  }
  expect(second.restoredTotal()).toBeGreaterThan(0);
  expect(second.app.metrics().deadLetterRecordsTotal).toBe(0);
  expect(await readTopic(brokers(), dlq, 1, false)).toEqual([]);
  return { second, warns };
}

/** Generated views, with user ids under `prefix` so that batches of views can concern different users. */
function users(prefix: string, count: number, seed: number): GeneratedEvent[] {
  return SessionizeHarness.events(count, seed).map((e) => ({ ...e, view: { ...e.view, userId: `${prefix}${e.view.userId}` } }));
}

function overwrite(file: string, at: number, bytes: Buffer): void {
  const fd = openSync(file, 'r+');
  writeSync(fd, bytes, 0, bytes.length, at);
  closeSync(fd);
}

describe('damaged state is never trusted', () => {
  it('garbage in the middle of a store log: detected on open, wiped, restored to the oracle', async () => {
    await restartsOnDamagedState({
      // (LevelDB drops the rest of a 32 KiB block after a bad record; these logs are smaller, so without the
      // check the loss would look like a crash's. The unit tests show the silent loss on a larger log.)
      damage: (_dir, stores) =>
        stores.filter((store) => {
          const [log] = levelDbFolders(store)
            .flatMap((folder) => files(folder, '.log'))
            .sort((a, b) => statSync(b).size - statSync(a).size);
          if (log === undefined || statSync(log).size < 2000) return false;
          overwrite(log, Math.floor(statSync(log).size / 2), randomBytes(256));
          return true;
        }),
      reason: /cannot be trusted: log \d+\.log: checksum mismatch at offset \d+( \(segment [0-9a-f]+\))?; wiping it, restoring it from its changelog/,
    });
  });

  it('a truncated table: detected on open (not when a record first reads it), restored to the oracle', async () => {
    await restartsOnDamagedState({
      guarantee: 'exactly_once_v2',
      damage: async (_dir, stores) => {
        const damaged: string[] = [];
        for (const store of stores) {
          // Opening turns the log into a table; a segment's table is damaged if there is one, else the meta's.
          for (const folder of levelDbFolders(store)) await (await LevelDbBytesStore.open(folder)).close();
          const [table] = levelDbFolders(store)
            .reverse()
            .flatMap((folder) => files(folder, '.ldb'));
          if (table === undefined) continue;
          truncateSync(table, Math.floor(statSync(table).size / 2));
          damaged.push(store);
        }
        return damaged;
      },
      reason: /cannot be trusted: table \d+\.ldb is \d+ bytes where the manifest says \d+( \(segment [0-9a-f]+\))?; wiping it/,
    });
  });

  it('a missing CURRENT: not opened as a fresh empty store, restored to the oracle', async () => {
    await restartsOnDamagedState({
      damage: (_dir, stores) => {
        for (const store of stores) unlinkSync(join(store, 'CURRENT'));
        return stores;
      },
      reason: /cannot be trusted: its CURRENT file is missing/,
    });
  });

  it("a store folder deleted while the task's .checkpoint remains: restored to the oracle", async () => {
    await restartsOnDamagedState({
      damage: (_dir, stores) => {
        for (const store of stores) {
          expect(existsSync(join(store, '..', '.checkpoint'))).toBe(true);
          rmSync(store, { recursive: true });
        }
        return stores;
      },
      reason: /cannot be trusted: its folder is missing while the task's \.checkpoint records offset \d+/,
    });
  });

  it("a position beyond the changelog's end (store and .checkpoint): wiped and restored to the oracle", async () => {
    await restartsOnDamagedState({
      guarantee: 'exactly_once_v2',
      damage: async (_dir, stores) => {
        for (const store of stores) {
          const bytes = await LevelDbBytesStore.open(store);
          const position = bytes.changelogPosition();
          expect(position).toBeDefined();
          await bytes.apply([], position! + 1000n);
          await bytes.close();
          const file = join(store, '..', '.checkpoint');
          const checkpoint = JSON.parse(readFileSync(file, 'utf8')) as { positions: Record<string, string> };
          for (const topic of Object.keys(checkpoint.positions)) checkpoint.positions[topic] = String(position! + 1000n);
          writeFileSync(file, JSON.stringify(checkpoint));
        }
        return stores;
      },
      reason: /at changelog offset \d+, beyond the changelog's end \d+; wiping it, restoring it from its changelog/,
    });
  });

  it('a read-only state folder: fails with a StateStoreError naming the path, wipes nothing, runs once writable', async (ctx) => {
    // Exactly-once: under at-least-once, what the failing instance's stateless upstream tasks wrote to the
    // repartition topic past their last commit may be written again after the restart (CI once saw a session
    // counted exactly twice). At-least-once allows that; this test is about the state folder.
    harness = new SessionizeHarness('exactly_once_v2');
    const h = harness;
    await h.createTopics();
    await h.produce(SessionizeHarness.events(2000, 41));
    const stateDir = h.newStateDir();
    const first = await h.start(stateDir, { logger: capturingLogger() });
    await waitForState(first.app, 'RUNNING');
    await h.waitForLagZero();
    await first.app.close();
    const stores = storeFolders(stateDir, h.applicationId);
    const before = stores.map((s) => readdirSync(s).sort());

    await h.produce(SessionizeHarness.events(1000, 42));
    const undo = makeReadOnly(stateDir);
    if (undo === undefined) return ctx.skip();
    const logger = capturingLogger();
    try {
      const failing = await h.start(stateDir, { logger });
      await waitForState(failing.app, 'ERROR');
      // The fatal error, as the instance logs it: its message and its stack (which starts with its class).
      const fatal = logger.lines.find((l) => l.level === 'error' && l.message.startsWith('processing failed'));
      expect(String(fatal?.fields?.stack)).toMatch(/^StateStoreError: /);
      expect(fatal?.message).toMatch(new RegExp(`${stateDir}/${h.applicationId}/\\d+_\\d+/${STORE}`));
      expect(fatal?.message).toMatch(/read-only file system|permission denied/i);
      await failing.app.close();
    } finally {
      undo();
    }
    expect(stores.map((s) => readdirSync(s).sort())).toEqual(before);
    expect(logger.lines.filter((l) => l.message.includes('cannot be trusted'))).toEqual([]);

    // Writable again: the same state is used as it was (only the tail restored), and the results are right.
    const again = await h.start(stateDir, { logger: capturingLogger() });
    await waitForState(again.app, 'RUNNING');
    await h.waitForLagZero();
    await again.app.close();
    await h.expectOracle();
  });
});
