import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamsError } from '../errors/errors.js';
import { asError } from '../errors/as-error.js';
import type { TaskId } from '../processor/task-id.js';
import type { Topology } from '../processor/topology.js';
import { ChangelogReader } from '../runtime/changelog-reader.js';
import { addRecordCounts, emptyRecordCounts } from '../runtime/record-counts.js';
import type { RecordSink } from '../runtime/record-sink.js';
import { TaskStateManager } from '../runtime/state/task-state-manager.js';
import { StoreCommit } from '../runtime/store-commit.js';
import type { StreamTask } from '../runtime/stream-task.js';
import type { BytesStore } from '../stores/bytes-store.js';
import type { ChangelogSink } from '../stores/changelog-sink.js';
import type { ManagedStore } from '../stores/managed-store.js';
import type { DriverSupport } from './driver-support.js';
import type { TopicLogs } from './topic-logs.js';

/** What the tasks of a partitioned driver are made of. */
export interface DriverTasksSpec {
  readonly topology: Topology;
  readonly support: DriverSupport;
  /** The driver's topics: changelogs written and restored from, input positions. */
  readonly logs: TopicLogs;
  readonly sink: RecordSink;
  readonly globalStores: ReadonlyMap<string, ManagedStore>;
  /** The changelog sink of the tasks of a partition. */
  readonly changelogOf: (partition: number) => ChangelogSink;
  /** Undefined: stores in memory. */
  readonly stateDir: string | undefined;
}

/**
 * The stream tasks of a PartitionedTopologyTestDriver and their state: opening a task (its stores, in
 * memory or in LevelDB under the state dir, restored from their changelog partitions by the runtime's
 * TaskStateManager), committing every task, replacing a task (move or restart) and closing them.
 * @internal
 */
export class DriverTasks {
  /** In task id order: sub-topology, then partition. */
  private readonly tasks = new Map<TaskId, StreamTask>();
  /** With a state dir: each task's commits, written to LevelDB one after the other (in memory, done at once). */
  private readonly writes = new Map<TaskId, Promise<void>>();
  private writeFailure: Error | undefined;
  /** Counts of the tasks replaced by moves and restarts: totals only grow, as in KafkaStreams' metrics. */
  readonly replacedCounts = emptyRecordCounts();

  constructor(
    private readonly spec: DriverTasksSpec,
    /** Every task id, in order. */
    private readonly parts: ReadonlyArray<{ readonly subtopology: number; readonly partition: number }>,
  ) {}

  get(id: string): StreamTask | undefined {
    return this.tasks.get(id as TaskId);
  }

  ids(): TaskId[] {
    return [...this.tasks.keys()];
  }

  values(): IterableIterator<StreamTask> {
    return this.tasks.values();
  }

  /** Creates every task over empty in-memory stores and their processors. */
  createInMemory(): void {
    for (const { subtopology, partition } of this.parts) {
      const task = this.newTask(subtopology, partition, undefined, undefined);
      this.tasks.set(task.id, task);
    }
    for (const task of this.tasks.values()) task.init();
  }

  /** Opens every task over its LevelDB stores in the state dir, restored, then creates their processors. */
  async open(): Promise<void> {
    for (const { subtopology, partition } of this.parts) {
      const task = await this.openTask(subtopology, partition, undefined, false);
      this.tasks.set(task.id, task);
    }
    for (const task of this.tasks.values()) task.init();
  }

  /**
   * Commits every task as the runtime does (see StoreCommit): caching stores forward their results and the
   * changelog records reach their partitions now; in memory the stores' bytes are written at once.
   */
  commit(): void {
    const { logs, stateDir } = this.spec;
    for (const task of this.tasks.values()) {
      // A store restored from its table's input topic is as far as the task has read that topic: all of it.
      const consumed = (store: ManagedStore): bigint | undefined => {
        const input = store.definition.sourceChangelogTopic;
        return input === undefined ? undefined : BigInt(logs.size(input, task.partition));
      };
      const commit = StoreCommit.flush(task, consumed);
      if (stateDir === undefined) {
        void commit.write((topic) => logs.lastOffset(topic, task.partition)); // in memory: done before this returns
        continue;
      }
      // LevelDB writes later, one commit after the other, each with the changelog positions of its flush
      // (as the runtime's at-least-once commit: the cache serves the flushed values meanwhile).
      const positions = new Map<string, bigint | undefined>();
      for (const store of task.stores.values()) if (store.changelogTopic !== undefined) positions.set(store.changelogTopic, logs.lastOffset(store.changelogTopic, task.partition));
      const previous = this.writes.get(task.id) ?? Promise.resolve();
      this.writes.set(task.id, previous.then(() => commit.write((topic) => positions.get(topic))).catch((err: unknown) => void (this.writeFailure ??= asError(err))));
    }
  }

