/**
 * The state inspector (`kstreams state`) over real LevelDB folders written by the runtime's own store stack
 * (TaskStateManager opens them, the typed stores write through the cache and the change-logging layer, the
 * commit applies each flush with its changelog position): it reads every store layout (timestamped
 * key-value, segmented session and window stores) through the topology's serdes or as raw bytes, agrees
 * with the changelog the same stores wrote, lists a state directory, and copies a store consistently while
 * its owner keeps writing.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Consumed, Materialized, Serdes, SessionWindows, StreamsBuilder, TimeWindows, type Topology } from '../../src/index.js';
import { resolveConfig } from '../../src/config/streams-config.js';
import type { Logger } from '../../src/logging/logger.js';
import { TaskStateManager, type StateRole } from '../../src/runtime/state/task-state-manager.js';
import type { BytesEntry } from '../../src/stores/bytes-store.js';
import { ChangeLogging } from '../../src/stores/change-logging.js';
import { LevelDbBytesStore } from '../../src/stores/leveldb-bytes-store.js';
import type { ManagedStore } from '../../src/stores/managed-store.js';
import { SegmentedLevelDbBytesStore } from '../../src/stores/segmented-leveldb-bytes-store.js';
import type { KeyValueStore, SessionStore, WindowStore } from '../../src/stores/state-store.js';
import { createStore } from '../../src/stores/store-factory.js';
import { snapshotStore } from '../../src/stores/store-snapshot.js';
import { openStoreCopy, readLocalStore } from '../../src/tools/state/local-store-reader.js';
import { formatStateListing, listState } from '../../src/tools/state/state-listing.js';
import { formatEntry, keyBytesOf, matchesKey } from '../../src/tools/state/state-output.js';
import { ChangelogFold, shapeFromDefinition, type StateEntry } from '../../src/tools/state/store-shape.js';
import { tempDirs } from './support/temp-dirs.js';

const tempDir = tempDirs('state-inspector-');
const APP = 'inspect';
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** One stream feeding a counted table, a session aggregate and a windowed count: three store layouts, sub-topology 0. */
function buildTopology(): Topology {
  const builder = new StreamsBuilder();
  const views = builder.stream('views', Consumed.with(Serdes.String(), Serdes.Int32())).groupByKey();
  views.count(Materialized.as<string, number>('counts'));
  views
    .windowedBy(SessionWindows.ofInactivityGapWithNoGrace(120 * MINUTE))
    .aggregate(() => 0, (_k, v, agg) => agg + v, (_k, a, b) => a + b, Materialized.as<string, number>('sessions').withValueSerde(Serdes.Int32()));
  views.windowedBy(TimeWindows.ofSizeWithNoGrace(MINUTE)).count(Materialized.as<string, number>('windows').withRetention(DAY));
  return builder.build({ applicationId: APP });
}

interface OpenTask {
  readonly stores: Map<string, ManagedStore>;
  /** Every changelog record each store logged, in order (its offset is its index). */
  readonly changelog: Map<string, BytesEntry[]>;
  commit(): Promise<void>;
  close(): Promise<void>;
}

/** A task's stores opened as the runtime opens them, in `<stateDir>/inspect/0_<partition>`. */
async function openTask(stateDir: string, partition: number, role: StateRole = 'active'): Promise<OpenTask> {
  const topology = buildTopology();
  const config = resolveConfig({ applicationId: APP, bootstrapServers: ['unused:9092'], stateDir });
  const state = new TaskStateManager({ topology, subtopologyId: 0, partition, config, logger: silent, role });
  const definitions = topology.subtopologies[0]!.stores;
  const bytes = await state.openStores(definitions);
  const changelog = new Map<string, BytesEntry[]>();
  const stores = new Map<string, ManagedStore>();
  for (const definition of definitions) {
    const records: BytesEntry[] = [];
    changelog.set(definition.name, records);
    const logging = ChangeLogging.of(definition, APP, { send: (r) => void records.push([r.key, r.value]) });
    stores.set(definition.name, createStore(definition, bytes.get(definition.name)!, 1024 * 1024, logging));
  }
  return {
    stores,
    changelog,
    async commit() {
      for (const store of stores.values()) {
        const local = store.flush();
        await store.bytes.apply(local, BigInt(changelog.get(store.name)!.length));
        store.written(store.lastFlush);
        await store.dropExpired();
      }
      await state.writeCheckpoint(stores.values());
    },
    async close() {
      for (const store of stores.values()) await store.bytes.close();
    },
  };
}

