import type { ProductionExceptionHandler } from '../config/production-exception-handler.js';
import type { Headers } from '../processor/record.js';
import type { Topology } from '../processor/topology.js';
import { StreamsError } from '../errors/errors.js';
import type { Serde } from '../serdes/serde.js';
import type { ChangelogSink } from '../stores/changelog-sink.js';
import type { KeyValueStore, SessionStore, VersionedKeyValueStore, WindowStore } from '../stores/state-store.js';
import { keyValueStoreOf, sessionStoreOf, versionedStoreOf, windowStoreOf, type ManagedStore } from '../stores/managed-store.js';
import type { Logger } from '../logging/logger.js';
import type { RecordErrorHandler } from '../config/record-error-handler.js';
import type { RecordMetrics } from '../runtime/record-accounting.js';
import type { OutgoingRecord } from '../runtime/record-sink.js';
import { StoreCommit } from '../runtime/store-commit.js';
import type { StreamTask } from '../runtime/stream-task.js';
import type { LateRecordsSettings } from '../config/late-records.js';
import type { EventTimeConfig } from '../config/event-time-config.js';
import { DriverSupport } from './driver-support.js';
import { TestInputTopic, TestOutputTopic } from './test-topics.js';

export { TestInputTopic, TestOutputTopic, type TestRecord } from './test-topics.js';

/** Settings of a {@link TopologyTestDriver}. */
export interface TopologyTestDriverOptions {
  /** Cache budget of each store; default 1 MiB. The driver commits after every input record anyway. */
  cacheMaxBytes?: number;
  /**
   * Where drops and skips are logged, in the same lines as KafkaStreams logs them; default: KafkaStreams'
   * default logger (pino on stderr, at the `KSTREAMS_LOG_LEVEL` environment variable, else 'info').
   */
  logger?: Logger;
  /** As in KafkaStreams: a record that cannot be deserialized fails (default), is skipped, or is dead-lettered. */
  deserializationExceptionHandler?: RecordErrorHandler;
  /**
   * As in KafkaStreams: a record whose processing throws fails (default), is skipped, or is dead-lettered.
   * Dead letters are readable as output of their topic.
   */
  processingExceptionHandler?: RecordErrorHandler;
  /** As in KafkaStreams: an output record that cannot be produced fails (default), is dropped or dead-lettered. */
  productionExceptionHandler?: ProductionExceptionHandler;
  /**
   * Configs of the topics the topology writes, as the broker would describe them, e.g.
   * `{ 'page-stats': { 'max.message.bytes': '800000', 'message.timestamp.after.max.ms': '3600000' } }`:
   * output records are checked against them as KafkaStreams checks them against the configs it reads at
   * start (size, timestamp range against the driver's wall clock, no key on a compacted topic).
   */
  topicConfigs?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** The broker's record size limit to check output against; default 1 048 588. */
  maxRecordBytes?: number;
  /**
   * As in KafkaStreams: records late for their window or session go to this topic, readable with
   * `createOutputTopic` (their original bytes, with the `kstreams.late.*` headers), instead of being dropped.
   */
  lateRecords?: LateRecordsSettings;
  /**
   * As KafkaStreams does when failed records are dead-lettered: records crossing a repartition topic keep
   * the input record they came from, and a processing error names it. Default false (true with lateRecords).
   */
  traceInputOrigins?: boolean;
  /**
   * The event-time mode, as in KafkaStreams (our extension; off when unset): `advanceWallClockTime` drives
   * idle advance (the driver's input is always caught up). Progress markers are not needed here: the driver
   * runs one task per sub-topology and processes repartitioned records at once, in order.
   */
  eventTime?: EventTimeConfig;
}

/**
 * Dropped and processed records, summed over the driver's tasks: the counters of KafkaStreams' `metrics()`
 * (RecordMetrics), made by the same code from the same counts.
 */
export interface TestDriverMetrics extends RecordMetrics {
  /** Records processed, repartitioned ones included (processedTotal). */
  processed: number;
  /** Records dropped as late (droppedLateTotal). */
  droppedLate: number;
  /** Records an aggregation dropped for their null key (droppedNullKeyTotal). */
  droppedNullKey: number;
  /** Output records the production exception handler dropped ('continue'). */
  droppedProduction: number;
  /** Output records the production exception handler sent to its dead-letter topic. */
  deadLetteredProduction: number;
}