  /** Throws when a commit's LevelDB write failed: the driver cannot go on. */
  checkWrites(): void {
    if (this.writeFailure !== undefined) throw new StreamsError(`Writing a commit to a task's LevelDB store failed: ${this.writeFailure.message}`, { cause: this.writeFailure });
  }

  /**
   * Replaces a task by a new one of the same id: the old one closes after its commits are written (its
   * processors dropped), the new one opens its stores (wiping the task's folder when `move`), restores them
   * from their changelogs, starts from the old one's stream time and creates its processors.
   */
  async replace(id: string, move: boolean): Promise<void> {
    const old = this.tasks.get(id as TaskId)!;
    addRecordCounts(this.replacedCounts, old.counters);
    await this.closeTask(old);
    const task = await this.openTask(old.subtopologyId, old.partition, Number.isFinite(old.streamTime) ? old.streamTime : undefined, move);
    this.tasks.set(old.id, task);
    task.init();
  }

  /** Closes every task and its stores, after its last commit is written. */
  async close(): Promise<void> {
    for (const task of this.tasks.values()) await this.closeTask(task);
  }

  private newTask(subtopologyId: number, partition: number, initialStreamTime: number | undefined, bytes: ReadonlyMap<string, BytesStore> | undefined): StreamTask {
    const { topology, support, sink, globalStores, changelogOf } = this.spec;
    return support.task({
      subtopology: topology.subtopologies[subtopologyId]!,
      partition,
      sink,
      changelog: changelogOf(partition),
      globalStores,
      initialStreamTime,
      bytesOf: bytes === undefined ? undefined : (definition) => bytes.get(definition.name)!,
    });
  }

  /** The runtime's state manager of a task: its folder under the state dir, its checkpoint, its restoration. */
  private stateOf(subtopologyId: number, partition: number): TaskStateManager {
    const { topology, support, stateDir } = this.spec;
    return new TaskStateManager({
      topology,
      subtopologyId,
      partition,
      config: {
        applicationId: topology.applicationId,
        // In memory, the state folder is never used.
        stateDir: stateDir ?? join(tmpdir(), 'kstreams-ts-partitioned-driver'),
        restoreBatchRecords: 1000,
        deserializationExceptionHandler: support.deserializationExceptionHandler,
      },
      logger: support.logger,
      role: 'active',
    });
  }

  /**
   * A task, its stores opened (with a state dir: LevelDB ones, verified against the task's checkpoint, after
   * wiping its folder when `wipe`) and restored from their changelog partitions, the group's committed
   * offsets being all the driver wrote (it commits after every record). Its processors are not created yet.
   */
  private async openTask(subtopologyId: number, partition: number, streamTime: number | undefined, wipe: boolean): Promise<StreamTask> {
    const state = this.stateOf(subtopologyId, partition);
    let bytes: Map<string, BytesStore> | undefined;
    if (this.spec.stateDir !== undefined) {
      if (wipe) await rm(state.directory, { recursive: true, force: true });
      bytes = await state.openStores(this.spec.topology.subtopologies[subtopologyId]!.stores);
    }
    const task = this.newTask(subtopologyId, partition, streamTime, bytes);
    const logs = this.spec.logs;
    await state.restore(task.stores.values(), new ChangelogReader(logs), (topic) => BigInt(logs.size(topic, partition)), undefined);
    return task;
  }

  /** Closes a task after its commits are written (with a state dir, its checkpoint too), dropping its processors. */
  private async closeTask(task: StreamTask): Promise<void> {
    await this.writes.get(task.id);
    this.writes.delete(task.id);
    if (this.spec.stateDir !== undefined) await this.stateOf(task.subtopologyId, task.partition).writeCheckpoint(task.stores.values());
    task.close();
    for (const store of task.stores.values()) await store.bytes.close();
  }
}
