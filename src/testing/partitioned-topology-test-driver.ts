import { StreamsError } from '../errors/errors.js';
import type { StreamPartitioner } from '../processor/stream-partitioner.js';
import { formatTaskId, type TaskId } from '../processor/task-id.js';
import type { Topology } from '../processor/topology.js';
import { partitionForKey } from '../runtime/murmur2.js';
import { resolvePartitionCounts, type TopologyMetadata } from '../runtime/partition-counts.js';
import type { OutgoingRecord, RecordSink } from '../runtime/record-sink.js';
import { StoreCommit } from '../runtime/store-commit.js';
import type { StreamTask } from '../runtime/stream-task.js';
import type { Serde } from '../serdes/serde.js';
import type { ChangelogSink } from '../stores/changelog-sink.js';
import { keyValueStoreOf, sessionStoreOf, windowStoreOf, type ManagedStore } from '../stores/managed-store.js';
import type { KeyValueStore, SessionStore, WindowStore } from '../stores/state-store.js';
import { DriverSupport } from './driver-support.js';
import { DriverTasks } from './driver-tasks.js';
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
  /**
   * Keep each task's persistent stores in LevelDB under `<stateDir>/<applicationId>/<taskId>/<store>`, as
   * the runtime does (global stores stay in memory): open the driver with
   * {@link PartitionedTopologyTestDriver.create}. A restarted task then keeps its stores and restores only
   * what its changelog holds beyond their position; a moved one starts from an empty folder.
   */
  stateDir?: string;
}

/** Set while `create` constructs a driver with a state dir (whose tasks it then opens). */
let opening = false;

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
  private readonly tasks: DriverTasks;
  /** One task per global sub-topology, reading every partition of its topic (a global store is whole everywhere). */
  private readonly globalTasks: StreamTask[];
  private readonly globalStores: ReadonlyMap<string, ManagedStore>;
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
    if (options.stateDir !== undefined && !opening) {
      throw new StreamsError('With a stateDir the stores are LevelDB ones, opened asynchronously: use `await PartitionedTopologyTestDriver.create(topology, options)`');
    }
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
    for (const task of this.globalTasks) task.init();
    const parts = topology.subtopologies.flatMap((s) =>
      Array.from({ length: this.metadata.partitionsBySubtopology.get(s.id)! }, (_, partition) => ({ subtopology: s.id, partition })),
    );
    const changelogOf = (partition: number): ChangelogSink => this.changelogOf(partition);
    const { support, logs, sink, globalStores } = this;
    this.tasks = new DriverTasks({ topology, support, logs, sink, globalStores, changelogOf, stateDir: options.stateDir }, parts);
    if (options.stateDir === undefined) this.tasks.createInMemory(); // else create() opens them
  }

  /**
   * A driver whose tasks keep their persistent stores in LevelDB under `options.stateDir` (without one, the
   * same as the constructor). Stores found there from an earlier run are verified and, being ahead of the
   * driver's empty changelogs, wiped, as the runtime does. Close it with `await driver.close()`.
   */
  static async create(topology: Topology, options: PartitionedTopologyTestDriverOptions = {}, initialWallClockMs = 0): Promise<PartitionedTopologyTestDriver> {
    opening = true;
    let driver: PartitionedTopologyTestDriver;
    try {
      driver = new PartitionedTopologyTestDriver(topology, options, initialWallClockMs);
    } finally {
      opening = false;
    }
    if (options.stateDir === undefined) return driver;
    try {
      await driver.tasks.open();
    } catch (err) {
      await driver.close();
      throw err;
    }
    return driver;
  }

  /** The partition count of a topic: the topology's for internal topics, else the declared or default one. */
  partitionsOf(topic: string): number {
    // (metadata is undefined while the constructor works it out from the declared counts)
    return this.metadata?.partitionsByTopic.get(topic) ?? this.declared.get(topic) ?? this.defaultPartitions;
  }

  /** The ids of the tasks the driver runs, in order: `0_0`, `0_1`, …, `1_0`, … */
  taskIds(): string[] {
    return this.tasks.ids();
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
    const hashed = record.partitionKey ?? record.key;
    if (partition === undefined && hashed !== null) partition = partitionForKey(hashed, count);
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

  /** Commits every task as the runtime does (see StoreCommit and DriverTasks.commit). */
  private commit(): void {
    for (const task of this.globalTasks) void StoreCommit.flush(task).write((topic) => this.logs.lastOffset(topic, 0));
    this.tasks.commit();
  }

  /** Each task's changelog records go to its partition of the store's changelog topic, as the runtime's. */
  private changelogOf(partition: number): ChangelogSink {
    return this.support.changelogSink({ send: (record) => void this.logs.append({ ...record, timestamp: record.timestamp ?? this.wallClock, partition }) });
  }

  /**
   * Moves a task to another instance, mid-stream: the task closes, its local state is dropped, and a new
   * task of the same id (new processors, its stream time as last committed) restores every logged store
   * from its changelog partition, with the runtime's restore code, and goes on with the next record. Await
   * it before piping more. Stores with logging disabled come back empty, as they would.
   */
  async moveTask(taskId: string): Promise<void> {
    await this.replaceTask(taskId, true);
  }

  /**
   * Restarts a task, as when its instance restarts: the task closes and comes back with what its changelog
   * holds. With a state dir its LevelDB stores stay, and only the changelog beyond their position is
   * restored; in memory nothing local survives a restart, so this restores all as {@link moveTask} does.
   */
  async restartTask(taskId: string): Promise<void> {
    await this.replaceTask(taskId, false);
  }

  private async replaceTask(taskId: string, move: boolean): Promise<void> {
    this.ensureRunnable();
    const old = this.tasks.get(taskId);
    if (old === undefined) throw new StreamsError(`No task '${taskId}'; the driver runs: ${this.taskIds().join(', ')}`);
    this.replacing = old.id;
    try {
      await this.tasks.replace(old.id, move);
    } finally {
      this.replacing = undefined;
    }
  }

  /** Moves the wall clock forward and fires the wall-clock punctuators that came due, task by task in task id order. */
  advanceWallClockTime(ms: number): void {
    this.ensureRunnable();
    this.wallClock += ms;
    for (const task of this.tasks.values()) {
      task.punctuateWallClock(this.wallClock);
      task.tickEventTime(this.wallClock, true, true);
    }
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
    return this.support.metrics([...this.tasks.values(), ...this.globalTasks], this.tasks.replacedCounts);
  }

  private ensureRunnable(): void {
    if (this.closed) throw new StreamsError('The PartitionedTopologyTestDriver is closed');
    this.tasks.checkWrites();
    if (this.replacing !== undefined) throw new StreamsError(`Task ${this.replacing} is being moved or restarted: await moveTask/restartTask first`);
  }

  /** Closes the tasks and their stores (after their last commit is written); the driver cannot be used afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tasks.close();
    for (const task of this.globalTasks) {
      task.close();
      for (const store of task.stores.values()) await store.bytes.close();
    }
    this.support.failedRecords.flushLog();
  }
}

function positiveCount(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new StreamsError(`${name} must be a whole number of partitions, 1 or more; got ${value}`);
  return value;
}
