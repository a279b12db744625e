/**
 * A task's state on disk without a broker (LevelDB is real): the state manager opens and verifies the
 * stores of a task, wipes a damaged one or one missing where the task's `.checkpoint` says it was, restores
 * from a changelog, and writes the checkpoint, for an active task and for a standby replica.
 */
import { existsSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Consumed, Materialized, Serdes, StreamsBuilder } from '../../src/index.js';
import { resolveConfig } from '../../src/config/streams-config.js';
import type { Logger } from '../../src/logging/logger.js';
import type { ChangelogReader } from '../../src/runtime/changelog-reader.js';
import type { RestoringPartition } from '../../src/runtime/state-restore-listener.js';
import { TaskStateManager, type StateRole } from '../../src/runtime/state/task-state-manager.js';
import type { BytesEntry } from '../../src/stores/bytes-store.js';
import { createStore } from '../../src/stores/store-factory.js';
import { tempDirs } from './support/temp-dirs.js';

const tempDir = tempDirs('task-state-');
const CHANGELOG = 'state-counts-changelog';

function topology() {
  const builder = new StreamsBuilder();
  builder.stream('in', Consumed.with(Serdes.String(), Serdes.String())).groupByKey().count(Materialized.as<string, number>('counts'));
  return builder.build({ applicationId: 'state' });
}

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, error() {}, warn: (message: string) => void warnings.push(message) };
}

function manager(stateDir: string, role: StateRole, logger: Logger = recordingLogger()): TaskStateManager {
  const config = resolveConfig({ applicationId: 'state', bootstrapServers: ['unused:9092'], stateDir });
  return new TaskStateManager({ topology: topology(), subtopologyId: 0, partition: 1, config, logger, role });
}

const definitions = () => topology().subtopologies[0]!.stores;

/** Opens the task's stores, writes them at `position` (with a checkpoint) and closes them. */
async function writeState(stateDir: string, position: bigint): Promise<void> {
  const state = manager(stateDir, 'active');
  const opened = await state.openStores(definitions());
  const bytes = opened.get('counts')!;
  await bytes.apply([[Buffer.from('k'), Buffer.from('v')]], position);
  await state.writeCheckpoint([{ definition: definitions()[0]!, bytes }]);
  await bytes.close();
}

/** A reader over an in-memory changelog: [from, to) in fetches of two records. */
function readerOf(changelog: BytesEntry[]): ChangelogReader {
  return {
    endOffset: async () => BigInt(changelog.length),
    async read(_topic: string, _partition: number, from: bigint, to: bigint, _maxBytes: number, onBatch: (records: BytesEntry[], next: bigint, schemas: ReadonlySet<string>) => Promise<void>) {
      for (let offset = Number(from); offset < Number(to); offset += 2) {
        const end = Math.min(offset + 2, Number(to));
        await onBatch(changelog.slice(offset, end), BigInt(end), new Set());
      }
    },
  } as unknown as ChangelogReader;
}

