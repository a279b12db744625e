import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamsError } from '../errors/errors.js';
import type { StreamPartitioner } from '../processor/stream-partitioner.js';
import { formatTaskId, parseTaskId, type TaskId } from '../processor/task-id.js';
import type { Topology } from '../processor/topology.js';
import { ChangelogReader } from '../runtime/changelog-reader.js';
import { partitionForKey } from '../runtime/murmur2.js';
import { resolvePartitionCounts, type TopologyMetadata } from '../runtime/partition-counts.js';
import { addRecordCounts, emptyRecordCounts } from '../runtime/record-counts.js';
import type { OutgoingRecord, RecordSink } from '../runtime/record-sink.js';
import { TaskStateManager } from '../runtime/state/task-state-manager.js';
import { StoreCommit } from '../runtime/store-commit.js';
import type { StreamTask } from '../runtime/stream-task.js';
import type { Serde } from '../serdes/serde.js';
import type { ChangelogSink } from '../stores/changelog-sink.js';
import { keyValueStoreOf, sessionStoreOf, windowStoreOf, type ManagedStore } from '../stores/managed-store.js';
import type { KeyValueStore, SessionStore, WindowStore } from '../stores/state-store.js';
import { DriverSupport } from './driver-support.js';
import { TestInputTopic, TestOutputTopic, type TestInputTarget } from './test-topics.js';
import { TopicLogs, type PlacedRecord } from './topic-logs.js';
import type { TestDriverMetrics, TopologyTestDriverOptions } from './topology-test-driver.js';

/** Settings of a {@link PartitionedTopologyTestDriver}: those of the TopologyTestDriver, and partition counts. */
export interface PartitionedTopologyTestDriverOptions extends TopologyTestDriverOptions {
  /**
   * Partition counts of the topics the topology reads or writes by name, e.g. `{ 'page-views': 6, users: 2 }`.
   * Internal topics (repartition, changelog) cannot be given: their counts follow the topology, as at runtime.
   */
  partitions?: Readonly<Record<string, number>>;
  /** The partition count of every other topic; default 4. */
  defaultPartitions?: number;
}

/**
 * Runs a topology in memory as the runtime runs it on topics with several partitions: one task per partition
 * of each sub-topology (task ids `<subtopology>_<partition>`, as KafkaStreams names them), each with its own
 * stores and changelog partition, and repartition topics in between. Deterministic, with no broker and no
 * timers: for unit tests of what a one-partition driver cannot show (a key change without a repartition
 * splits sessions; two joined topics that are not co-partitioned; a task that moves restores its state).
 *
 * Placement: a record goes to the partition its sink's StreamPartitioner (or the input topic's partitioner,
 * see {@link createInputTopic}) picks, else Kafka's default partitioner's (murmur2 of the key bytes; windowed
 * keys by their inner key, as the runtime); a record with a null key goes to the topic's partitions in turn
 * (round robin), where a producer would pick one at random. Partition counts: the topic's in
 * `options.partitions`, else `defaultPartitions`; repartition and changelog topics get theirs as KafkaStreams
 * works them out at start, and topics that a join reads must have equal counts, or the constructor throws
 * the error KafkaStreams' start throws.
 *
 * Order: a piped record is processed at once by the task of its partition; then every task commits (stores
 * flush; changelog records are written); then the records this wrote to topics the topology reads are
 * processed one by one in the order they were written, each by the task of its partition and followed by a
 * commit, until nothing is left (the driver is quiescent). So each partition is read in the order it was
 * written, as a task reads it, and a call returns only when the topology has nothing left to do.
 */
export class PartitionedTopologyTestDriver {
  private readonly support: DriverSupport;
  private readonly metadata: TopologyMetadata;
  private readonly declared: ReadonlyMap<string, number>;
  private readonly defaultPartitions: number;
  private readonly logs = new TopicLogs();
  /** The tasks in task id order: sub-topology, then partition. */
  private readonly tasks = new Map<TaskId, StreamTask>();
  /** One task per global sub-topology, reading every partition of its topic (a global store is whole everywhere). */
  private readonly globalTasks: StreamTask[];
  private readonly globalStores: ReadonlyMap<string, ManagedStore>;
  /** Counts of the tasks replaced by moves and restarts: totals only grow, as in KafkaStreams' metrics. */
  private readonly replacedCounts = emptyRecordCounts();
  private readonly pending: OutgoingRecord[] = [];
  private readonly deadLetters = { enqueue: (record: OutgoingRecord): void => void this.pending.push(record) };
  /** The partition the next record with a null key goes to, per topic. */
  private readonly roundRobin = new Map<string, number>();
  private readonly sink: RecordSink;
  private wallClock: number;
  /** A task being moved or restarted: nothing else may run until it is back. */
  private replacing: TaskId | undefined;
  private closed = false;

