import type { RecordErrorHandler } from '../config/record-error-handler.js';
import { defaultLogger } from '../config/streams-config.js';
import { lateRecordsSettings, type LateRecordsSettings } from '../config/late-records.js';
import { resolveEventTime, type ResolvedEventTimeConfig } from '../config/event-time-config.js';
import { checkLateRecordsTopic } from '../runtime/late-records.js';
import type { Headers } from '../processor/record.js';
import type { Subtopology, Topology } from '../processor/topology.js';
import type { Logger } from '../logging/logger.js';
import { RecordAccounting, recordMetrics } from '../runtime/record-accounting.js';
import { addRecordCounts, emptyRecordCounts, type RecordCounts } from '../runtime/record-counts.js';
import type { OutgoingRecord, RecordSink } from '../runtime/record-sink.js';
import { StreamTask } from '../runtime/stream-task.js';
import { refusingChangelogSink } from '../runtime/production-exception-policy.js';
import { writeLimitsOf, type WriteLimitsByTopic } from '../runtime/topic-write-limits.js';
import { InMemoryBytesStore, type BytesStore } from '../stores/bytes-store.js';
import { ChangeLogging } from '../stores/change-logging.js';
import type { ChangelogSink } from '../stores/changelog-sink.js';
import type { ManagedStore } from '../stores/managed-store.js';
import { createStore } from '../stores/store-factory.js';
import type { StoreDefinition } from '../processor/store-definition.js';
import type { TestDriverMetrics, TopologyTestDriverOptions } from './topology-test-driver.js';

/**
 * What the test drivers (one partition, or many) share: the settings read from their options, how they make
 * a task (the runtime's StreamTask over in-memory stores, with the runtime's change-logging), how a failed
 * input record meets its exception handler, and the metrics summed over tasks.
 * @internal
 */
export class DriverSupport {
  readonly logger: Logger;
  readonly cacheMaxBytes: number;
  readonly maxRecordBytes: number;
  readonly writeLimits: WriteLimitsByTopic;
  /** Records the exception handlers skip or dead-letter, counted and logged as by KafkaStreams. */
  readonly failedRecords: RecordAccounting;
  /** Also what a store restored from its table's input topic does with a record it cannot read. */
  readonly deserializationExceptionHandler: RecordErrorHandler;
  /** Where records late for their window or session go, if anywhere (checked against the topology). */
  readonly lateRecords: LateRecordsSettings | undefined;
  /** The event-time mode (idle advance by the driver's wall clock; no markers: tasks run in order here). */
  readonly eventTime: ResolvedEventTimeConfig | undefined;

  constructor(
    private readonly topology: Topology,
    private readonly options: TopologyTestDriverOptions,
    private readonly wallClock: () => number,
  ) {
    this.cacheMaxBytes = options.cacheMaxBytes ?? 1024 * 1024;
    this.logger = options.logger ?? lazyDefaultLogger(topology.applicationId);
    this.deserializationExceptionHandler = options.deserializationExceptionHandler ?? 'fail';
    this.failedRecords = new RecordAccounting(
      { deserializationExceptionHandler: this.deserializationExceptionHandler, processingExceptionHandler: options.processingExceptionHandler ?? 'fail' },
      this.logger,
    );
    this.writeLimits = new Map(Object.entries(options.topicConfigs ?? {}).map(([topic, configs]) => [topic, writeLimitsOf(new Map(Object.entries(configs)))]));
    this.maxRecordBytes = options.maxRecordBytes ?? 1_048_588;
    this.lateRecords = lateRecordsSettings(options.lateRecords);
    checkLateRecordsTopic(topology, this.lateRecords);
    this.eventTime = resolveEventTime(options.eventTime, 0);
  }

  /** A changelog sink that refuses, as the runtime's does, a record its changelog topic would refuse. */
  changelogSink(sink: ChangelogSink): ChangelogSink {
    return refusingChangelogSink(sink, this.topology, this.writeLimits, this.maxRecordBytes, this.wallClock);
  }

  /**
   * A task of the topology, as the runtime makes one, over the given byte stores (default: new in-memory
   * ones); its stores log to `changelog`.
   */
  task(spec: {
    subtopology: Subtopology;
    partition: number;
    sink: RecordSink;
    changelog: ChangelogSink;
    globalStores?: ReadonlyMap<string, ManagedStore>;
    initialStreamTime?: number;
    bytesOf?: (definition: StoreDefinition) => BytesStore;
  }): StreamTask {
    const { options, topology } = this;
    return new StreamTask({
      topology,
      subtopology: spec.subtopology,
      partition: spec.partition,
      sink: spec.sink,
      createStore: (definition) =>
        createStore(
          definition,
          spec.bytesOf?.(definition) ?? new InMemoryBytesStore(),
          this.cacheMaxBytes,
          ChangeLogging.of(definition, topology.applicationId, spec.changelog),
          spec.subtopology.sourceTopics,
        ),
      wallClock: this.wallClock,
      logger: this.logger,
      initialStreamTime: spec.initialStreamTime,
      productionExceptionHandler: options.productionExceptionHandler,
      maxRecordBytes: this.maxRecordBytes,
      writeLimits: this.writeLimits,
      traceInputOrigins: options.traceInputOrigins ?? this.lateRecords !== undefined,
      lateRecords: this.lateRecords,
      // As Kafka Streams' driver: left/outer joins and onWindowClose aggregations look for closed windows at every record.
      emitIntervalMs: 0,
      globalStores: spec.globalStores,
      eventTime: this.eventTime === undefined ? undefined : { config: this.eventTime, upstreamTasks: undefined },
    });
  }

  /**
   * Processes one input record on a task; a failure goes, as in the runtime's TaskExecutor, to the record's
   * exception handler (dead letters go to `deadLetters`), or is thrown. A global task's failure is thrown.
   */
  process(
    task: StreamTask,
    global: boolean,
    record: { topic: string; partition: number; offset: number; key: Buffer | null; value: Buffer | null; timestamp: number; headers: Headers },
    deadLetters: { enqueue(record: OutgoingRecord): void },
  ): void {
    const { topic, partition, key, value, timestamp, headers } = record;
    const offset = String(record.offset);
    try {
      task.process(topic, partition, offset, key, value, timestamp, headers);
    } catch (err) {
      const failed = { topic, partition, offset, key, value, timestamp, headers };
      if (global || !this.failedRecords.handle(err, failed, deadLetters)) throw err;
    }
  }

  /** The metrics of tasks (and of `earlier`: counts of tasks the driver replaced), as KafkaStreams' `metrics()` names them. */
  metrics(tasks: Iterable<StreamTask>, earlier?: Readonly<RecordCounts>): TestDriverMetrics {
    const counts = emptyRecordCounts();
    if (earlier !== undefined) addRecordCounts(counts, earlier);
    for (const task of tasks) addRecordCounts(counts, task.counters);
    return {
      ...recordMetrics(counts, this.failedRecords),
      processed: counts.processed,
      droppedLate: counts.droppedLate,
      droppedNullKey: counts.droppedNullKey,
      droppedProduction: counts.droppedProduction,
      deadLetteredProduction: counts.deadLetteredProduction,
    };
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
