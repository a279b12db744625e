import { existsSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { asError } from '../../errors/as-error.js';
import { changelogTopicName, restoreTopicOf } from '../../processor/store-definition.js';
import { isTaskId, parseTaskId } from '../../processor/task-id.js';
import type { Topology } from '../../processor/topology.js';
import { CHECKPOINT_FILE, CheckpointFile } from '../../runtime/state/checkpoint-file.js';
import { GLOBAL_FOLDER, compareTasks, openStoreCopy, stateFolders } from './local-store-reader.js';
import { kindName } from './store-shape.js';

/** Who last wrote a task folder's `.checkpoint`: an active task, a standby replica, the global stores, or nobody yet. */
export type CheckpointOwner = 'active' | 'standby' | 'global' | 'none';

export interface StoreListing {
  readonly name: string;
  /** `key-value`, `timestamped key-value`, `session`, `window`, `timestamped window`; undefined when unreadable. */
  readonly kind: string | undefined;
  /** Bytes of its files on disk (segments included). */
  readonly bytes: number;
  /** Session and window stores: the time-segment databases it holds. */
  readonly segments?: number;
  /** The topic it is restored from (its changelog), when known. */
  readonly changelogTopic?: string;
  /** The changelog offset its data reflects, recorded inside its LevelDB with the data (the truth). */
  readonly position?: string;
  /** The same as the task's `.checkpoint` mirrors it. */
  readonly checkpoint?: string;
  /** With a broker: the changelog partition's end offset, and how far the store is behind it. */
  readonly endOffset?: string;
  readonly lag?: string;
  /** Why it could not be read (damaged, changing too fast, a layout unknown here). */
  readonly problem?: string;
  /** Something found in it an operator should know (a crash's leftover). */
  readonly warning?: string;
}

export interface TaskListing {
  /** `0_1`, or `global` for the global stores. */
  readonly task: string;
  readonly role: CheckpointOwner;
  readonly stores: readonly StoreListing[];
}

export interface ApplicationListing {
  readonly applicationId: string;
  readonly path: string;
  readonly tasks: readonly TaskListing[];
}

export interface StateListOptions {
  readonly stateDir: string;
  /** One application; every application folder under `stateDir` by default. */
  readonly applicationId?: string;
  /** Store kinds and changelog topics from the topology (else from the stores' recorded layouts). */
  readonly topology?: Topology;
  /** With a broker: the end offset of a changelog partition (undefined when the topic is missing). */
  readonly endOffset?: (topic: string, partition: number) => Promise<bigint | undefined>;
  readonly tempDir?: string;
}

/**
 * What is in a state directory: per application, its task folders (and the global stores'), who last wrote
 * each, and each store's kind, size on disk and changelog position (and, with a broker, the changelog's end
 * and the store's lag). Stores are read on copies (see openStoreCopy): safe while instances run.
 */
export async function listState(options: StateListOptions): Promise<ApplicationListing[]> {
  const { stateDir } = options;
  if (!existsSync(stateDir)) throw new Error(`The state directory ${stateDir} does not exist`);
  const applications = options.applicationId !== undefined
    ? [options.applicationId]
    : (await readdir(stateDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const listings: ApplicationListing[] = [];
  for (const applicationId of applications) {
    const tasks: TaskListing[] = [];
    for (const task of await stateFolders(stateDir, applicationId)) tasks.push(await listTask(options, applicationId, task));
    listings.push({ applicationId, path: join(stateDir, applicationId), tasks: tasks.sort((a, b) => compareTasks(a.task, b.task)) });
  }
  return listings;
}

async function listTask(options: StateListOptions, applicationId: string, task: string): Promise<TaskListing> {
  const folder = join(options.stateDir, applicationId, task);
  const checkpoint = (await CheckpointFile.read(folder)) ?? new Map<string, string>();
  const role = await ownerOf(folder, task);
  const stores: StoreListing[] = [];
  const names = (await readdir(folder, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  for (const name of names) stores.push(await listStore(options, applicationId, task, name, checkpoint));
  return { task, role, stores };
}

async function ownerOf(folder: string, task: string): Promise<CheckpointOwner> {
  if (task === GLOBAL_FOLDER) return 'global';
  try {
    const parsed = JSON.parse(await readFile(join(folder, CHECKPOINT_FILE), 'utf8')) as { standby?: unknown };
    return parsed.standby === true ? 'standby' : 'active';
  } catch {
    return 'none';
  }
}

async function listStore(
  options: StateListOptions,
  applicationId: string,
  task: string,
  name: string,
  checkpoint: ReadonlyMap<string, string>,
): Promise<StoreListing> {
  const path = join(options.stateDir, applicationId, task, name);
  const { bytes, segments } = await diskUsage(path);
  const definition = options.topology?.stores.get(name);
  const changelogTopic = task === GLOBAL_FOLDER ? undefined : definition !== undefined ? restoreTopicOf(applicationId, definition) : changelogTopicName(applicationId, name);
  const base = { name, bytes, ...(segments === undefined ? {} : { segments }), ...(changelogTopic === undefined ? {} : { changelogTopic }) };
  const mirrored = changelogTopic === undefined ? undefined : checkpoint.get(changelogTopic);
  let kind: string | undefined;
  let position: bigint | undefined;
  let warning: string | undefined;
  try {
    const copy = await openStoreCopy(path, name, options.topology, options.tempDir);
    try {
      kind = kindName(copy.shape.type, copy.shape.timestamped);
      position = copy.store.changelogPosition();
      warning = copy.warning;
    } finally {
      await copy.close();
    }
  } catch (err) {
    return { ...base, kind: undefined, ...(mirrored === undefined ? {} : { checkpoint: mirrored }), problem: asError(err).message };
  }
  const listing = {
    ...base,
    kind,
    ...(position === undefined ? {} : { position: position.toString() }),
    ...(mirrored === undefined ? {} : { checkpoint: mirrored }),
    ...(warning === undefined ? {} : { warning }),
  };
  if (options.endOffset === undefined || changelogTopic === undefined || !isTaskId(task)) return listing;
  const end = await options.endOffset(changelogTopic, parseTaskId(task).partition);
  if (end === undefined) return listing;
  const lag = end - (position ?? 0n);
  return { ...listing, endOffset: end.toString(), lag: (lag < 0n ? 0n : lag).toString() };
}

/** Bytes of every file under `path`, and the number of segment databases (undefined: not a segmented store). */
async function diskUsage(path: string): Promise<{ bytes: number; segments: number | undefined }> {
  let bytes = 0;
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true }).catch(() => [])) {
      const file = join(folder, entry.name);
      if (entry.isDirectory()) await walk(file);
      else bytes += (await stat(file).catch(() => undefined))?.size ?? 0;
    }
  };
  await walk(path);
  const segments = await readdir(join(path, 'segments')).then(
    (names) => names.filter((n) => /^[0-9a-f]{16}$/.test(n)).length,
    () => undefined,
  );
  return { bytes, segments };
}

/** Bytes as an operator reads them: 512 B, 12.3 KiB, 4.0 MiB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** The listing as a table per application: one row per store, `-` where a value is unknown. */
export function formatStateListing(listings: readonly ApplicationListing[], withBroker: boolean): string {
  const out: string[] = [];
  for (const app of listings) {
    out.push(`application ${app.applicationId} (${app.path}): ${app.tasks.length} task folder${app.tasks.length === 1 ? '' : 's'}`);
    const header = ['TASK', 'ROLE', 'STORE', 'KIND', 'SIZE', 'SEGMENTS', 'POSITION', ...(withBroker ? ['END', 'LAG'] : [])];
    const rows: string[][] = [];
    const problems: string[] = [];
    for (const task of app.tasks) {
      if (task.stores.length === 0) rows.push([task.task, task.role, '-', '-', '-', '-', '-', ...(withBroker ? ['-', '-'] : [])]);
      for (const s of task.stores) {
        rows.push([
          task.task,
          task.role,
          s.name,
          s.kind ?? '?',
          formatBytes(s.bytes),
          s.segments?.toString() ?? '-',
          s.position ?? '-',
          ...(withBroker ? [s.endOffset ?? '-', s.lag ?? '-'] : []),
        ]);
        if (s.problem !== undefined) problems.push(`  ${task.task}/${s.name}: ${s.problem}`);
        if (s.warning !== undefined) problems.push(`  ${task.task}/${s.name}: ${s.warning}`);
      }
    }
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: readonly string[]): string => cells.map((c, i) => (i >= 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
    out.push(line(header), ...rows.map(line));
    if (problems.length > 0) out.push('notes:', ...problems);
  }
  return out.join('\n');
}