describe('TaskStateManager', () => {
  it("opens a task's stores in its folder and checkpoints their positions; an active task without any writes no file", async () => {
    const stateDir = tempDir();
    const state = manager(stateDir, 'active');
    expect(state.directory).toBe(join(stateDir, 'state', '0_1'));
    const opened = await state.openStores(definitions());
    const bytes = opened.get('counts')!;
    await state.writeCheckpoint([{ definition: definitions()[0]!, bytes }]);
    expect(existsSync(join(state.directory, '.checkpoint'))).toBe(false);
    await bytes.apply([], 12n);
    await state.writeCheckpoint([{ definition: definitions()[0]!, bytes }]);
    expect(JSON.parse(readFileSync(join(state.directory, '.checkpoint'), 'utf8'))).toEqual({ partition: 1, positions: { [CHANGELOG]: '12' } });
    await bytes.close();
  });

  it('a standby writes its checkpoint even without positions, marked standby', async () => {
    const state = manager(tempDir(), 'standby');
    const bytes = (await state.openStores(definitions())).get('counts')!;
    await state.writeCheckpoint([{ definition: definitions()[0]!, bytes }]);
    expect(JSON.parse(readFileSync(join(state.directory, '.checkpoint'), 'utf8'))).toEqual({ partition: 1, positions: {}, standby: true });
    await bytes.close();
  });

  it("a store folder deleted while the task's .checkpoint remains: an active task wipes it with a WARN; a standby says nothing", async () => {
    const stateDir = tempDir();
    await writeState(stateDir, 5n);
    const path = join(stateDir, 'state', '0_1', 'counts');
    rmSync(path, { recursive: true });
    const standbyLogger = recordingLogger();
    const replica = (await manager(stateDir, 'standby', standbyLogger).openStores(definitions())).get('counts')!;
    expect(standbyLogger.warnings).toEqual([]);
    await replica.close();
    rmSync(path, { recursive: true });
    const logger = recordingLogger();
    const bytes = (await manager(stateDir, 'active', logger).openStores(definitions())).get('counts')!;
    expect(logger.warnings).toEqual([
      `task 0_1: store counts at ${path} cannot be trusted: its folder is missing while the task's .checkpoint records offset 5; wiping it, restoring it from its changelog`,
    ]);
    expect(bytes.changelogPosition()).toBeUndefined();
    await bytes.close();
  });

  it('a damaged store is wiped and opened empty, with the WARN of its owner', async () => {
    for (const role of ['active', 'standby'] as const) {
      const stateDir = tempDir();
      await writeState(stateDir, 5n);
      const path = join(stateDir, 'state', '0_1', 'counts');
      unlinkSync(join(path, 'CURRENT'));
      const logger = recordingLogger();
      const bytes = (await manager(stateDir, role, logger).openStores(definitions())).get('counts')!;
      expect(logger.warnings).toHaveLength(1);
      const [owner, next] =
        role === 'active' ? [`task 0_1: store counts`, 'wiping it, restoring it from its changelog'] : [`standby 0_1: replica of counts`, 'wiping it, reading its changelog again'];
      expect(logger.warnings[0]).toContain(`${owner} at ${path} cannot be trusted: its CURRENT file is missing`);
      expect(logger.warnings[0]).toMatch(new RegExp(`; ${next}$`));
      expect(bytes.changelogPosition()).toBeUndefined();
      expect(bytes.get(Buffer.from('k'))).toBeUndefined();
      await bytes.close();
    }
  });

  it('an unreadable .checkpoint is none: the stores open as they are', async () => {
    const stateDir = tempDir();
    await writeState(stateDir, 5n);
    writeFileSync(join(stateDir, 'state', '0_1', '.checkpoint'), '{"partition": 1, "posit');
    const logger = recordingLogger();
    const bytes = (await manager(stateDir, 'active', logger).openStores(definitions())).get('counts')!;
    expect(logger.warnings).toEqual([]);
    expect(bytes.changelogPosition()).toBe(5n);
    await bytes.close();
  });

  it('restores an active store from its changelog, telling the listener, and wipes one ahead of the changelog first', async () => {
    const stateDir = tempDir();
    await writeState(stateDir, 50n);
    const logger = recordingLogger();
    const state = manager(stateDir, 'active', logger);
    const definition = definitions()[0]!;
    const store = createStore(definition, (await state.openStores([definition])).get('counts')!, 1 << 20);
    const changelog: BytesEntry[] = ['a', 'b', 'c', 'd', 'e'].map((k, i) => [Buffer.from(k), Buffer.from([0, 0, 0, 0, 0, 0, 0, i])]);
    const events: string[] = [];
    const restored = await state.restore([store], readerOf(changelog), () => undefined, {
      onRestoreStart: (p: RestoringPartition, start, end) => events.push(`start ${p.taskId} ${p.storeName} ${p.topic}-${p.partition} ${start} ${end}`),
      onBatchRestored: (_p, next, count) => events.push(`batch ${next} ${count}`),
      onRestoreEnd: (_p, total) => events.push(`end ${total}`),
    });
    expect(restored).toBe(5);
    expect(logger.warnings).toEqual([
      `task 0_1: store counts at ${state.storePath(definition)} is at changelog offset 50, beyond the changelog's end 5; wiping it, restoring it from its changelog`,
    ]);
    expect(events).toEqual([`start 0_1 counts ${CHANGELOG}-1 0 5`, 'batch 2 2', 'batch 4 2', 'batch 5 1', 'end 5']);
    expect(store.bytes.changelogPosition()).toBe(5n);
    expect(store.bytes.get(Buffer.from('k'))).toBeUndefined();
    // Restored up to the end: nothing more to read next time.
    expect(await state.restore([store], readerOf(changelog), () => undefined, undefined)).toBe(0);
    await store.bytes.close();
  });
});
