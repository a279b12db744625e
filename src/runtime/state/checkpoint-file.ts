import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The file's name, in a task's folder (`<stateDir>/<appId>/<taskId>/`) or the global stores' (`…/global/`). */
export const CHECKPOINT_FILE = '.checkpoint';

/**
 * What a `.checkpoint` holds, in the three shapes written today (all JSON with a `positions` object of
 * strings, so one reader reads them all):
 * - `task`: an active task's, `{ partition, positions }` with positions by changelog topic (restore topic);
 * - `standby`: a standby replica's, the same plus `standby: true`;
 * - `global`: the global stores', `{ positions }` by `topic:partition` of the global topics.
 * The truth of a task's positions is inside each store's LevelDB (written in the same batch as the data);
 * the task's file mirrors it for operators, tools and the assignor (see localTaskOffsets). The global stores
 * keep their positions only here.
 */
export type Checkpoint =
  | { readonly kind: 'task'; readonly partition: number; readonly positions: Readonly<Record<string, string>> }
  | { readonly kind: 'standby'; readonly partition: number; readonly positions: Readonly<Record<string, string>> }
  | { readonly kind: 'global'; readonly positions: Readonly<Record<string, string>> };

/** The bytes of each shape, exactly as earlier releases wrote them (tasks' indented, the global one compact). */
function format(checkpoint: Checkpoint): string {
  switch (checkpoint.kind) {
    case 'task':
      return `${JSON.stringify({ partition: checkpoint.partition, positions: checkpoint.positions }, null, 2)}\n`;
    case 'standby':
      return `${JSON.stringify({ partition: checkpoint.partition, positions: checkpoint.positions, standby: true }, null, 2)}\n`;
    case 'global':
      return JSON.stringify({ positions: checkpoint.positions });
  }
}

/**
 * The positions of a checkpoint's text, as written (values are not checked: each reader converts them).
 * Throws on text that is not JSON or not an object; a file without `positions` has none.
 */
function parse(text: string): Map<string, string> {
  const { positions } = JSON.parse(text) as { positions?: Record<string, string> };
  return new Map(Object.entries(positions ?? {}));
}

/** The one reader and writer of `.checkpoint` files. */
export const CheckpointFile = {
  /** The positions of the checkpoint in `directory`; undefined when there is none or it cannot be read. */
  async read(directory: string): Promise<Map<string, string> | undefined> {
    try {
      return parse(await readFile(join(directory, CHECKPOINT_FILE), 'utf8'));
    } catch {
      return undefined;
    }
  },

  /** As read, synchronously (the assignor's look at the state folder, in a synchronous callback). */
  readSync(directory: string): Map<string, string> | undefined {
    try {
      return parse(readFileSync(join(directory, CHECKPOINT_FILE), 'utf8'));
    } catch {
      return undefined;
    }
  },

  /**
   * Replaces the checkpoint in `directory` atomically: written to `.checkpoint.tmp`, then renamed over the
   * old one, so a crash leaves the old file or the new one, never half of one (a stale `.tmp` is overwritten
   * by the next write). A task's folder is created if needed; the global one exists once its stores opened.
   */
  async write(directory: string, checkpoint: Checkpoint): Promise<void> {
    if (checkpoint.kind !== 'global') await mkdir(directory, { recursive: true });
    const file = join(directory, CHECKPOINT_FILE);
    await writeFile(`${file}.tmp`, format(checkpoint));
    await rename(`${file}.tmp`, file);
  },
};
