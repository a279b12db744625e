import { join } from 'node:path';
import type { ResolvedStreamsConfig } from '../../config/streams-config.js';
import { DamagedStoreError } from '../../errors/errors.js';
import type { Logger } from '../../logging/logger.js';
import { restoreTopicOf, type StoreDefinition } from '../../processor/store-definition.js';
import type { Topology } from '../../processor/topology.js';
import { InMemoryBytesStore, type BytesStore } from '../../stores/bytes-store.js';
import { LocalStores, type LocalBytesStore } from '../../stores/local-store.js';
import type { ManagedStore } from '../../stores/managed-store.js';
import { StoreLayout } from '../../stores/store-layout.js';
import type { ChangelogReader } from '../changelog-reader.js';
import { SourceChangelog } from '../source-changelog.js';
import type { StateRestoreListener } from '../state-restore-listener.js';
import { StoreSchemas } from '../store-schemas.js';
import { formatTaskId, type TaskId } from '../../processor/task-id.js';
import { CheckpointFile } from './checkpoint-file.js';
import { replayChangelog, type ChangelogReplay } from './changelog-replay.js';

/** Who owns the stores: an active task (which runs them) or a standby replica (which only follows them). */
export type StateRole = 'active' | 'standby';

/** One store's replay, as the task's state manager runs it: the partition and batch size are the task's. */
export type StoreReplay = Omit<ChangelogReplay, 'partition' | 'batchRecords' | 'convert'> & {
  /** Set for a store restored from its table's input topic (see SourceChangelog). */
  readonly source: SourceChangelog | undefined;
};

export interface TaskStateManagerOptions {
  readonly topology: Topology;
  readonly subtopologyId: number;
  readonly partition: number;
  /** The settings it reads (the PartitionedTopologyTestDriver gives these alone). */
  readonly config: TaskStateConfig;
  readonly logger: Logger;
  readonly role: StateRole;
}

/** What of the instance's settings a task's state needs. */
export type TaskStateConfig = Pick<ResolvedStreamsConfig, 'applicationId' | 'stateDir' | 'restoreBatchRecords' | 'deserializationExceptionHandler'>;

/**
 * The state of one task on disk (Kafka Streams' ProcessorStateManager), for its active task and its standby
 * replicas alike: the task's folder `<stateDir>/<applicationId>/<taskId>/` with one store per folder and the
 * task's `.checkpoint`. It opens the stores and verifies them (a damaged store, one in a layout this version
 * does not read, or one missing where the checkpoint says it was, is wiped with a WARN naming why and opened
 * empty), wipes a store found ahead of its changelog, restores stores from their changelogs, and writes the
 * checkpoint. It keeps no state of its own beyond the opened stores' paths: the stores belong to the task.
 */
export class TaskStateManager {
  readonly taskId: TaskId;
  readonly directory: string;
  readonly partition: number;
  private readonly topology: Topology;
  private readonly config: TaskStateConfig;
  private readonly logger: Logger;
  private readonly role: StateRole;

  constructor(options: TaskStateManagerOptions) {
    this.topology = options.topology;
    this.partition = options.partition;
    this.config = options.config;
    this.logger = options.logger;
    this.role = options.role;
    this.taskId = formatTaskId({ subtopology: options.subtopologyId, partition: options.partition });
    this.directory = join(options.config.stateDir, options.config.applicationId, this.taskId);
  }

  storePath(definition: StoreDefinition): string {
    return join(this.directory, definition.name);
  }

  /** The topic a store restores from (its changelog, or its table's input); undefined when it logs nothing. */
  restoreTopic(definition: StoreDefinition): string | undefined {
    return restoreTopicOf(this.config.applicationId, definition);
  }

  /** The converter of a store restored from its table's input topic; undefined for a store with a changelog. */
  sourceChangelog(definition: StoreDefinition): SourceChangelog | undefined {
    return SourceChangelog.of(this.topology, definition, this.partition, this.config.deserializationExceptionHandler);
  }

