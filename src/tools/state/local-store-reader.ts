import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateStoreError } from '../../errors/errors.js';
import { isTaskId } from '../../processor/task-id.js';
import type { Topology } from '../../processor/topology.js';
import { StoreSchemas } from '../../runtime/store-schemas.js';
import { LevelDbBytesStore } from '../../stores/leveldb-bytes-store.js';
import type { LocalBytesStore } from '../../stores/local-store.js';
import { SegmentedLevelDbBytesStore } from '../../stores/segmented-leveldb-bytes-store.js';
import { OBSERVED_TIME_KEY } from '../../stores/segments.js';
import { storeLayout } from '../../stores/store-layout.js';
import { snapshotStore } from '../../stores/store-snapshot.js';
import { LocalEntryDecoder, shapeFromDefinition, shapeFromLayout, type StateEntry, type StoreShape } from './store-shape.js';

/** The folder of the global stores beside the task folders (GlobalState). */
export const GLOBAL_FOLDER = 'global';

export interface LocalStoreReadOptions {
  readonly stateDir: string;
  readonly applicationId: string;
  readonly store: string;
  /** Only these tasks (`0_1`, or `global`); all by default. */
  readonly tasks?: readonly string[];
  /** Keys and values through its serdes; without it, raw bytes (the kind read from the store's layout). */
  readonly topology?: Topology;
  /** Where the copies are taken (default: the system's temp folder); removed after each store is read. */
  readonly tempDir?: string;
  /** Told what the reader should know about a copy (see OpenedCopy.warning). */
  readonly onWarning?: (message: string) => void;
}

/** A store opened on a copy of its folder, with its shape, for one task. */
export interface OpenedCopy {
  readonly store: LocalBytesStore;
  readonly shape: StoreShape;
  /** The layout the runtime recorded in the store (undefined: none recorded yet). */
  readonly layout: string | undefined;
  /** How many times the store was looked at before a copy held still. */
  readonly attempts: number;
  /** Something the reader should know about the copy (a crash's leftover in it). */
  readonly warning?: string;
  close(): Promise<void>;
}

/** The task folders (and `global`) of an application's state, in name order. */
export async function stateFolders(stateDir: string, applicationId: string): Promise<string[]> {
  const root = join(stateDir, applicationId);
  if (!existsSync(root)) throw new StateStoreError(`There is no state of application '${applicationId}' under ${stateDir} (no folder ${root})`);
  const names = (await readdir(root, { withFileTypes: true })).filter((e) => e.isDirectory() && (isTaskId(e.name) || e.name === GLOBAL_FOLDER));
  return names.map((e) => e.name).sort(compareTasks);
}

/** Task ids in numeric order (0_2 before 0_10), `global` last. */
export function compareTasks(a: string, b: string): number {
  const [as = Infinity, ap = 0] = isTaskId(a) ? a.split('_').map(Number) : [];
  const [bs = Infinity, bp = 0] = isTaskId(b) ? b.split('_').map(Number) : [];
  return as - bs || ap - bp || a.localeCompare(b);
}

/**
 * A segment ahead of its store's position, in copies of an unchanged folder this long apart, is a crash's
 * leftover (the owner restores over it), not a commit in flight.
 */
const LEFTOVER_MS = 2000;
const LEFTOVER_WAIT_MS = 25;

/**
 * Opens the store folder `path` read-only: a copy of it is taken at one instant (see store-snapshot.ts) into
 * a temp folder and opened there, so the owner (a running instance, which holds LevelDB's lock) is never
 * disturbed and the folder is never written. A session or window store copied while a commit was between
 * its segments' writes and its position's (a segment ahead of the position) is copied again. The copy is
 * removed by `close`.
 */