function storesOf(task: OpenTask) {
  return {
    counts: task.stores.get('counts') as unknown as KeyValueStore<string, number> & { putWithTimestamp(k: string, v: number | null, ts: number): void },
    sessions: task.stores.get('sessions') as unknown as SessionStore<string, number>,
    windows: task.stores.get('windows') as unknown as WindowStore<string, number> & { putWithTimestamp(k: string, v: number | null, start: number, ts: number): void },
  };
}

/** Writes a day of a few users' activity into task 0_<partition>, committing between steps. */
async function writeActivity(task: OpenTask): Promise<void> {
  const { counts, sessions, windows } = storesOf(task);
  counts.putWithTimestamp('alice', 3, 1_000);
  counts.putWithTimestamp('bob', 1, 2_000);
  counts.putWithTimestamp('carol', 7, 3_000);
  sessions.put({ key: 'alice', window: { start: 0, end: 5 * MINUTE } }, 2);
  sessions.put({ key: 'bob', window: { start: MINUTE, end: MINUTE } }, 1);
  windows.putWithTimestamp('alice', 2, 0, 30_000);
  windows.putWithTimestamp('alice', 1, MINUTE, 70_000);
  await task.commit();
  // The session grows (the old one removed, the merged one put), carol is deleted, a later window.
  sessions.remove({ key: 'alice', window: { start: 0, end: 5 * MINUTE } });
  sessions.put({ key: 'alice', window: { start: 0, end: 8 * MINUTE } }, 3);
  sessions.put({ key: 'alice', window: { start: 60 * MINUTE, end: 61 * MINUTE } }, 1);
  counts.putWithTimestamp('carol', null, 4_000);
  counts.putWithTimestamp('alice', 4, 5_000);
  windows.putWithTimestamp('bob', 1, 60 * MINUTE, 60 * MINUTE + 1);
  await task.commit();
}

async function collect(entries: AsyncIterable<StateEntry>): Promise<Array<Omit<StateEntry, 'keyBytes'>>> {
  const out: Array<Omit<StateEntry, 'keyBytes'>> = [];
  for await (const { keyBytes: _, ...entry } of entries) out.push(entry);
  return out;
}

/** The same entries as the changelog of the store would restore them. */
function fromChangelog(task: OpenTask, store: string, taskId: string): Array<Omit<StateEntry, 'keyBytes'>> {
  const fold = new ChangelogFold(shapeFromDefinition(buildTopology().stores.get(store)!), taskId);
  for (const [key, value] of task.changelog.get(store)!) fold.add(key, value);
  return fold.entries().map(({ keyBytes: _, ...entry }) => entry);
}

const byKeyAndWindow = (a: Omit<StateEntry, 'keyBytes'>, b: Omit<StateEntry, 'keyBytes'>): number =>
  String(a.key).localeCompare(String(b.key)) || (a.window?.start ?? 0) - (b.window?.start ?? 0);