  constructor(
    private readonly topology: Topology,
    options: PartitionedTopologyTestDriverOptions = {},
    initialWallClockMs = 0,
  ) {
    this.wallClock = initialWallClockMs;
    this.support = new DriverSupport(topology, options, () => this.wallClock);
    this.defaultPartitions = positiveCount('defaultPartitions', options.defaultPartitions ?? 4);
    const internal = new Set(topology.internalTopics.map((t) => t.name));
    this.declared = new Map(
      Object.entries(options.partitions ?? {}).map(([topic, count]) => {
        if (internal.has(topic)) {
          throw new StreamsError(`Topic '${topic}' is an internal topic of the topology: its partition count follows the topology, remove it from 'partitions'`);
        }
        return [topic, positiveCount(`partitions['${topic}']`, count)];
      }),
    );
    // The counts of the user topics, as the broker would tell them; the rest is worked out as KafkaStreams does.
    const userTopics = [...topology.externalSourceTopics(), ...topology.subtopologies.flatMap((s) => s.sinkTopics)].filter((t) => !internal.has(t));
    this.metadata = resolvePartitionCounts(topology, new Map(userTopics.map((t) => [t, this.partitionsOf(t)])));
    this.sink = {
      send: (record) => this.pending.push(record),
      // What a task knows, as at runtime: topics the topology names. Others are placed by the default partitioner.
      partitionsFor: (topic) => this.metadata.partitionsByTopic.get(topic),
    };
    this.globalTasks = topology.globalSubtopologies.map((subtopology) =>
      this.support.task({ subtopology, partition: 0, sink: this.sink, changelog: this.changelogOf(0) }),
    );
    this.globalStores = new Map(this.globalTasks.flatMap((task) => [...task.stores]));
    for (const subtopology of topology.subtopologies) {
      for (let partition = 0; partition < this.metadata.partitionsBySubtopology.get(subtopology.id)!; partition++) {
        const task = this.newTask(subtopology.id, partition, undefined);
        this.tasks.set(task.id, task);
      }
    }
    for (const task of this.globalTasks) task.init();
    for (const task of this.tasks.values()) task.init();
  }

  /** The partition count of a topic: the topology's for internal topics, else the declared or default one. */
  partitionsOf(topic: string): number {
    // (metadata is undefined while the constructor works it out from the declared counts)
    return this.metadata?.partitionsByTopic.get(topic) ?? this.declared.get(topic) ?? this.defaultPartitions;
  }

  /** The ids of the tasks the driver runs, in order: `0_0`, `0_1`, …, `1_0`, … */
  taskIds(): string[] {
    return [...this.tasks.keys()];
  }

  /** The partition Kafka's default partitioner gives a key on a topic, e.g. `driver.partitionOfKey('page-views', 'ann', Serdes.String())`. */
  partitionOfKey<K>(topic: string, key: K, keySerde: Serde<K>): number {
    return partitionForKey(keySerde.serialize(key, topic), this.partitionsOf(topic));
  }

  /**
   * A handle to pipe records into a source topic. Each record goes to the partition `partitioner` picks
   * (as the producer writing the topic would), else to its key's partition under Kafka's default partitioner.
   */
  createInputTopic<K, V>(topic: string, keySerde: Serde<K>, valueSerde: Serde<V>, partitioner?: StreamPartitioner<K | null, V | null>): TestInputTopic<K, V> {
    if (this.topology.subtopologyOfTopic(topic) === undefined && this.topology.globalSubtopologyOfTopic(topic) === undefined) {
      throw new StreamsError(`Topic '${topic}' is not read by this topology; it reads: ${this.topology.externalSourceTopics().join(', ')}`);
    }
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the getter below has its own `this`
    const driver = this;
    const target: TestInputTarget = {
      get currentWallClock() {
        return driver.wallClock;
      },
      pipeRaw: (_topic, key, value, timestamp, headers, typedKey, typedValue) => {
        const partition = partitioner?.(topic, typedKey as K | null, typedValue as V | null, this.partitionsOf(topic));
        this.pipeRaw({ topic, key, value, timestamp, headers, partition }, 'the input partitioner');
      },
    };
    return new TestInputTopic(target, topic, keySerde, valueSerde);
  }