  /**
   * Opens the byte stores of `definitions` (persistent ones on disk, the others in memory), verified, with
   * the schemas and layout this version writes recorded in each local one. An active task also checks each
   * store against its `.checkpoint`: LevelDB creates what it does not find, and a store the checkpoint knows
   * must not come back empty unnoticed. When anything fails, every store opened so far is closed.
   */
  async openStores(definitions: readonly StoreDefinition[]): Promise<Map<string, BytesStore>> {
    const opened = new Map<string, BytesStore>();
    const checkpoint = this.role === 'active' ? ((await CheckpointFile.read(this.directory)) ?? new Map<string, string>()) : new Map<string, string>();
    for (const definition of definitions) {
      try {
        const bytes = await this.openBytes(definition, checkpoint);
        opened.set(definition.name, bytes);
        if (LocalStores.isLocal(bytes)) {
          await StoreSchemas.checkLocal(definition, bytes);
          await StoreLayout.record(definition, bytes);
        }
      } catch (err) {
        for (const b of opened.values()) await b.close();
        throw err;
      }
    }
    return opened;
  }

  private async openBytes(definition: StoreDefinition, checkpoint: ReadonlyMap<string, string>): Promise<BytesStore> {
    if (!definition.persistent) return new InMemoryBytesStore();
    const path = this.storePath(definition);
    let store: LocalBytesStore;
    try {
      store = await LocalStores.open(definition, path);
    } catch (err) {
      if (!(err instanceof DamagedStoreError)) throw err;
      return this.replaceDamaged(definition, err.reason);
    }
    let outdated: string | undefined;
    try {
      outdated = await StoreLayout.outdated(definition, store);
    } catch (err) {
      // Damage can also show only when the metadata is first read (here): the store is replaced as if opening it had failed.
      try {
        await store.close();
      } catch {
        // the error that matters is the one reading it
      }
      if (!(err instanceof DamagedStoreError)) throw err;
      return this.replaceDamaged(definition, err.reason);
    }
    if (outdated !== undefined) {
      await store.close();
      return this.replaceDamaged(definition, outdated);
    }
    const restoreTopic = this.restoreTopic(definition);
    const expected = restoreTopic === undefined ? undefined : checkpoint.get(restoreTopic);
    if (expected === undefined || store.changelogPosition() !== undefined) return store;
    await store.close();
    const what = store.created ? 'its folder is missing' : 'it has no changelog position';
    return this.replaceDamaged(definition, `${what} while the task's .checkpoint records offset ${expected}`);
  }

  private async replaceDamaged(definition: StoreDefinition, reason: string): Promise<LocalBytesStore> {
    const path = this.storePath(definition);
    if (this.role === 'standby') {
      this.logger.warn(`standby ${this.taskId}: replica of ${definition.name} at ${path} cannot be trusted: ${reason}; wiping it, reading its changelog again`, {
        path,
        reason,
      });
    } else {
      const next = this.restoreTopic(definition) !== undefined ? 'restoring it from its changelog' : 'it starts empty (it has no changelog)';
      this.logger.warn(`task ${this.taskId}: store ${definition.name} at ${path} cannot be trusted: ${reason}; wiping it, ${next}`, { path, reason });
    }
    await LocalStores.destroy(path);
    return LocalStores.open(definition, path);
  }

  /** Replaces a store's files with an empty store, under the same typed store. */
  async wipe(store: ManagedStore): Promise<BytesStore> {
    const path = this.storePath(store.definition);
    await store.bytes.close();
    await LocalStores.destroy(path);
    const fresh = await LocalStores.open(store.definition, path);
    // The schemas this version writes, recorded again in the empty store (changelog ones come as restored).
    await StoreSchemas.checkLocal(store.definition, fresh);
    await StoreLayout.record(store.definition, fresh);
    store.replaceBytes(fresh);
    return fresh;
  }