describe('kstreams state: reading stores', () => {
  it('reads each store layout through the topology serdes, while the owner still has it open, as its changelog restores it', async () => {
    const stateDir = tempDir();
    const task = await openTask(stateDir, 0);
    await writeActivity(task);
    const topology = buildTopology();
    const read = (store: string) => collect(readLocalStore({ stateDir, applicationId: APP, store, topology }));
    try {
      // The owner holds LevelDB's lock on every folder: the inspector reads copies.
      const counts = await read('counts');
      expect(counts).toEqual([
        { task: '0_0', key: 'alice', value: 4, timestamp: 5_000 },
        { task: '0_0', key: 'bob', value: 1, timestamp: 2_000 },
      ]);
      const sessions = await read('sessions');
      expect(sessions.sort(byKeyAndWindow)).toEqual([
        { task: '0_0', key: 'alice', window: { start: 0, end: 8 * MINUTE }, value: 3 },
        { task: '0_0', key: 'alice', window: { start: 60 * MINUTE, end: 61 * MINUTE }, value: 1 },
        { task: '0_0', key: 'bob', window: { start: MINUTE, end: MINUTE }, value: 1 },
      ]);
      const windows = await read('windows');
      expect(windows.sort(byKeyAndWindow)).toEqual([
        { task: '0_0', key: 'alice', window: { start: 0, end: MINUTE }, value: 2, timestamp: 30_000 },
        { task: '0_0', key: 'alice', window: { start: MINUTE, end: 2 * MINUTE }, value: 1, timestamp: 70_000 },
        { task: '0_0', key: 'bob', window: { start: 60 * MINUTE, end: 61 * MINUTE }, value: 1, timestamp: 60 * MINUTE + 1 },
      ]);
      // The changelog the same stores wrote folds to the same entries (latest per key, tombstones honoured).
      expect(fromChangelog(task, 'counts', '0_0')).toEqual(counts);
      expect(fromChangelog(task, 'sessions', '0_0').sort(byKeyAndWindow)).toEqual(sessions);
      expect(fromChangelog(task, 'windows', '0_0').sort(byKeyAndWindow)).toEqual(windows);
      // What the typed store serves, the inspector prints.
      const { sessions: live } = storesOf(task);
      expect(live.fetch('alice').map((s) => ({ window: s.key.window, value: s.value }))).toEqual(
        sessions.filter((s) => s.key === 'alice').map((s) => ({ window: s.window, value: s.value })),
      );
    } finally {
      await task.close();
    }
    // And after the owner closed it, the same (the folder itself was never written: it opens as before).
    expect(await read('counts')).toHaveLength(2);
  });

  it('leaves out sessions and windows the store expired but has not dropped yet, as its reads do', async () => {
    const stateDir = tempDir();
    const task = await openTask(stateDir, 0);
    const { windows } = storesOf(task);
    // The windowed count keeps a day; a window 2 days later expires the first.
    windows.putWithTimestamp('old', 1, 0, 0);
    windows.putWithTimestamp('new', 1, 2 * 24 * 60 * MINUTE, 0);
    await task.commit();
    await task.close();
    const entries = await collect(readLocalStore({ stateDir, applicationId: APP, store: 'windows', topology: buildTopology() }));
    expect(entries.map((e) => e.key)).toEqual(['new']);
    expect(fromChangelog(task, 'windows', '0_0').map((e) => e.key)).toEqual(['new']);
  });

  it('reads raw bytes without a topology, the kind from the layout the runtime recorded in the store', async () => {
    const stateDir = tempDir();
    const task = await openTask(stateDir, 1);
    await writeActivity(task);
    await task.close();
    const counts = await collect(readLocalStore({ stateDir, applicationId: APP, store: 'counts' }));
    expect(counts.map((e) => formatEntry({ ...e, keyBytes: Buffer.alloc(0) }, 'hex'))).toEqual([
      // Int64 count 4 (Serdes.Long), with its timestamp split off: the store is a timestamped key-value store.
      '{"task":"0_1","key":"616c696365","value":"0000000000000004","timestamp":5000}',
      '{"task":"0_1","key":"626f62","value":"0000000000000001","timestamp":2000}',
    ]);
    const sessions = await collect(readLocalStore({ stateDir, applicationId: APP, store: 'sessions' }));
    expect(sessions).toContainEqual({ task: '0_1', key: Buffer.from('bob'), window: { start: MINUTE, end: MINUTE }, value: Buffer.from([0, 0, 0, 1]) });
    // Without the window size, a window's end is unknown.
    const windows = await collect(readLocalStore({ stateDir, applicationId: APP, store: 'windows' }));
    expect(windows[0]!.window).toEqual({ start: expect.any(Number) as number });
  });

  it('matches --key through the key serde, or as its bytes', () => {
    const entry = (key: string): StateEntry => ({ task: '0_0', key, value: 1, keyBytes: Buffer.from(key) });
    expect(matchesKey(entry('alice'), keyBytesOf('alice', undefined, Serdes.String()))).toBe(true);
    expect(matchesKey(entry('bob'), keyBytesOf('alice', undefined, Serdes.String()))).toBe(false);
    expect(keyBytesOf('42', undefined, Serdes.Long())).toEqual([Buffer.from([0, 0, 0, 0, 0, 0, 0, 42])]);
    expect(keyBytesOf('"a"', undefined, Serdes.Json())).toContainEqual(Buffer.from('"a"'));
    expect(keyBytesOf(undefined, '00ff', undefined)).toEqual([Buffer.from([0, 0xff])]);
    expect(() => keyBytesOf(undefined, '0', undefined)).toThrow(/even number of hex digits/);
  });

  it('refuses clearly: a store no task holds, a topology whose store is of another kind', async () => {
    const stateDir = tempDir();
    const task = await openTask(stateDir, 0);
    await writeActivity(task);
    await task.close();
    await expect(collect(readLocalStore({ stateDir, applicationId: APP, store: 'nope' }))).rejects.toThrow(/No store 'nope' in any task .*kstreams state list/);
    await expect(collect(readLocalStore({ stateDir, applicationId: 'other', store: 'counts' }))).rejects.toThrow(/no state of application 'other'/);
    const other = new StreamsBuilder();
    other.stream('views', Consumed.with(Serdes.String(), Serdes.Int32())).groupByKey().windowedBy(TimeWindows.ofSizeWithNoGrace(MINUTE)).count(Materialized.as('counts'));
    await expect(collect(readLocalStore({ stateDir, applicationId: APP, store: 'counts', topology: other.build({ applicationId: APP }) }))).rejects.toThrow(
      /written in layout keyValue\/timestamped, but the topology declares window/,
    );
  });
});