  /**
   * A handle to read what the topology wrote to a topic (also `<app>-<store>-changelog` and repartition
   * topics): every partition in the order written, or only `partition`. Each record read names its partition.
   */
  createOutputTopic<K, V>(topic: string, keySerde: Serde<K>, valueSerde: Serde<V>, partition?: number): TestOutputTopic<K, V> {
    if (partition !== undefined && !(Number.isInteger(partition) && partition >= 0 && partition < this.partitionsOf(topic))) {
      throw new StreamsError(`Topic '${topic}' has partitions 0 to ${this.partitionsOf(topic) - 1}; there is no partition ${partition}`);
    }
    return new TestOutputTopic(this.logs.outputOf(partition), topic, keySerde, valueSerde);
  }

  private pipeRaw(record: OutgoingRecord, placedBy: string): void {
    this.ensureRunnable();
    this.deliver(this.place(record, placedBy, false));
    this.completeAllWork();
  }

  /** Gives a record its partition (see the class comment) and appends it to the topic. */
  private place(record: OutgoingRecord, placedBy: string, output = true): PlacedRecord & { offset: number } {
    const count = this.partitionsOf(record.topic);
    let partition = record.partition;
    if (partition === undefined && record.key !== null) partition = partitionForKey(record.key, count);
    if (partition === undefined) {
      partition = this.roundRobin.get(record.topic) ?? 0;
      this.roundRobin.set(record.topic, (partition + 1) % count);
    }
    if (!Number.isInteger(partition) || partition < 0 || partition >= count) {
      throw new StreamsError(
        `${placedBy} put a record of topic '${record.topic}' on partition ${partition}, but the topic has ${count} partitions (0 to ${count - 1}): ` +
          'return a partition below the count it is given',
      );
    }
    const placed = { ...record, partition };
    return { ...placed, offset: this.logs.append(placed, output) };
  }

  /** Processes a record on the task of its partition (or the global task of its topic), if the topology reads it. */
  private deliver(record: PlacedRecord & { offset: number }): void {
    const global = this.topology.globalSubtopologyOfTopic(record.topic);
    if (global !== undefined) {
      this.support.process(this.globalTasks[global.id - this.topology.subtopologies.length]!, true, record, this.deadLetters);
      return;
    }
    const sub = this.topology.subtopologyOfTopic(record.topic);
    if (sub === undefined) return;
    this.support.process(this.tasks.get(formatTaskId({ subtopology: sub.id, partition: record.partition }))!, false, record, this.deadLetters);
  }

  /** Commits, then processes what was written to topics the topology reads, each followed by a commit, until nothing is left. */
  private completeAllWork(): void {
    for (;;) {
      this.commit();
      const record = this.pending.shift();
      if (record === undefined) return;
      this.deliver(this.place(record, 'a StreamPartitioner'));
    }
  }

  /**
   * Commits every task as the runtime does (see StoreCommit): caching stores forward their results and the
   * changelog records reach their partitions now; the stores' bytes are written at once, in memory.
   */
  private commit(): void {
    for (const task of this.globalTasks) void StoreCommit.flush(task).write((topic) => this.logs.lastOffset(topic, 0));
    for (const task of this.tasks.values()) {
      // A store restored from its table's input topic is as far as the task has read that topic: all of it.
      const consumed = (store: ManagedStore): bigint | undefined => {
        const input = store.definition.sourceChangelogTopic;
        return input === undefined ? undefined : BigInt(this.logs.size(input, task.partition));
      };
      void StoreCommit.flush(task, consumed).write((topic) => this.logs.lastOffset(topic, task.partition));
    }
  }

  /** Each task's changelog records go to its partition of the store's changelog topic, as the runtime's. */
  private changelogOf(partition: number): ChangelogSink {
    return this.support.changelogSink({ send: (record) => void this.logs.append({ ...record, timestamp: this.wallClock, partition }) });
  }

  private newTask(subtopologyId: number, partition: number, initialStreamTime: number | undefined): StreamTask {
    return this.support.task({
      subtopology: this.topology.subtopologies[subtopologyId]!,
      partition,
      sink: this.sink,
      changelog: this.changelogOf(partition),
      globalStores: this.globalStores,
      initialStreamTime,
    });
  }

  /**
   * Moves a task to another instance, mid-stream: the task closes, its local state is dropped, and a new
   * task of the same id (new processors, its stream time as last committed) restores every logged store
   * from its changelog partition, with the runtime's restore code, and goes on with the next record. Await
   * it before piping more. Stores with logging disabled come back empty, as they would.
   */
  async moveTask(taskId: string): Promise<void> {
    await this.replaceTask(taskId);
  }

