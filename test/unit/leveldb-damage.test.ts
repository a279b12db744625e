import { openSync, readdirSync, statSync, truncateSync, unlinkSync, writeSync, closeSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { describe, expect, it } from 'vitest';
import { Consumed, Produced, Serdes, StreamsBuilder, TopologyTestDriver } from '../../src/index.js';
import { DamagedStoreError, ProcessingError, StateStoreError } from '../../src/errors/errors.js';
import { RecordErrorPolicy, isMachineError } from '../../src/runtime/record-error-policy.js';
import type { ProducerPipeline } from '../../src/runtime/producer-pipeline.js';
import { silentLogger } from '../../src/logging/logger.js';
import { LevelDbBytesStore } from '../../src/stores/leveldb-bytes-store.js';
import { inspectLevelDbFolder } from '../../src/stores/leveldb-files.js';
import { makeReadOnly } from './support/read-only-folder.js';
import { tempDirs } from './support/temp-dirs.js';

const tmp = tempDirs('kstreams-leveldb-damage-');

const key = (i: number) => Buffer.from(`key-${String(i).padStart(7, '0')}`);
const value = (i: number, round: number) => Buffer.from(`{"user":"user-${i % 977}","count":${i * 7 + round},"sum":${(i * 13) % 10007}}`);

/**
 * A store written over `rounds` open/close cycles (each open turns the previous log into a table), the last
 * round's writes left in the log, as a stopped task leaves it.
 */
async function writeStore(path: string, entries: number, rounds = 2): Promise<void> {
  const perRound = Math.ceil(entries / rounds);
  for (let round = 0; round < rounds; round++) {
    const store = await LevelDbBytesStore.open(path);
    for (let i = round * perRound; i < Math.min(entries, (round + 1) * perRound); i += 1000) {
      const batch = [];
      for (let j = i; j < Math.min(i + 1000, entries); j++) batch.push([key(j), value(j, round)] as const);
      await store.apply(batch, BigInt(i + batch.length));
    }
    await store.close();
  }
}

function files(path: string, suffix: string): string[] {
  return readdirSync(path)
    .filter((f) => f.endsWith(suffix))
    .map((f) => join(path, f));
}

function overwrite(file: string, at: number, bytes: Buffer): void {
  const fd = openSync(file, 'r+');
  writeSync(fd, bytes, 0, bytes.length, at);
  closeSync(fd);
}

async function openError(path: string): Promise<Error> {
  return LevelDbBytesStore.open(path).then(
    async (store) => {
      await store.close();
      throw new Error('the store opened');
    },
    (err: Error) => err,
  );
}

describe('LevelDB store: damage is found when the store opens', () => {
  it('opens a sound store, and a missing one as created', async () => {
    const path = join(tmp(), 'store');
    const fresh = await LevelDbBytesStore.open(path);
    expect(fresh.created).toBe(true);
    await fresh.close();
    await writeStore(path, 5000, 3);
    const store = await LevelDbBytesStore.open(path);
    expect(store.created).toBe(false);
    expect(store.changelogPosition()).toBe(5000n);
    expect(store.get(key(4999))).toEqual(value(4999, 2));
    expect(store.get(key(0))).toEqual(value(0, 0));
    await store.close();
  });

  it('garbage in the middle of a log: DamagedStoreError naming the store and the log, files left as found', async () => {
    const path = join(tmp(), 'store');
    await writeStore(path, 4000);
    const [log] = files(path, '.log');
    const size = statSync(log!).size;
    expect(size).toBeGreaterThan(10_000);
    overwrite(log!, Math.floor(size / 2), Buffer.alloc(200, 0x5a));
    const err = await openError(path);
    expect(err).toBeInstanceOf(DamagedStoreError);
    expect(err.message).toContain(path);
    expect(err.message).toMatch(/log \d+\.log: checksum mismatch at offset \d+/);
    // LevelDB never opened it (it would have dropped the bad records and deleted the log).
    expect(statSync(log!).size).toBe(size);
  });

  it('why: LevelDB alone opens such a log, drops the bad block and keeps the later ones, newest position included', async () => {
    const path = join(tmp(), 'store');
    await writeStore(path, 20_000, 1);
    const [log] = files(path, '.log');
    overwrite(log!, Math.floor(statSync(log!).size / 2), Buffer.alloc(200, 0x5a));
    const db = new ClassicLevel<Buffer, Buffer>(path, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    let data = 0;
    for await (const _ of db.keys({ gte: Buffer.from([1]) })) data++;
    const position = (await db.get(Buffer.from('\x00changelog-position', 'latin1')))?.toString();
    await db.close();
    expect(position).toBe('20000');
    expect(data).toBeLessThan(20_000);
  });

  it('zeros over a record header in a log are damage, not padding', async () => {
    const path = join(tmp(), 'store');
    await writeStore(path, 4000);
    const [log] = files(path, '.log');
    overwrite(log!, 0, Buffer.alloc(64));
    expect((await openError(path)).message).toMatch(/zeroed record header at offset 0/);
  });

  it('a record cut short at the end of a log (a crash mid-write) is not damage: the store is at its last whole batch', async () => {
    const path = join(tmp(), 'store');
    await writeStore(path, 4000);
    const [log] = files(path, '.log');
    truncateSync(log!, statSync(log!).size - 10);
    const store = await LevelDbBytesStore.open(path);
    expect(store.changelogPosition()).toBe(3000n);
    expect(store.get(key(2999))).toEqual(value(2999, 1));
    expect(store.get(key(3000))).toBeUndefined();
    await store.close();
  });

  it('a missing CURRENT: damage, and no empty database is created over the old files', async () => {
    const path = join(tmp(), 'store');
    await writeStore(path, 4000);
    unlinkSync(join(path, 'CURRENT'));
    const err = await openError(path);
    expect(err).toBeInstanceOf(DamagedStoreError);
    expect(err.message).toContain(`The store at ${path} is damaged: its CURRENT file is missing`);
    expect(existsSync(join(path, 'CURRENT'))).toBe(false);
  });

  it('a folder a crash left during the very first open (no data, no CURRENT) counts as absent', async () => {
    const path = join(tmp(), 'store');
    const store = await LevelDbBytesStore.open(path);
    await store.close();
    for (const f of readdirSync(path)) if (f === 'CURRENT' || f.endsWith('.log')) unlinkSync(join(path, f));
    const again = await LevelDbBytesStore.open(path);
    expect(again.created).toBe(true);
    await again.close();
  });

  it('a truncated, garbled or missing table is damage', async () => {
    const cases: Array<[string, (table: string) => void, RegExp]> = [
      ['truncated', (t) => truncateSync(t, Math.floor(statSync(t).size / 2)), /table \d+\.ldb is \d+ bytes where the manifest says \d+/],
      ['garbled', (t) => overwrite(t, 1000, Buffer.alloc(100, 0x33)), /table \d+\.ldb: checksum mismatch in the block at offset \d+/],
      ['missing', (t) => unlinkSync(t), /table \d+\.ldb is missing/],
    ];
    for (const [name, damage, reason] of cases) {
      const path = join(tmp(), `store-${name}`);
      await writeStore(path, 4000);
      const [table] = files(path, '.ldb');
      damage(table!);
      const err = await openError(path);
      expect(err, name).toBeInstanceOf(DamagedStoreError);
      expect(err.message, name).toMatch(reason);
    }
  });

  it('damage found while reading (a table first read after it was truncated) is a StateStoreError naming the path', async () => {
    const path = join(tmp(), 'store');
    await writeStore(path, 4000);
    const store = await LevelDbBytesStore.open(path);
    // The oldest table holds keys 0..1999 and was not read by the open. (LevelDB maps tables into memory: one
    // truncated after it was read kills the process with SIGBUS, no error can be raised.)
    const [oldest] = files(path, '.ldb').sort();
    truncateSync(oldest!, 100);
    let error: unknown;
    for (let i = 0; i < 2000 && error === undefined; i += 50) {
      try {
        store.get(key(i));
      } catch (err) {
        error = err;
      }
    }
    await store.close();
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as Error).message).toContain(path);
    // ...and the next open finds it.
    expect(await openError(path)).toBeInstanceOf(DamagedStoreError);
  });

  it('a read-only store folder: StateStoreError naming the path, and nothing wiped', async (ctx) => {
    const root = tmp();
    const path = join(root, 'store');
    await writeStore(path, 1000);
    const before = readdirSync(path).sort();
    const undo = makeReadOnly(root);
    if (undo === undefined) return ctx.skip();
    try {
      const err = await openError(path);
      expect(err).toBeInstanceOf(StateStoreError);
      expect(err).not.toBeInstanceOf(DamagedStoreError);
      expect(err.message).toContain(path);
      expect(err.message).toMatch(/read-only file system|permission denied/i);
      const missing = await openError(join(root, 'other-store'));
      expect(missing).toBeInstanceOf(StateStoreError);
      expect(missing.message).toContain(join(root, 'other-store'));
    } finally {
      undo();
    }
    expect(readdirSync(path).sort()).toEqual(before);
  });

  it('cost of verifying a store of 100 000 entries on open, against a full key scan', async () => {
    const path = join(tmp(), 'store');
    await writeStore(path, 100_000, 4);
    const bytes = readdirSync(path).reduce((n, f) => n + statSync(join(path, f)).size, 0);
    let began = performance.now();
    expect(await inspectLevelDbFolder(path)).toEqual({ kind: 'sound' });
    const verifyMs = performance.now() - began;
    const db = new ClassicLevel<Buffer, Buffer>(path, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    began = performance.now();
    let n = 0;
    for await (const _ of db.iterator({ fillCache: false })) n++;
    const scanMs = performance.now() - began;
    await db.close();
    expect(n).toBe(100_001);
    began = performance.now();
    await (await LevelDbBytesStore.open(path)).close();
    const openMs = performance.now() - began;
    console.log(
      `100 000 entries, ${(bytes / 1e6).toFixed(1)} MB on disk: verification ${verifyMs.toFixed(0)} ms, ` +
        `full key scan ${scanMs.toFixed(0)} ms, open with verification ${openMs.toFixed(0)} ms`,
    );
  });
});

describe('store failures are the machine’s, never a record’s', () => {
  const pipeline = { enqueue: () => expect.fail('nothing may be dead-lettered') } as unknown as ProducerPipeline;
  const record = { topic: 'in', partition: 0, offset: '7', key: null, value: null, timestamp: 0, headers: {} };

  it('a dead-letter policy refuses store errors, also wrapped in a processor’s own error', () => {
    const policy = new RecordErrorPolicy({ deadLetterTopic: 'dlq' }, 'processing', silentLogger);
    const corrupt = new StateStoreError('Could not read the LevelDB store at /state/x: Corruption: truncated block read');
    expect(policy.handle(corrupt, record, pipeline)).toBe(false);
    expect(policy.handle(new ProcessingError(record, 'p', new Error('mine', { cause: corrupt })), record, pipeline)).toBe(false);
    expect(isMachineError(Object.assign(new Error('raw'), { code: 'LEVEL_CORRUPTION' }))).toBe(true);
    expect(policy.deadLettered).toBe(0);
    expect(new RecordErrorPolicy('logAndContinue', 'processing', silentLogger).handle(corrupt, record, pipeline)).toBe(false);
    expect(isMachineError(new ProcessingError(record, 'p', new Error('user bug')))).toBe(false);
  });

  it('a StateStoreError thrown while processing comes out as itself, not as a ProcessingError', () => {
    const builder = new StreamsBuilder();
    builder
      .stream('in', Consumed.with(Serdes.String(), Serdes.String()))
      .mapValues((v) => {
        if (v === 'store') throw new StateStoreError('Could not read the LevelDB store at /state/app/0_0/s: Corruption');
        if (v === 'user') throw new Error('user bug');
        return v;
      })
      .to('out', Produced.with(Serdes.String(), Serdes.String()));
    const driver = new TopologyTestDriver(builder.build({ applicationId: 'machine-errors' }));
    const input = driver.createInputTopic('in', Serdes.String(), Serdes.String());
    let thrown: unknown;
    try {
      input.pipeInput('k', 'store');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(StateStoreError);
    expect((thrown as Error).message).toContain('/state/app/0_0/s');
    expect(() => input.pipeInput('k', 'user')).toThrow(ProcessingError);
  });
});