  /**
   * Brings every logged store of an active task up to the end of its changelog; returns the records
   * restored. A store restores from its checkpoint (the changelog position kept in the same LevelDB batch as
   * its data); a store without one, or with one beyond the changelog's end (the topic was recreated), is
   * wiped and restored from the beginning. A store whose changelog is its table's input topic restores only
   * up to the offset the task starts processing at (`committed`, the group's committed offset), as Kafka
   * Streams' StoreChangelogReader does for source-topic changelogs: the records after it are processed, not
   * restored.
   */
  async restore(
    stores: Iterable<ManagedStore>,
    reader: ChangelogReader,
    committed: (topic: string) => bigint | undefined,
    listener: StateRestoreListener | undefined,
  ): Promise<number> {
    let total = 0;
    for (const store of stores) {
      const topic = this.restoreTopic(store.definition);
      if (topic === undefined) continue;
      const source = this.sourceChangelog(store.definition);
      const logEnd = await reader.endOffset(topic, this.partition);
      const limit = committed(topic) ?? 0n;
      const end = source === undefined || logEnd < limit ? logEnd : limit;
      let bytes = store.bytes;
      let position = bytes.changelogPosition();
      // Beyond the log's end only: a store restored from its input may be ahead of the committed offset
      // (at-least-once writes it before committing); the records in between are processed again.
      // (A store on disk: the runtime keeps every persistent store there; the test driver's in-memory ones start empty.)
      if (LocalStores.isLocal(bytes) && (position === undefined || position > logEnd)) {
        if (position !== undefined) {
          this.logger.warn(
            `task ${this.taskId}: store ${store.name} at ${this.storePath(store.definition)} is at changelog offset ${position}, ` +
              `beyond the changelog's end ${logEnd}; wiping it, restoring it from its changelog`,
          );
        }
        bytes = await this.wipe(store);
        position = undefined;
      }
      const start = position ?? 0n;
      const restoring = { topic, partition: this.partition, storeName: store.name, taskId: this.taskId };
      if (start >= end) {
        if (position === undefined) await bytes.apply([], end);
        continue;
      }
      listener?.onRestoreStart?.(restoring, start, end);
      const began = Date.now();
      let restored = 0;
      await this.replay({
        reader,
        store,
        bytes,
        topic,
        source,
        from: start,
        to: end,
        onBatch: (count, next) => {
          restored += count;
          listener?.onBatchRestored?.(restoring, next, count);
        },
      });
      if (bytes.changelogPosition() !== end) await bytes.apply([], end);
      const seconds = Math.max((Date.now() - began) / 1000, 0.001);
      this.logger.info(
        `task ${this.taskId}: restored ${restored} records of ${store.name} from ${topic}-${this.partition} ` +
          `[${start}, ${end}) in ${seconds.toFixed(1)} s (${Math.round(restored / seconds)} records/s)`,
      );
      listener?.onRestoreEnd?.(restoring, restored);
      total += restored;
    }
    return total;
  }

  /**
   * Applies [from, to) of a store's changelog (its input, through `source`) to `bytes`, then logs the input
   * records skipped as unreadable: the restore loop of active tasks and standby replicas alike.
   */
  async replay(replay: StoreReplay): Promise<void> {
    const { source, ...rest } = replay;
    await replayChangelog({
      ...rest,
      partition: this.partition,
      batchRecords: this.config.restoreBatchRecords,
      ...(source === undefined ? {} : { convert: source.convert }),
    });
    source?.logSkipped(this.logger);
  }

  /**
   * Mirrors the changelog positions of the persistent logged stores into the task's `.checkpoint`. An active
   * task without any writes no file; a standby writes one even so (marked `standby`).
   */
  async writeCheckpoint(stores: Iterable<{ readonly definition: StoreDefinition; readonly bytes: BytesStore }>): Promise<void> {
    const positions: Record<string, string> = {};
    for (const { definition, bytes } of stores) {
      const topic = this.restoreTopic(definition);
      if (!definition.persistent || topic === undefined) continue;
      const position = bytes.changelogPosition();
      if (position !== undefined) positions[topic] = position.toString();
    }
    if (this.role === 'standby') {
      await CheckpointFile.write(this.directory, { kind: 'standby', partition: this.partition, positions });
      return;
    }
    if (Object.keys(positions).length === 0) return;
    await CheckpointFile.write(this.directory, { kind: 'task', partition: this.partition, positions });
  }
}