export async function openStoreCopy(path: string, name: string, topology: Topology | undefined, tempDir = tmpdir()): Promise<OpenedCopy> {
  const temp = await mkdtemp(join(tempDir, 'kstreams-inspect-'));
  const remove = (): Promise<void> => rm(temp, { recursive: true, force: true });
  try {
    let unchanged: { state: string; since: number } | undefined;
    let attempts = 0;
    for (;;) {
      const copy = await openOnce(path, join(temp, name), name, topology);
      attempts += copy.attempts;
      const ahead = copy.store instanceof SegmentedLevelDbBytesStore ? copy.store.segmentsAhead() : [];
      const now = Date.now();
      if (unchanged?.state !== copy.state) unchanged = { state: copy.state, since: now };
      const leftover = ahead.length > 0 && now - unchanged.since >= LEFTOVER_MS;
      if (ahead.length === 0 || leftover) {
        const { store } = copy;
        return {
          store,
          shape: copy.shape,
          layout: copy.layout,
          attempts,
          ...(leftover ? { warning: `segment ${ahead.join(', ')} of ${path} holds writes beyond the store's position (left by a crash: the owner restores over them when it opens the store)` } : {}),
          close: async () => {
            await store.close();
            await remove();
          },
        };
      }
      await copy.store.close();
      await new Promise((resolve) => setTimeout(resolve, LEFTOVER_WAIT_MS));
    }
  } catch (err) {
    await remove();
    throw err;
  }
}

/** One copy of the store opened, with what it was found to be. */
async function openOnce(
  path: string,
  target: string,
  name: string,
  topology: Topology | undefined,
): Promise<{ store: LocalBytesStore; shape: StoreShape; layout: string | undefined; attempts: number; state: string }> {
  const { attempts, state } = await snapshotStore(path, target);
  // The meta database of a session or window store opens as a plain LevelDB store too: enough to read its layout.
  let store: LocalBytesStore | undefined = await LevelDbBytesStore.open(target);
  try {
    const layout = (await store.metadata('layout')).find(([key]) => key === 'layout')?.[1].toString();
    const definition = topology?.stores.get(name);
    let shape: StoreShape | undefined;
    if (definition !== undefined) {
      shape = shapeFromDefinition(definition);
      const wanted = storeLayout(definition);
      if (layout !== undefined && layout !== wanted) {
        throw new StateStoreError(`The store ${name} at ${path} is written in layout ${layout}, but the topology declares ${wanted}: is it the topology of the version that wrote it?`);
      }
    } else {
      shape = layout === undefined ? undefined : shapeFromLayout(name, layout);
      if (shape === undefined) {
        throw new StateStoreError(`The store at ${path} records ${layout === undefined ? 'no layout' : `layout ${layout}, unknown to this version`}: pass the topology (--topology) to read it`);
      }
    }
    if (shape.type !== 'keyValue') {
      await store.close();
      store = undefined;
      store = await SegmentedLevelDbBytesStore.open(target);
    }
    // Values written with earlier Avro schemas are read with them, as the runtime reads them.
    if (definition !== undefined) await StoreSchemas.checkLocal(definition, store, false);
    return { store, shape, layout, attempts, state };
  } catch (err) {
    await store?.close();
    throw err;
  }
}

/**
 * The entries of a store, task by task (each in the store's own order: key order, and for session and window
 * stores time segment first), from copies of its folders: safe while the instance that owns them runs. It
 * shows what the owner last committed (its write cache is in its memory, not on disk).
 */
export async function* readLocalStore(options: LocalStoreReadOptions): AsyncGenerator<StateEntry> {
  const { stateDir, applicationId, store: name, tasks, topology } = options;
  if (topology !== undefined && !topology.stores.has(name)) {
    throw new StateStoreError(`The topology has no store '${name}' (it has: ${[...topology.stores.keys()].join(', ') || 'none'})`);
  }
  const folders = (await stateFolders(stateDir, applicationId)).filter((task) => tasks === undefined || tasks.includes(task));
  const holding = folders.filter((task) => existsSync(join(stateDir, applicationId, task, name)));
  if (holding.length === 0) {
    const where = tasks === undefined ? `any task of ${join(stateDir, applicationId)}` : `task ${tasks.join(', ')} of ${join(stateDir, applicationId)}`;
    throw new StateStoreError(`No store '${name}' in ${where}: 'kstreams state list' shows the stores there`);
  }
  for (const task of holding) {
    const copy = await openStoreCopy(join(stateDir, applicationId, task, name), name, topology, options.tempDir);
    if (copy.warning !== undefined) options.onWarning?.(copy.warning);
    try {
      const decoder = new LocalEntryDecoder(copy.shape, task);
      if (copy.shape.type !== 'keyValue') decoder.observe(copy.store.get(OBSERVED_TIME_KEY));
      for await (const [key, value] of copy.store.entries()) yield* decoder.decode(key, value);
    } finally {
      await copy.close();
    }
  }
}
