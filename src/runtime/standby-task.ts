import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedStreamsConfig } from '../config/streams-config.js';
import type { Topology } from '../processor/topology.js';
import { DamagedStoreError } from '../errors/errors.js';
import { LocalStores, type LocalBytesStore } from '../stores/local-store.js';
import type { ManagedStore } from '../stores/managed-store.js';
import { restoreTopicOf, type StoreDefinition } from '../processor/store-definition.js';
import { createStore } from '../stores/store-factory.js';
import { StoreLayout } from '../stores/store-layout.js';
import type { ChangelogReader } from './changelog-reader.js';
import { replayChangelog } from './changelog-replay.js';
import { SourceChangelog } from './source-changelog.js';
import { StoreSchemas } from './store-schemas.js';
import { formatTaskId } from './task-id.js';

/**
 * A warm replica of another member's task: the task's persistent stores, in the same folder an active task
 * would use, kept close to the end of their changelogs by reading them continuously (read_committed under
 * exactly-once). It never processes input. When the task moves here, the active task opens these stores and
 * restores only what the standby had not read yet. Its positions live in the stores (and `.checkpoint`).
 * A store whose changelog is its table's input topic follows that topic up to the group's committed offset
 * (Kafka Streams' standby limit offset for source-topic changelogs): what comes after is not final yet.
 */
export class StandbyTask {
  readonly id: string;
  private readonly directory: string;
  private readonly stores: Array<{ store: ManagedStore; bytes: LocalBytesStore; topic: string; source?: SourceChangelog }> = [];
  private closed = false;
  /** Changelog records applied since the standby opened. */
  applied = 0;
  /** The replica is ahead of its changelog (recreated topic): wipe it. */
  stale = false;

  private constructor(
    private readonly config: ResolvedStreamsConfig,
    readonly partition: number,
    subtopologyId: number,
  ) {
    this.id = formatTaskId({ subtopology: subtopologyId, partition });
    this.directory = join(config.stateDir, config.applicationId, this.id);
  }

  static async open(topology: Topology, subtopologyId: number, partition: number, config: ResolvedStreamsConfig): Promise<StandbyTask> {
    const task = new StandbyTask(config, partition, subtopologyId);
    for (const definition of topology.subtopologies[subtopologyId]!.stores) {
      const topic = restoreTopicOf(config.applicationId, definition);
      if (!definition.persistent || topic === undefined) continue;
      const bytes = await openReplica(join(task.directory, definition.name), task.id, definition, config);
      try {
        await StoreSchemas.checkLocal(definition, bytes);
        await StoreLayout.record(definition, bytes);
      } catch (err) {
        await bytes.close();
        await task.close();
        throw err;
      }
      // Only its changelog decoding is used: a replica expires segments by the time its changelog shows.
      const store = createStore(definition, bytes, 0);
      const source = SourceChangelog.of(topology, definition, partition, config.deserializationExceptionHandler);
      task.stores.push({ store, bytes, topic, ...(source === undefined ? {} : { source }) });
    }
    return task;
  }

  /**
   * Reads every store's changelog from its position to the current end; a store restored from its input,
   * to the group's `committed` offset of it instead, when that is lower.
   */
  async catchUp(reader: ChangelogReader, committed: (topic: string, partition: number) => Promise<bigint>): Promise<void> {
    let moved = false;
    for (const { store, bytes, topic, source } of this.stores) {
      if (this.closed) return;
      const logEnd = await reader.endOffset(topic, this.partition);
      const limit = source === undefined ? logEnd : await committed(topic, this.partition);
      const end = limit < logEnd ? limit : logEnd;
      const position = bytes.changelogPosition() ?? 0n;
      if (position > logEnd) {
        // The changelog was recreated (an application reset): this replica is worthless; the next open starts over.
        this.config.logger.warn(`standby ${this.id}: ${store.name} is beyond its changelog's end; dropping the replica`);
        this.stale = true;
        return;
      }
      if (position >= end) continue;
      await replayChangelog(
        reader,
        store,
        bytes,
        topic,
        this.partition,
        position,
        end,
        this.config.restoreBatchRecords,
        (count) => (this.applied += count),
        () => !this.closed,
        source?.convert,
      );
      source?.logSkipped(this.config.logger);
      moved = true;
    }
    if (moved && !this.closed) await this.writeCheckpoint();
  }

  private async writeCheckpoint(): Promise<void> {
    const positions: Record<string, string> = {};
    for (const { bytes, topic } of this.stores) {
      const position = bytes.changelogPosition();
      if (position !== undefined) positions[topic] = position.toString();
    }
    await mkdir(this.directory, { recursive: true });
    const file = join(this.directory, '.checkpoint');
    await writeFile(`${file}.tmp`, `${JSON.stringify({ partition: this.partition, positions, standby: true }, null, 2)}\n`);
    await rename(`${file}.tmp`, file);
  }

  async close(wipe = false): Promise<void> {
    this.closed = true;
    for (const { bytes } of this.stores.splice(0)) {
      await bytes.close();
      if (wipe) await LocalStores.destroy(bytes.path);
    }
  }
}

/** A damaged replica is worth nothing: it is wiped (with a WARN naming why) and caught up from scratch. */
async function openReplica(path: string, taskId: string, definition: StoreDefinition, config: ResolvedStreamsConfig): Promise<LocalBytesStore> {
  let reason: string;
  try {
    const store = await LocalStores.open(definition, path);
    const outdated = await StoreLayout.outdated(definition, store);
    if (outdated === undefined) return store;
    await store.close();
    reason = outdated;
  } catch (err) {
    if (!(err instanceof DamagedStoreError)) throw err;
    reason = err.reason;
  }
  config.logger.warn(`standby ${taskId}: replica of ${definition.name} at ${path} cannot be trusted: ${reason}; wiping it, reading its changelog again`, {
    path,
    reason,
  });
  await LocalStores.destroy(path);
  return LocalStores.open(definition, path);
}
