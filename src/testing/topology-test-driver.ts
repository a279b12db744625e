import type { ProductionExceptionHandler } from '../config/production-exception-handler.js';
import type { Headers, KeyValue } from '../processor/record.js';
import type { Topology } from '../processor/topology.js';
import { StreamsError } from '../errors/errors.js';
import type { Serde } from '../serdes/serde.js';
import { InMemoryBytesStore } from '../stores/bytes-store.js';
import { ChangeLogging } from '../stores/change-logging.js';
import type { ChangelogSink } from '../stores/changelog-sink.js';
import { createStore } from '../stores/store-factory.js';
import type { KeyValueStore, SessionStore, WindowStore } from '../stores/state-store.js';
import { keyValueStoreOf, sessionStoreOf, windowStoreOf, type ManagedStore } from '../stores/managed-store.js';
import type { Logger } from '../logging/logger.js';
import { defaultLogger } from '../config/streams-config.js';
import { resolveEventTime, type EventTimeConfig } from '../config/event-time-config.js';
import type { RecordErrorHandler } from '../config/record-error-handler.js';
import { RecordAccounting, recordMetrics, type RecordMetrics } from '../runtime/record-accounting.js';
import { addRecordCounts, emptyRecordCounts } from '../runtime/record-counts.js';
import type { OutgoingRecord } from '../runtime/record-sink.js';
import { StoreCommit } from '../runtime/store-commit.js';
import { StreamTask } from '../runtime/stream-task.js';
import { refusingChangelogSink } from '../runtime/production-exception-policy.js';
import { writeLimitsOf } from '../runtime/topic-write-limits.js';

/** A record read from a test output topic. */
export interface TestRecord<K, V> {
  /** The key, deserialized (null for a null key). */
  readonly key: K | null;
  /** The value, deserialized (null for a tombstone). */
  readonly value: V | null;
  /** The record's timestamp (ms since the epoch). */
  readonly timestamp: number;
  /** Its headers. */
  readonly headers: Headers;
}

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
   * As KafkaStreams does when failed records are dead-lettered: records crossing a repartition topic keep
   * the input record they came from, and a processing error names it. Default false.
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
  /** Records the exception handlers skip or dead-letter, counted and logged as by KafkaStreams. */
  private readonly failedRecords: RecordAccounting;
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
    const budget = options.cacheMaxBytes ?? 1024 * 1024;
    const eventTime = resolveEventTime(options.eventTime, 0);
    const logger = options.logger ?? lazyDefaultLogger(topology.applicationId);
    this.failedRecords = new RecordAccounting(
      { deserializationExceptionHandler: options.deserializationExceptionHandler ?? 'fail', processingExceptionHandler: options.processingExceptionHandler ?? 'fail' },
      logger,
    );
    // The changelog records of the runtime's change-logging layer, readable at once as output topics.
    const writeLimits = new Map(Object.entries(options.topicConfigs ?? {}).map(([topic, configs]) => [topic, writeLimitsOf(new Map(Object.entries(configs)))]));
    const maxRecordBytes = options.maxRecordBytes ?? 1_048_588;
    const changelogRecords: ChangelogSink = {
      send: (record) => {
        this.changelogOffsets.set(record.topic, (this.changelogOffsets.get(record.topic) ?? -1n) + 1n);
        this.record({ ...record, timestamp: this.wallClock, partition: 0 });
      },
    };
    const changelog = refusingChangelogSink(changelogRecords, topology, writeLimits, maxRecordBytes, () => this.wallClock);
    const taskFor = (subtopology: Topology['subtopologies'][number], globalStores?: ReadonlyMap<string, ManagedStore>): StreamTask =>
      new StreamTask({
        topology,
        subtopology,
        partition: 0,
        sink: { send: (record) => this.pending.push(record), partitionsFor: () => 1 },
        createStore: (definition) =>
          createStore(definition, new InMemoryBytesStore(), budget, ChangeLogging.of(definition, topology.applicationId, changelog)),
        wallClock: () => this.wallClock,
        logger,
        productionExceptionHandler: options.productionExceptionHandler,
        maxRecordBytes,
        writeLimits,
        traceInputOrigins: options.traceInputOrigins,
        // As Kafka Streams' driver: left/outer joins and onWindowClose aggregations look for closed windows at every record.
        emitIntervalMs: 0,
        globalStores,
        eventTime: eventTime === undefined ? undefined : { config: eventTime, upstreamTasks: undefined },
      });
    this.globalTasks = topology.globalSubtopologies.map((subtopology) => taskFor(subtopology));
    const globalStores = new Map(this.globalTasks.flatMap((task) => [...task.stores]));
    this.tasks = topology.subtopologies.map((subtopology) => taskFor(subtopology, globalStores));
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
    try {
      task.process(topic, 0, String(offset), key, value, timestamp, headers);
    } catch (err) {
      // As the runtime's TaskExecutor: the record's exception handler decides, or the error is thrown.
      const failed = { topic, partition: 0, offset: String(offset), key, value, timestamp, headers };
      if (global !== undefined || !this.failedRecords.handle(err, failed, this.deadLetters)) throw err;
    }
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

  /** A window store of the topology. */
  getWindowStore<K, V>(name: string): WindowStore<K, V> {
    return windowStoreOf<K, V>(this.store(name));
  }

  /** Records processed, dropped, skipped and dead-lettered so far, named as in KafkaStreams' `metrics()`. */
  metrics(): TestDriverMetrics {
    const counts = emptyRecordCounts();
    for (const task of [...this.tasks, ...this.globalTasks]) addRecordCounts(counts, task.counters);
    return {
      ...recordMetrics(counts, this.failedRecords),
      processed: counts.processed,
      droppedLate: counts.droppedLate,
      droppedNullKey: counts.droppedNullKey,
      droppedProduction: counts.droppedProduction,
      deadLetteredProduction: counts.deadLetteredProduction,
    };
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
    this.failedRecords.flushLog();
  }
}