describe('kstreams state list', () => {
  it('lists tasks, who wrote them, and each store with its kind, size, segments and changelog position', async () => {
    const stateDir = tempDir();
    const active = await openTask(stateDir, 0);
    await writeActivity(active);
    const standby = await openTask(stateDir, 1, 'standby');
    await standby.commit();
    const [app] = await listState({ stateDir, endOffset: async (topic) => (topic.endsWith('-counts-changelog') ? 10n : undefined) });
    await active.close();
    await standby.close();
    expect(app!.applicationId).toBe(APP);
    expect(app!.tasks.map((t) => [t.task, t.role])).toEqual([['0_0', 'active'], ['0_1', 'standby']]);
    const stores = app!.tasks[0]!.stores;
    expect(stores.map((s) => [s.name, s.kind, s.position, s.checkpoint])).toEqual([
      ['counts', 'timestamped key-value', '5', '5'],
      ['sessions', 'session', '5', '5'],
      ['windows', 'timestamped window', '3', '3'],
    ]);
    expect(stores[0]).toMatchObject({ changelogTopic: 'inspect-counts-changelog', endOffset: '10', lag: '5' });
    expect(stores[1]!.segments).toBe(2);
    for (const s of stores) expect(s.bytes).toBeGreaterThan(0);
    const table = formatStateListing([app!], true).split('\n');
    expect(table[0]).toBe(`application inspect (${join(stateDir, APP)}): 2 task folders`);
    expect(table[1]).toMatch(/^TASK\s+ROLE\s+STORE\s+KIND\s+SIZE\s+SEGMENTS\s+POSITION\s+END\s+LAG$/);
    expect(table[2]).toMatch(/^0_0\s+active\s+counts\s+timestamped key-value\s+\d+(\.\d)? (B|KiB)\s+-\s+5\s+10\s+5$/);
  });
});