/**
 * Runs a topology in memory, synchronously and deterministically, for unit tests: no broker, no timers.
 * Every sub-topology runs as one task (partition 0); records written to a topic that the topology also reads
 * (repartition topics) are processed at once; after each input record the driver commits (stores flush, and
 * changelog records become readable as `<app>-<store>-changelog`).
 */
export class TopologyTestDriver {
  private readonly tasks: StreamTask[];
  /** One task per global sub-topology: records piped to a global topic update its store at once, as in Kafka Streams' driver. */
  private readonly globalTasks: StreamTask[];
  private readonly outputs = new Map<string, OutgoingRecord[]>();
  private readonly offsets = new Map<string, number>();
  /** Offset of the last record written to each changelog topic: the position a commit writes with the data. */
  private readonly changelogOffsets = new Map<string, bigint>();
  private readonly pending: OutgoingRecord[] = [];
  /** Settings, task making and record accounting, shared with the PartitionedTopologyTestDriver. */
  private readonly support: DriverSupport;
  /** Dead letters are written like any output (and processed when the topology reads their topic). */
  private readonly deadLetters = { enqueue: (record: OutgoingRecord): void => void this.pending.push(record) };
  private wallClock: number;
  private closed = false;

  constructor(
    private readonly topology: Topology,
    options: TopologyTestDriverOptions = {},
    initialWallClockMs = 0,
  ) {
    this.wallClock = initialWallClockMs;
    this.support = new DriverSupport(topology, options, () => this.wallClock);
    // The changelog records of the runtime's change-logging layer, readable at once as output topics.
    const changelog: ChangelogSink = this.support.changelogSink({
      send: (record) => {
        this.changelogOffsets.set(record.topic, (this.changelogOffsets.get(record.topic) ?? -1n) + 1n);
        this.record({ ...record, timestamp: record.timestamp ?? this.wallClock, partition: 0 });
      },
    });
    const sink = { send: (record: OutgoingRecord) => this.pending.push(record), partitionsFor: () => 1 };
    this.globalTasks = topology.globalSubtopologies.map((subtopology) => this.support.task({ subtopology, partition: 0, sink, changelog }));
    const globalStores = new Map(this.globalTasks.flatMap((task) => [...task.stores]));
    this.tasks = topology.subtopologies.map((subtopology) => this.support.task({ subtopology, partition: 0, sink, changelog, globalStores }));
    for (const task of this.globalTasks) task.init();
    for (const task of this.tasks) task.init();
  }

  /** A handle to pipe records into a source topic, e.g. `driver.createInputTopic('page-views', Serdes.String(), Serdes.Json<PageView>())`. */
  createInputTopic<K, V>(topic: string, keySerde: Serde<K>, valueSerde: Serde<V>): TestInputTopic<K, V> {
    if (this.topology.subtopologyOfTopic(topic) === undefined && this.topology.globalSubtopologyOfTopic(topic) === undefined) {
      throw new StreamsError(
        `Topic '${topic}' is not read by this topology; it reads: ${this.topology.externalSourceTopics().join(', ')}`,
      );
    }
    return new TestInputTopic(this, topic, keySerde, valueSerde);
  }

  /** A handle to read what the topology wrote to a topic (also `<app>-<store>-changelog`). */
  createOutputTopic<K, V>(topic: string, keySerde: Serde<K>, valueSerde: Serde<V>): TestOutputTopic<K, V> {
    return new TestOutputTopic(this, topic, keySerde, valueSerde);
  }

  /** @internal Used by TestInputTopic. */
  pipeRaw(topic: string, key: Buffer | null, value: Buffer | null, timestamp: number, headers: Headers): void {
    this.ensureOpen();
    this.deliver(topic, key, value, timestamp, headers);
    this.completeAllWork();
  }

  /**
   * Commits after the record, as Kafka Streams' driver does, then processes what the record and the commit
   * wrote to topics the topology reads (repartition topics), each record followed by a commit, in order.
   */
  private completeAllWork(): void {
    for (;;) {
      this.commit();
      const record = this.pending.shift();
      if (record === undefined) return;
      this.record(record);
      if (this.topology.subtopologyOfTopic(record.topic) !== undefined) {
        this.deliver(record.topic, record.key, record.value, record.timestamp, record.headers);
      }
    }
  }