/** KafkaStreams' default logger, made only when something is logged (most drivers never log). */
function lazyDefaultLogger(applicationId: string): Logger {
  let logger: Logger | undefined;
  const made = (): Logger => (logger ??= defaultLogger(applicationId));
  return {
    debug: (message, fields) => made().debug(message, fields),
    info: (message, fields) => made().info(message, fields),
    warn: (message, fields) => made().warn(message, fields),
    error: (message, fields) => made().error(message, fields),
  };
}

/** Pipes typed records into one source topic of a TopologyTestDriver. */
export class TestInputTopic<K, V> {
  /** @internal */
  constructor(
    private readonly driver: TopologyTestDriver,
    /** The source topic records are piped into. */
    readonly topic: string,
    private readonly keySerde: Serde<K>,
    private readonly valueSerde: Serde<V>,
  ) {}

  /** Processes one record now; the timestamp defaults to the driver's wall clock. */
  pipeInput(key: K | null, value: V | null, timestampMs?: number, headers: Headers = {}): void {
    this.driver.pipeRaw(
      this.topic,
      key === null ? null : this.keySerde.serialize(key, this.topic),
      value === null ? null : this.valueSerde.serialize(value, this.topic),
      timestampMs ?? this.driver.currentWallClock,
      headers,
    );
  }

  /** Pipes each pair, at `startTimestampMs` and then `advanceMs` apart. */
  pipeKeyValueList(records: ReadonlyArray<KeyValue<K | null, V | null>>, startTimestampMs?: number, advanceMs = 0): void {
    let timestamp = startTimestampMs ?? this.driver.currentWallClock;
    for (const { key, value } of records) {
      this.pipeInput(key, value, timestamp);
      timestamp += advanceMs;
    }
  }
}

/** Reads typed records from one topic the topology wrote to, oldest first. */
export class TestOutputTopic<K, V> {
  /** @internal */
  constructor(
    private readonly driver: TopologyTestDriver,
    /** The topic read. */
    readonly topic: string,
    private readonly keySerde: Serde<K>,
    private readonly valueSerde: Serde<V>,
  ) {}

  private decode(record: OutgoingRecord): TestRecord<K, V> {
    return {
      key: record.key === null ? null : this.keySerde.deserialize(record.key, this.topic),
      value: record.value === null ? null : this.valueSerde.deserialize(record.value, this.topic),
      timestamp: record.timestamp,
      headers: record.headers,
    };
  }

  /** True when every record written to the topic has been read. */
  isEmpty(): boolean {
    return this.driver.outputSize(this.topic) === 0;
  }

  /** Records written to the topic and not read yet. */
  getQueueSize(): number {
    return this.driver.outputSize(this.topic);
  }

  /** The oldest unread record with its timestamp and headers; throws when there is none. */
  readRecord(): TestRecord<K, V> {
    const [record] = this.driver.takeOutput(this.topic, 1);
    if (record === undefined) throw new StreamsError(`No record left on output topic '${this.topic}'`);
    return this.decode(record);
  }

  /** The oldest unread record's key and value; throws when there is none. */
  readKeyValue(): KeyValue<K | null, V | null> {
    const { key, value } = this.readRecord();
    return { key, value };
  }

  /** Every unread record, oldest first. */
  readRecordsToList(): TestRecord<K, V>[] {
    return this.driver.takeOutput(this.topic, Number.MAX_SAFE_INTEGER).map((r) => this.decode(r));
  }

  /** Every unread record's key and value, oldest first, e.g. `expect(out.readKeyValuesToList()).toEqual([{ key: 'a', value: 2 }])`. */
  readKeyValuesToList(): KeyValue<K | null, V | null>[] {
    return this.readRecordsToList().map(({ key, value }) => ({ key, value }));
  }
}
