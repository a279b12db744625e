/**
 * A state folder written in the previous layout (a session store with one value per key for all its
 * sessions, no recorded layout) is never read as if segmented: the task opening it logs why, wipes it, and
 * starts from an empty store at no changelog position, so restoration rebuilds it from the changelog. The
 * same holds for a segmented store of the single-LevelDB layout, now one LevelDB per segment.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Consumed, Materialized, Serdes, SessionWindows, StreamsBuilder } from '../../src/index.js';
import { resolveConfig } from '../../src/config/streams-config.js';
import type { Logger } from '../../src/logging/logger.js';
import { ActiveTask } from '../../src/runtime/active-task.js';
import type { ProducerPipeline } from '../../src/runtime/producer-pipeline.js';
import { encodeSessions } from '../../src/stores/bucket-codec.js';
import { LevelDbBytesStore } from '../../src/stores/leveldb-bytes-store.js';
import { SegmentedLevelDbBytesStore } from '../../src/stores/segmented-leveldb-bytes-store.js';
import { Segments } from '../../src/stores/segments.js';
import type { SessionStore } from '../../src/stores/state-store.js';
import { tempDirs } from './support/temp-dirs.js';

const tempDir = tempDirs('migration-');

function topology() {
  const builder = new StreamsBuilder();
  builder
    .stream('in', Consumed.with(Serdes.String(), Serdes.String()))
    .groupByKey()
    .windowedBy(SessionWindows.ofInactivityGapWithNoGrace(60_000))
    .count(Materialized.as<string, number>('sessions'));
  return builder.build({ applicationId: 'migration' });
}

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, error() {}, warn: (message: string) => void warnings.push(message) };
}

async function openTask(stateDir: string, logger: Logger): Promise<ActiveTask> {
  const config = resolveConfig({
    applicationId: 'migration',
    bootstrapServers: ['unused:9092'],
    stateDir,
  });
  // Opening reads no topic: the pipeline is only kept for processing.
  return ActiveTask.open(topology(), 0, 0, config, logger, {} as ProducerPipeline, () => 1, 1 << 20, Number.NEGATIVE_INFINITY);
}

/**
 * Opens the task on the old folder: one WARN saying why, and an empty session store (one LevelDB per
 * segment) at no changelog position, so restoration reads the whole changelog. Opened again, the layout it
 * now records is its own: nothing to say, nothing wiped.
 */
async function expectWipedOnceThenQuiet(stateDir: string, warning: RegExp): Promise<void> {
  const logger = recordingLogger();
  const task = await openTask(stateDir, logger);
  expect(logger.warnings).toHaveLength(1);
  expect(logger.warnings[0]).toMatch(warning);
  const store = task.streamTask.stores.get('sessions')!;
  expect(store.bytes).toBeInstanceOf(SegmentedLevelDbBytesStore);
  expect(store.bytes.changelogPosition()).toBeUndefined();
  expect((store as unknown as SessionStore<string, number>).fetch('u')).toEqual([]);
  await task.close();

  const again = recordingLogger();
  await (await openTask(stateDir, again)).close();
  expect(again.warnings).toEqual([]);
}

describe('store layout migration', () => {
  it('rebuilds a session store of the bucketed layout from its changelog, with a WARN saying why', async () => {
    const stateDir = tempDir();
    const storePath = join(stateDir, 'migration', '0_0', 'sessions');
    // What the previous version left: every session of key 'u' in one value under the key's bytes.
    const old = await LevelDbBytesStore.open(storePath);
    await old.apply([[Buffer.from('u'), encodeSessions([{ start: 0, end: 1000, value: Buffer.from([0, 0, 0, 0, 0, 0, 0, 3]) }], (b) => b)]], 7n);
    await old.close();

    await expectWipedOnceThenQuiet(
      stateDir,
      /store sessions .* written by an earlier version in the session layout without segments .* wiping it, restoring it from its changelog/,
    );
  });

  it('rebuilds a session store of the single-LevelDB segmented layout as one LevelDB per segment', async () => {
    const stateDir = tempDir();
    const storePath = join(stateDir, 'migration', '0_0', 'sessions');
    // What the previous version left: segment keys in the store's own LevelDB, its layout recorded.
    const old = await LevelDbBytesStore.open(storePath);
    await old.apply([[new Segments(61_000).key(0, Buffer.from('u')), Buffer.from([1])]], 7n);
    await old.putMetadata('layout', Buffer.from('session/segmented-v2'));
    await old.close();

    await expectWipedOnceThenQuiet(
      stateDir,
      /store sessions .* written in layout session\/segmented-v2, this version reads session\/segment-databases-v3; wiping it, restoring it from its changelog/,
    );
  });
});