describe('store snapshots', () => {
  it('copies a segmented store at one instant, never mid-commit, while its owner keeps committing: every segment agrees with the position', async () => {
    const dir = tempDir();
    const path = join(dir, 'store');
    const store = await SegmentedLevelDbBytesStore.open(path);
    await store.putMetadata('layout', Buffer.from('session/segment-databases-v3'));
    const segmentKey = (segment: number): Buffer => Buffer.concat([Buffer.from([0x80, 0, 0, 0, 0, 0, 0, segment]), Buffer.from('k')]);
    let position = 1;
    await store.apply([1, 2, 3].map((s) => [segmentKey(s), Buffer.from('1')] as const), 1n);
    let writing = true;
    // Each commit writes the counter into three segment databases, then the position into the meta database.
    const writer = (async () => {
      while (writing) {
        position++;
        const value = Buffer.from(String(position));
        await store.apply([1, 2, 3].map((s) => [segmentKey(s), value] as const), BigInt(position));
        // A commit every few milliseconds: far more often than an instance commits (commit.interval.ms 100 under exactly-once).
        await new Promise((r) => setTimeout(r, 3));
      }
    })();
    const positions: bigint[] = [];
    try {
      for (let i = 0; i < 8; i++) {
        const copy = await openStoreCopy(path, 'store', undefined, dir);
        const at = copy.store.changelogPosition()!;
        const values = [1, 2, 3].map((s) => copy.store.get(segmentKey(s))?.toString());
        await copy.close();
        positions.push(at);
        expect(values).toEqual([String(at), String(at), String(at)]);
      }
    } finally {
      writing = false;
      await writer;
      await store.close();
    }
    // The copies were taken while the position moved on.
    expect(new Set(positions).size).toBeGreaterThan(1);
  });

  it('leaves the source untouched: its files are byte for byte the same after a copy', async () => {
    const dir = tempDir();
    const path = join(dir, 'kv');
    const store = await LevelDbBytesStore.open(path);
    await store.apply([[Buffer.from('a'), Buffer.from('1')]], 1n);
    const { readdirSync, readFileSync } = await import('node:fs');
    const before = readdirSync(path).map((f) => [f, readFileSync(join(path, f)).toString('base64')]);
    await snapshotStore(path, join(dir, 'copy'));
    const copy = await LevelDbBytesStore.open(join(dir, 'copy'));
    expect(copy.get(Buffer.from('a'))?.toString()).toBe('1');
    await copy.close();
    expect(readdirSync(path).map((f) => [f, readFileSync(join(path, f)).toString('base64')])).toEqual(before);
    await store.close();
  });
});

describe('kstreams state (the command)', () => {
  const repo = resolve(import.meta.dirname, '../..');
  const run = promisify(execFile);
  const kstreams = (args: string[]) => run(join(repo, 'node_modules/.bin/tsx'), ['src/cli/kstreams.ts', 'state', ...args], { cwd: repo });

  it('get prints a key through the topology module; dump --json-lines without one; list as a table', async () => {
    const stateDir = tempDir();
    const task = await openTask(stateDir, 0);
    await writeActivity(task);
    await task.close();
    const module = join(stateDir, 'topology.ts');
    // The test's topology as a user's module: the CLI loads it as 'describe' does.
    writeFileSync(
      module,
      `import { Consumed, Materialized, Serdes, SessionWindows, StreamsBuilder, TimeWindows } from ${JSON.stringify(join(repo, 'src/index.ts'))};\n` +
        `export default function topology() {\n  const b = new StreamsBuilder();\n  const v = b.stream('views', Consumed.with(Serdes.String(), Serdes.Int32())).groupByKey();\n` +
        `  v.count(Materialized.as('counts'));\n  v.windowedBy(SessionWindows.ofInactivityGapWithNoGrace(${120 * MINUTE})).aggregate(() => 0, (_k, x, a) => a + x, (_k, a, c) => a + c, Materialized.as('sessions').withValueSerde(Serdes.Int32()));\n` +
        `  v.windowedBy(TimeWindows.ofSizeWithNoGrace(${MINUTE})).count(Materialized.as('windows').withRetention(${DAY}));\n  return b.build({ applicationId: '${APP}' });\n}\n`,
    );
    const got = await kstreams(['get', '--state-dir', stateDir, '--topology', module, '--store', 'sessions', '--key', 'alice']);
    expect(got.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([
      { task: '0_0', key: 'alice', window: { start: 0, end: 8 * MINUTE }, value: 3 },
      { task: '0_0', key: 'alice', window: { start: 60 * MINUTE, end: 61 * MINUTE }, value: 1 },
    ]);
    const dumped = await kstreams(['dump', '--state-dir', stateDir, '--store', 'counts', '--bytes', 'hex', '--task', '0_0']);
    expect(dumped.stdout).toBe('{"task":"0_0","key":"616c696365","value":"0000000000000004","timestamp":5000}\n{"task":"0_0","key":"626f62","value":"0000000000000001","timestamp":2000}\n');
    const listed = await kstreams(['list', '--state-dir', stateDir]);
    expect(listed.stdout).toMatch(/^0_0\s+active\s+sessions\s+session\s+/m);
    const missing = await kstreams(['get', '--state-dir', stateDir, '--store', 'counts', '--key', 'zed']).catch((err: { code: number; stderr: string }) => err);
    expect(missing).toMatchObject({ code: 4, stderr: expect.stringContaining('no entry of key zed in store counts') as string });
  }, 60_000);
});