  private deliver(topic: string, key: Buffer | null, value: Buffer | null, timestamp: number, headers: Headers): void {
    const offset = this.offsets.get(topic) ?? 0;
    this.offsets.set(topic, offset + 1);
    const global = this.topology.globalSubtopologyOfTopic(topic);
    const task =
      global !== undefined ? this.globalTasks[global.id - this.topology.subtopologies.length]! : this.tasks[this.topology.subtopologyOfTopic(topic)!.id]!;
    // As the runtime's TaskExecutor: the record's exception handler decides, or the error is thrown.
    this.support.process(task, global !== undefined, { topic, partition: 0, offset, key, value, timestamp, headers }, this.deadLetters);
  }

  private record(record: OutgoingRecord): void {
    const list = this.outputs.get(record.topic);
    if (list === undefined) this.outputs.set(record.topic, [record]);
    else list.push(record);
  }

  /**
   * Commits every task as the runtime does (see StoreCommit): caching stores forward their results and the
   * changelog records reach their topics now; the stores' bytes are written at once, in memory.
   */
  private commit(): void {
    for (const task of [...this.globalTasks, ...this.tasks]) {
      void StoreCommit.flush(task).write((topic) => this.changelogOffsets.get(topic)); // in memory: done before this returns
    }
  }

  /** @internal Used by TestOutputTopic. */
  takeOutput(topic: string, count: number): OutgoingRecord[] {
    const list = this.outputs.get(topic) ?? [];
    return list.splice(0, count);
  }

  /** @internal */
  outputSize(topic: string): number {
    return this.outputs.get(topic)?.length ?? 0;
  }

  /** @internal */
  get currentWallClock(): number {
    return this.wallClock;
  }

  /** Moves the wall clock forward and fires wall-clock punctuators that came due. */
  advanceWallClockTime(ms: number): void {
    this.ensureOpen();
    this.wallClock += ms;
    for (const task of this.tasks) {
      task.punctuateWallClock(this.wallClock);
      task.tickEventTime(this.wallClock, true, true);
    }
    this.completeAllWork();
  }

  private store(name: string): ManagedStore {
    for (const task of [...this.tasks, ...this.globalTasks]) {
      const store = task.stores.get(name);
      if (store !== undefined) return store;
    }
    throw new StreamsError(`No store named '${name}'; the topology has: ${[...this.topology.stores.keys()].join(', ')}`);
  }

  /** A key-value store of the topology, to read (or seed) its state; throws for an unknown name or another store type. */
  getKeyValueStore<K, V>(name: string): KeyValueStore<K, V> {
    return keyValueStoreOf<K, V>(this.store(name));
  }

  /** A session store of the topology, e.g. `driver.getSessionStore<string, Stats>('session-stats').fetch('user-1')`. */
  getSessionStore<K, V>(name: string): SessionStore<K, V> {
    return sessionStoreOf<K, V>(this.store(name));
  }

  /**
   * A versioned key-value store of the topology (`Stores.persistentVersionedKeyValueStore`), e.g.
   * `driver.getVersionedKeyValueStore<string, string>('users').get('u1', 1000)` for the value as of a time.
   */
  getVersionedKeyValueStore<K, V>(name: string): VersionedKeyValueStore<K, V> {
    return versionedStoreOf<K, V>(this.store(name));
  }

  /** A window store of the topology. */
  getWindowStore<K, V>(name: string): WindowStore<K, V> {
    return windowStoreOf<K, V>(this.store(name));
  }

  /** Records processed, dropped, skipped and dead-lettered so far, named as in KafkaStreams' `metrics()`. */
  metrics(): TestDriverMetrics {
    return this.support.metrics([...this.tasks, ...this.globalTasks]);
  }

  private ensureOpen(): void {
    if (this.closed) throw new StreamsError('The TopologyTestDriver is closed');
  }

  /** Closes the tasks and their in-memory stores; the driver cannot be used afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const task of [...this.tasks, ...this.globalTasks]) {
      task.close();
      for (const store of task.stores.values()) void store.bytes.close();
    }
    // After the tasks', as the runtime's thread logs them at its close.
    this.support.failedRecords.flushLog();
  }
}

