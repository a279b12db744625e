/**
 * The `.checkpoint` file: the three shapes written (an active task's, a standby's, the global stores') keep
 * the bytes earlier releases wrote and wrote, one reader reads them all, and a crash between writing the
 * temporary file and renaming it leaves the previous checkpoint readable.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECKPOINT_FILE, CheckpointFile } from '../../src/runtime/state/checkpoint-file.js';
import { tempDirs } from './support/temp-dirs.js';

const tempDir = tempDirs('checkpoint-file-');

describe('CheckpointFile', () => {
  it("writes an active task's checkpoint as earlier releases did, creating the task's folder, and reads it back", async () => {
    const dir = join(tempDir(), '0_3');
    await CheckpointFile.write(dir, { kind: 'task', partition: 3, positions: { 'app-counts-changelog': '42', 'input-topic': '7' } });
    expect(readFileSync(join(dir, CHECKPOINT_FILE), 'utf8')).toBe(
      '{\n  "partition": 3,\n  "positions": {\n    "app-counts-changelog": "42",\n    "input-topic": "7"\n  }\n}\n',
    );
    const expected = new Map([
      ['app-counts-changelog', '42'],
      ['input-topic', '7'],
    ]);
    expect(await CheckpointFile.read(dir)).toEqual(expected);
    expect(CheckpointFile.readSync(dir)).toEqual(expected);
  });

  it("writes a standby's checkpoint marked as such, positions empty or not, and reads it back", async () => {
    const dir = join(tempDir(), '1_0');
    await CheckpointFile.write(dir, { kind: 'standby', partition: 0, positions: {} });
    expect(readFileSync(join(dir, CHECKPOINT_FILE), 'utf8')).toBe('{\n  "partition": 0,\n  "positions": {},\n  "standby": true\n}\n');
    expect(await CheckpointFile.read(dir)).toEqual(new Map());
    await CheckpointFile.write(dir, { kind: 'standby', partition: 0, positions: { 'app-counts-changelog': '9' } });
    expect(JSON.parse(readFileSync(join(dir, CHECKPOINT_FILE), 'utf8'))).toEqual({ partition: 0, positions: { 'app-counts-changelog': '9' }, standby: true });
    expect(await CheckpointFile.read(dir)).toEqual(new Map([['app-counts-changelog', '9']]));
  });

  it("writes the global stores' checkpoint compact, by topic:partition, into their existing folder", async () => {
    const dir = join(tempDir(), 'global');
    // The global folder is made when its stores open, not by the checkpoint.
    await expect(CheckpointFile.write(dir, { kind: 'global', positions: { 'countries:0': '5' } })).rejects.toThrow(/ENOENT/);
    mkdirSync(dir);
    await CheckpointFile.write(dir, { kind: 'global', positions: { 'countries:0': '5', 'countries:1': '12' } });
    expect(readFileSync(join(dir, CHECKPOINT_FILE), 'utf8')).toBe('{"positions":{"countries:0":"5","countries:1":"12"}}');
    expect(await CheckpointFile.read(dir)).toEqual(
      new Map([
        ['countries:0', '5'],
        ['countries:1', '12'],
      ]),
    );
  });

  it('reads no checkpoint from a folder without one, or from a damaged file; a file without positions has none', async () => {
    const dir = tempDir();
    expect(await CheckpointFile.read(dir)).toBeUndefined();
    expect(CheckpointFile.readSync(join(dir, 'missing'))).toBeUndefined();
    for (const damaged of ['{"partition": 0, "positions": {"t": "4', '', 'null']) {
      writeFileSync(join(dir, CHECKPOINT_FILE), damaged);
      expect(await CheckpointFile.read(dir), damaged).toBeUndefined();
      expect(CheckpointFile.readSync(dir), damaged).toBeUndefined();
    }
    writeFileSync(join(dir, CHECKPOINT_FILE), '{"partition": 2}');
    expect(await CheckpointFile.read(dir)).toEqual(new Map());
  });

  it('a crash before the rename leaves the previous checkpoint; the next write replaces the stale temporary file', async () => {
    const dir = tempDir();
    await CheckpointFile.write(dir, { kind: 'task', partition: 0, positions: { t: '10' } });
    // As a crash halfway through the next write leaves it: the temporary file cut short, never renamed.
    writeFileSync(join(dir, `${CHECKPOINT_FILE}.tmp`), '{\n  "partition": 0,\n  "posi');
    expect(await CheckpointFile.read(dir)).toEqual(new Map([['t', '10']]));
    await CheckpointFile.write(dir, { kind: 'task', partition: 0, positions: { t: '20' } });
    expect(await CheckpointFile.read(dir)).toEqual(new Map([['t', '20']]));
    expect(existsSync(join(dir, `${CHECKPOINT_FILE}.tmp`))).toBe(false);
  });
});
