import type { ResolvedStreamsConfig } from '../config/streams-config.js';
import type { TaskId } from '../processor/task-id.js';
import type { Topology } from '../processor/topology.js';
import type { BytesStore } from '../stores/bytes-store.js';
import { LocalStores } from '../stores/local-store.js';
import type { ManagedStore } from '../stores/managed-store.js';
import { createStore } from '../stores/store-factory.js';
import type { ChangelogReader } from './changelog-reader.js';
import type { SourceChangelog } from './source-changelog.js';
import { TaskStateManager } from './state/task-state-manager.js';

/**
 * A warm replica of another member's task: the task's persistent stores, in the same folder an active task
 * would use, kept close to the end of their changelogs by reading them continuously (read_committed under
 * exactly-once). It never processes input. When the task moves here, the active task opens these stores and
 * restores only what the standby had not read yet. Its positions live in the stores (and `.checkpoint`).
 * A store whose changelog is its table's input topic follows that topic up to the group's committed offset
 * (Kafka Streams' standby limit offset for source-topic changelogs): what comes after is not final yet.
 * A damaged replica is worth nothing: its state manager wipes it (with a WARN naming why) and it is caught
 * up from scratch.
 */
export class StandbyTask {
  readonly id: TaskId;
  private readonly stores: Array<{ store: ManagedStore; bytes: BytesStore; topic: string; source?: SourceChangelog }> = [];
  private closed = false;
  /** Changelog records applied since the standby opened. */
  applied = 0;
  /** The replica is ahead of its changelog (recreated topic): wipe it. */
  stale = false;
  /** The end (or limit) each store's changelog had at the last catch-up, by store name (for the replica's lag). */
  private readonly ends = new Map<string, bigint>();
  /** When the last catch-up round ended (epoch ms), 0 before the first. */
  caughtUpAt = 0;

  private constructor(
    private readonly config: ResolvedStreamsConfig,
    private readonly stateManager: TaskStateManager,
  ) {
    this.id = stateManager.taskId;
  }

  get partition(): number {
    return this.stateManager.partition;
  }

  static async open(topology: Topology, subtopologyId: number, partition: number, config: ResolvedStreamsConfig): Promise<StandbyTask> {
    const stateManager = new TaskStateManager({ topology, subtopologyId, partition, config, logger: config.logger, role: 'standby' });
    const task = new StandbyTask(config, stateManager);
    // Only the persistent stores with a changelog are worth replicating.
    const definitions = topology.subtopologies[subtopologyId]!.stores.filter((d) => d.persistent && stateManager.restoreTopic(d) !== undefined);
    const opened = await stateManager.openStores(definitions);
    try {
      for (const definition of definitions) {
        const bytes = opened.get(definition.name)!;
        // Only its changelog decoding is used: a replica expires segments by the time its changelog shows.
        const store = createStore(definition, bytes, 0);
        const source = stateManager.sourceChangelog(definition);
        task.stores.push({ store, bytes, topic: stateManager.restoreTopic(definition)!, ...(source === undefined ? {} : { source }) });
      }
    } catch (err) {
      for (const bytes of opened.values()) await bytes.close();
      throw err;
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
      this.ends.set(store.name, end);
      const position = bytes.changelogPosition() ?? 0n;
      if (position > logEnd) {
        // The changelog was recreated (an application reset): this replica is worthless; the next open starts over.
        this.config.logger.warn(`standby ${this.id}: ${store.name} is beyond its changelog's end; dropping the replica`);
        this.stale = true;
        return;
      }
      if (position >= end) continue;
      await this.stateManager.replay({
        reader,
        store,
        bytes,
        topic,
        source,
        from: position,
        to: end,
        onBatch: (count) => (this.applied += count),
        proceed: () => !this.closed,
      });
      moved = true;
    }
    this.caughtUpAt = Date.now();
    if (moved && !this.closed) await this.stateManager.writeCheckpoint(this.stores.map(({ store, bytes }) => ({ definition: store.definition, bytes })));
  }

  /** The replica's store of that name (read-only use: interactive queries that allow stale reads). */
  store(name: string): ManagedStore | undefined {
    return this.closed ? undefined : this.stores.find((s) => s.store.name === name)?.store;
  }

  /** Changelog records the replica's stores were behind at the last catch-up's ends, less what they applied since. */
  get lag(): number {
    let lag = 0n;
    for (const { store, bytes } of this.stores) {
      const end = this.ends.get(store.name);
      if (end === undefined) return Number.NaN;
      const position = bytes.changelogPosition() ?? 0n;
      if (end > position) lag += end - position;
    }
    return Number(lag);
  }

  async close(wipe = false): Promise<void> {
    this.closed = true;
    for (const { store, bytes } of this.stores.splice(0)) {
      await bytes.close();
      if (wipe) await LocalStores.destroy(this.stateManager.storePath(store.definition));
    }
  }
}