  /**
   * Restarts a task, as when its instance restarts: the task closes and comes back with what its changelog
   * holds. In memory, nothing local survives a restart, so this restores as {@link moveTask} does.
   */
  async restartTask(taskId: string): Promise<void> {
    await this.replaceTask(taskId);
  }

  private async replaceTask(taskId: string): Promise<void> {
    this.ensureRunnable();
    const old = this.tasks.get(taskId as TaskId);
    if (old === undefined) throw new StreamsError(`No task '${taskId}'; the driver runs: ${this.taskIds().join(', ')}`);
    const { subtopology, partition } = parseTaskId(taskId);
    this.replacing = old.id;
    try {
      addRecordCounts(this.replacedCounts, old.counters);
      old.close();
      for (const store of old.stores.values()) void store.bytes.close();
      const task = this.newTask(subtopology, partition, Number.isFinite(old.streamTime) ? old.streamTime : undefined);
      this.tasks.set(old.id, task);
      const state = new TaskStateManager({
        topology: this.topology,
        subtopologyId: subtopology,
        partition,
        // In memory: the state folder is never used.
        config: {
          applicationId: this.topology.applicationId,
          stateDir: join(tmpdir(), 'kstreams-ts-partitioned-driver'),
          restoreBatchRecords: 1000,
          deserializationExceptionHandler: this.support.deserializationExceptionHandler,
        },
        logger: this.support.logger,
        role: 'active',
      });
      // The group's committed offset of each input partition: everything read so far (the driver commits after every record).
      await state.restore(task.stores.values(), new ChangelogReader(this.logs), (topic) => BigInt(this.logs.size(topic, partition)), undefined);
      task.init();
    } finally {
      this.replacing = undefined;
    }
  }

  /** Moves the wall clock forward and fires the wall-clock punctuators that came due, task by task in task id order. */
  advanceWallClockTime(ms: number): void {
    this.ensureRunnable();
    this.wallClock += ms;
    for (const task of this.tasks.values()) task.punctuateWallClock(this.wallClock);
    this.completeAllWork();
  }

  private storeOf(name: string, partition: number): ManagedStore {
    const definition = this.topology.stores.get(name);
    const sub = this.topology.subtopologies.find((s) => s.stores.some((d) => d.name === name));
    if (definition === undefined || sub === undefined) {
      const global = this.globalStores.get(name);
      if (global !== undefined) return global;
      throw new StreamsError(`No store named '${name}'; the topology has: ${[...this.topology.stores.keys()].join(', ')}`);
    }
    const task = this.tasks.get(formatTaskId({ subtopology: sub.id, partition }));
    if (task === undefined) throw new StreamsError(`Store '${name}' has partitions 0 to ${this.metadata.partitionsBySubtopology.get(sub.id)! - 1}; there is no partition ${partition}`);
    return task.stores.get(name)!;
  }

  /** The key-value store `name` of the task of `partition` (a global store: the whole one). */
  getKeyValueStore<K, V>(name: string, partition: number): KeyValueStore<K, V> {
    return keyValueStoreOf<K, V>(this.storeOf(name, partition));
  }

  /** The session store `name` of the task of `partition`, e.g. `driver.getSessionStore<string, Stats>('session-stats', 2)`. */
  getSessionStore<K, V>(name: string, partition: number): SessionStore<K, V> {
    return sessionStoreOf<K, V>(this.storeOf(name, partition));
  }

  /** The window store `name` of the task of `partition`. */
  getWindowStore<K, V>(name: string, partition: number): WindowStore<K, V> {
    return windowStoreOf<K, V>(this.storeOf(name, partition));
  }

  /** Records processed, dropped, skipped and dead-lettered so far over all tasks (moved ones included), as KafkaStreams' `metrics()` names them. */
  metrics(): TestDriverMetrics {
    return this.support.metrics([...this.tasks.values(), ...this.globalTasks], this.replacedCounts);
  }

  private ensureRunnable(): void {
    if (this.closed) throw new StreamsError('The PartitionedTopologyTestDriver is closed');
    if (this.replacing !== undefined) throw new StreamsError(`Task ${this.replacing} is being moved or restarted: await moveTask/restartTask first`);
  }

  /** Closes the tasks and their in-memory stores; the driver cannot be used afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const task of [...this.tasks.values(), ...this.globalTasks]) {
      task.close();
      for (const store of task.stores.values()) void store.bytes.close();
    }
    this.support.failedRecords.flushLog();
  }
}

function positiveCount(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new StreamsError(`${name} must be a whole number of partitions, 1 or more; got ${value}`);
  return value;
}
