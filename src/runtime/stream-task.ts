import type { Cancellable, Processor, PunctuationType, Punctuator } from '../processor/processor-api.js';
import type { Headers, RecordMetadata, StreamRecord } from '../processor/record.js';
import type { NodeDef, SourceNodeDef } from '../processor/internals/graph.js';
import type { InternalProcessorContext } from '../processor/internals/internal-processor-context.js';
import type { Subtopology, Topology } from '../processor/topology.js';
import { ProcessingError, ProductionError, StateStoreError, StreamsError } from '../errors/errors.js';
import type { BytesEntry } from '../stores/bytes-store.js';
import type { ManagedStore } from '../stores/managed-store.js';
import type { StoreDefinition } from '../processor/store-definition.js';
import { formatTaskId, type TaskId } from '../processor/task-id.js';
import type { Logger } from '../logging/logger.js';
import { DroppedRecordsLog } from './dropped-records-log.js';
import { TaskCounters } from './record-counts.js';
import { PunctuationQueue } from './punctuation-queue.js';
import type { RecordSink } from './record-sink.js';
import type { ProductionExceptionHandler } from '../config/production-exception-handler.js';
import type { WriteLimitsByTopic } from './topic-write-limits.js';
import { ORIGIN_HEADER, SinkWriter } from './sink-writer.js';
import type { ResolvedEventTimeConfig } from '../config/event-time-config.js';
import { TaskEventTime } from './task-event-time.js';
import { InputPreparer, type PreparedInput } from './prepared-input.js';
import type { LateRecordsSettings } from '../config/late-records.js';
import { LateRecordRouter } from './late-records.js';

interface NodeRuntime {
  readonly def: NodeDef;
  readonly children: NodeRuntime[];
  processor?: Processor<unknown, unknown, unknown, unknown>;
}

export interface StreamTaskOptions {
  readonly topology: Topology;
  readonly subtopology: Subtopology;
  readonly partition: number;
  readonly sink: RecordSink;
  /** Creates the typed store of a definition. */
  readonly createStore: (definition: StoreDefinition) => ManagedStore;
  readonly wallClock: () => number;
  readonly logger: Logger;
  /** Stream time to start from (restored from committed offset metadata); default -Infinity. */
  readonly initialStreamTime?: number;
  /** An output record that cannot be serialized, or that its topic would refuse: fail (default), drop or dead-letter it. */
  readonly productionExceptionHandler?: ProductionExceptionHandler;
  /** The largest record the broker accepts (its `message.max.bytes`); default 1 048 588. */
  readonly maxRecordBytes?: number;
  /** What each topic the task writes by name accepts (read at start); output records are checked against it before they are sent. */
  readonly writeLimits?: WriteLimitsByTopic;
  /**
   * Records written to repartition topics carry the input record they came from in a header
   * (`ORIGIN_HEADER`), so that an error downstream names it; on when failed records are dead-lettered.
   */
  readonly traceInputOrigins?: boolean;
  /** See InternalProcessorContext.emitIntervalMs; default 1000. */
  readonly emitIntervalMs?: number;
  /** The instance's global stores, which every processor may read without being connected to them. */
  readonly globalStores?: ReadonlyMap<string, ManagedStore>;
  /**
   * The event-time mode (our extension; see EventTimeClock): `upstreamTasks` as `upstreamTasksOf` gives them.
   * Undefined: off, and the task keeps Kafka Streams' stream time exactly.
   */
  readonly eventTime?: { readonly config: ResolvedEventTimeConfig; readonly upstreamTasks: readonly string[] | undefined };
  /** Records late for their window go to this topic instead of being dropped (StreamsConfig lateRecords). */
  readonly lateRecords?: LateRecordsSettings;
}

/**
 * One task: a sub-topology running for one partition. It turns raw records into typed ones, drives them
 * through the processors synchronously (no promise per record), writes sink output to the RecordSink, and
 * fires punctuators. The Kafka runtime and the TopologyTestDriver both run their records through here.
 */
export class StreamTask {
  readonly id: TaskId;
  readonly counters = new TaskCounters();
  readonly stores = new Map<string, ManagedStore>();
  private readonly nodes = new Map<string, NodeRuntime>();
  private readonly sourceNodes = new Map<string, NodeRuntime>();
  private readonly punctuation = new PunctuationQueue();
  private current: NodeRuntime | undefined;
  private metadata: RecordMetadata | undefined;
  /** The input record behind the current one, when it came through a repartition topic (traced). */
  private inputOrigin: string | undefined;
  private time: number;
  private initialized = false;
  private readonly dropped: DroppedRecordsLog;
  private readonly inputs: InputPreparer;
  private readonly sinks: SinkWriter;
  /** The event-time mode; undefined when off. */
  private readonly eventTime: TaskEventTime | undefined;
  private readonly late: LateRecordRouter | undefined;
  /** The input record being processed (undefined in a punctuation or a flush). */
  private input: PreparedInput | undefined;

  constructor(private readonly options: StreamTaskOptions) {
    const { subtopology, partition } = options;
    this.id = formatTaskId({ subtopology: subtopology.id, partition });
    this.time = options.initialStreamTime ?? Number.NEGATIVE_INFINITY;
    this.dropped = new DroppedRecordsLog(`task ${this.id}`, options.logger, options.wallClock);
    this.inputs = new InputPreparer(this.counters, this.dropped);
    this.sinks = new SinkWriter(options, this.counters, this.dropped);
    const { eventTime, topology, sink, wallClock, logger } = options;
    this.eventTime =
      eventTime === undefined
        ? undefined
        : new TaskEventTime(
            { eventTime, taskId: this.id, topology, subtopology, sink, initial: this.time, wallClock, logger },
            {
              leaveRecord: () => {
                this.metadata = undefined;
                this.input = undefined;
                this.inputOrigin = undefined;
              },
              punctuate: (now) => {
                if (!this.punctuation.isEmpty) this.firePunctuators('STREAM_TIME', now);
              },
            },
          );
    if (options.lateRecords !== undefined) {
      const limits = options.writeLimits;
      const maxRecordBytes = options.maxRecordBytes ?? 1_048_588;
      this.late = new LateRecordRouter({ settings: options.lateRecords, taskId: this.id, sink, limits, maxRecordBytes, wallClock, counts: this.counters, dropped: this.dropped });
    }
    for (const definition of subtopology.stores) {
      const store = options.createStore(definition);
      // Resuming: what the stores had observed is at most the task's stream time at its last commit.
      if (Number.isFinite(this.time)) store.observe(this.time);
      // Expiry trails the stream time the processors have closed by, so a rise emits what closed before it expires.
      const eventTimeOfTask = this.eventTime;
      if (eventTimeOfTask !== undefined) store.boundObservedTime(() => eventTimeOfTask.closedBy);
      this.stores.set(definition.name, store);
    }
    for (const def of subtopology.nodes) this.nodes.set(def.name, { def, children: [] });
    for (const node of this.nodes.values()) {
      if (node.def.kind === 'source') continue;
      for (const parent of node.def.parents) this.nodes.get(parent)!.children.push(node);
    }
    for (const [topic, source] of subtopology.sourceByTopic) this.sourceNodes.set(topic, this.nodes.get(source.name)!);
  }

  /** The task's stream time (in the event-time mode, bounded by its clock: see EventTimeClock). */
  get streamTime(): number {
    return this.eventTime === undefined ? this.time : this.eventTime.streamTime(this.time);
  }

  /** The event-time mode's count of upstream tasks given up on (see EventTimeClock); 0 when off. */
  get upstreamWaitsExpired(): number {
    return this.eventTime?.waitsExpired ?? 0;
  }

  get partition(): number {
    return this.options.partition;
  }

  get subtopologyId(): number {
    return this.options.subtopology.id;
  }

  /** Creates the processors and calls their `init`, parents first. */
  init(): void {
    if (this.initialized) return;
    this.initialized = true;
    for (const node of this.nodes.values()) {
      if (node.def.kind !== 'processor') continue;
      node.processor = node.def.supplier();
      this.current = node;
      try {
        node.processor.init?.(this.contextFor());
      } catch (err) {
        throw new ProcessingError(undefined, node.def.name, err);
      } finally {
        this.current = undefined;
      }
    }
  }

  /**
   * Processes one raw record of a source topic: `prepare`, then `processPrepared`. Throws
   * DeserializationError when a serde cannot read it (nothing has been processed then), ProcessingError when
   * a processor throws, and a store's StateStoreError as it is.
   */
  process(
    topic: string,
    partition: number,
    offset: string,
    key: Buffer | null,
    value: Buffer | null,
    timestamp: number,
    headers: Headers,
  ): void {
    const prepared = this.prepare(topic, partition, offset, key, value, timestamp, headers);
    if (prepared !== undefined) this.processPrepared(prepared);
  }

  /**
   * The first half of processing, with no effect on stores or output: deserializes a raw record and
   * extracts its timestamp, so the runtime can order records by the time they will be processed with.
   * Returns undefined for a record dropped for an invalid timestamp (counted). Throws DeserializationError,
   * or ProcessingError when the extractor throws. Records of one partition must be prepared in offset order
   * (the extractor sees the partition time of those before).
   */
  prepare(
    topic: string,
    partition: number,
    offset: string,
    key: Buffer | null,
    value: Buffer | null,
    timestamp: number,
    headers: Headers,
  ): PreparedInput | undefined {
    const source = this.sourceNodes.get(topic);
    if (source === undefined) throw new StreamsError(`Task ${this.id} does not read topic ${topic}`);
    return this.inputs.prepare(source.def as SourceNodeDef, topic, partition, offset, key, value, timestamp, headers);
  }

  /** The second half: drives a prepared record through the processors (see `process` for what it throws). */
  processPrepared(prepared: PreparedInput): void {
    const { origin, timestamp } = prepared;
    if (prepared.marker !== undefined) {
      if (prepared.marker !== null && this.eventTime !== undefined) this.eventTime.marker(prepared.marker, this.time);
      return;
    }
    const source = this.sourceNodes.get(origin.topic);
    if (source === undefined) throw new StreamsError(`Task ${this.id} does not read topic ${origin.topic}`);
    let headers = prepared.headers;
    this.metadata = origin;
    this.input = prepared;
    this.inputOrigin = undefined;
    if (headers[ORIGIN_HEADER] !== undefined) {
      // Ours, not the user's: kept aside for errors and the next repartition, never forwarded.
      this.inputOrigin = String(headers[ORIGIN_HEADER]);
      headers = { ...headers };
      delete headers[ORIGIN_HEADER];
    }
    if (timestamp > this.time) this.time = timestamp;
    const record: StreamRecord<unknown, unknown> = { key: prepared.key, value: prepared.value, timestamp, headers };
    try {
      this.forward(source, record, undefined);
    } catch (err) {
      // A store's own failure (I/O, corruption) is the machine's, not the record's: it is never dead-lettered.
      const passThrough = err instanceof ProcessingError || err instanceof ProductionError || err instanceof StateStoreError;
      if (passThrough) throw err;
      throw new ProcessingError(origin, this.current?.def.name ?? source.def.name, err, this.inputOrigin);
    } finally {
      this.current = undefined;
      this.input = undefined;
    }
    this.counters.processed++;
    if (this.eventTime !== undefined) this.eventTime.recordProcessed(this.time);
    else if (!this.punctuation.isEmpty) this.firePunctuators('STREAM_TIME', this.time);
  }

  /**
   * The event-time mode, at each round's end for every running task: gives up on silent upstream tasks and
   * moves the idle floor (`drained`: nothing buffered; `atEnd`: nothing left on the broker either; see
   * EventTimeClock.tick), then emits what closed. Nothing when the mode is off.
   */
  tickEventTime(now: number, drained: boolean, atEnd: boolean): void {
    this.eventTime?.tick(now, drained, atEnd, this.time);
  }

  /** True when the event-time mode has progress to publish (`publishProgress`): the task should commit. */
  get hasProgressToPublish(): boolean {
    return this.eventTime?.hasProgressToPublish(this.time) ?? false;
  }

  /** Event-time mode with markers: writes the task's progress into the repartition topics it writes (see ProgressPublisher). */
  publishProgress(): void {
    this.eventTime?.publishProgress(this.time);
  }

  /** Fires wall-clock punctuators that are due at `now`. */
  punctuateWallClock(now: number): void {
    if (!this.punctuation.isEmpty) this.firePunctuators('WALL_CLOCK_TIME', now);
  }

  private firePunctuators(type: PunctuationType, now: number): void {
    this.metadata = undefined;
    const began = performance.now();
    const fired = this.punctuation.fire(type, now, (nodeName, fn) => {
      this.current = this.nodes.get(nodeName);
      try {
        fn();
      } catch (err) {
        throw new ProcessingError(undefined, nodeName, err);
      } finally {
        this.current = undefined;
      }
    });
    if (fired > 0) {
      this.counters.punctuations += fired;
      this.counters.punctuateMsTotal += performance.now() - began;
    }
  }

  private forward(from: NodeRuntime, record: StreamRecord<unknown, unknown>, childName: string | undefined): void {
    const children = from.children;
    for (let i = 0; i < children.length; i++) {
      const child = children[i]!;
      if (childName !== undefined && child.def.name !== childName) continue;
      this.current = child;
      if (child.def.kind === 'sink') this.sinks.write(child.def, record, this.metadata, this.inputOrigin);
      else child.processor!.process(record);
    }
    this.current = from;
  }

  private contextFor(): InternalProcessorContext<unknown, unknown> {
    const node = this.current!;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the context's methods below have their own `this`
    const task = this;
    return {
      applicationId: this.options.topology.applicationId,
      taskId: this.id,
      forward(record, childName) {
        task.forward(node, record, childName);
      },
      getStateStore<S>(name: string): S {
        const def = node.def;
        const global = task.options.globalStores?.get(name);
        if (global !== undefined) return global as S;
        if (def.kind !== 'processor' || !def.stores.includes(name)) {
          throw new StreamsError(
            `Processor ${def.name} asked for store '${name}', which is not connected to it: ` +
              `pass '${name}' to process(...) when you add the processor.`,
          );
        }
        return task.stores.get(name) as S;
      },
      schedule(intervalMs: number, type: PunctuationType, punctuator: Punctuator): Cancellable {
        const now = type === 'STREAM_TIME' ? task.streamTime : task.options.wallClock();
        return task.punctuation.schedule(type, intervalMs, punctuator, node.def.name, now);
      },
      recordMetadata: () => this.metadata,
      currentStreamTimeMs: () => this.streamTime,
      currentSystemTimeMs: () => this.options.wallClock(),
      emitIntervalMs: this.options.emitIntervalMs,
      eventTime: this.eventTime?.viewFor(
        node.def.name,
        () => (this.current = node),
        () => (this.current = undefined),
      ),
      recordDropped: (reason, detail) => {
        if (reason === 'late') this.counters.droppedLate++;
        else this.counters.droppedNullKey++;
        const at = this.metadata === undefined ? '' : `${this.metadata.topic}-${this.metadata.partition}@${this.metadata.offset}: `;
        this.dropped.record(node.def.name, reason, `${at}${detail}`);
      },
      recordLate: (missed, detail) => {
        const input = this.input;
        if (this.late !== undefined && input !== undefined) this.late.route(input, node.def.name, missed, detail);
        else {
          this.counters.droppedLate++;
          const at = this.metadata === undefined ? '' : `${this.metadata.topic}-${this.metadata.partition}@${this.metadata.offset}: `;
          this.dropped.record(node.def.name, 'late', `${at}${detail}`);
        }
      },
    };
  }

  /**
   * Flushes every store, upstream first (the topology's order), so that what a caching store forwards on
   * flush reaches the processors and stores after it before those flush. Changelog records go to each
   * store's changelog sink now; returns each store's LevelDB entries, for the commit (see StoreCommit).
   */
  flushStores(flush: (store: ManagedStore) => BytesEntry[] = (store) => store.flush()): Array<[ManagedStore, BytesEntry[]]> {
    this.metadata = undefined;
    this.inputOrigin = undefined;
    const results: Array<[ManagedStore, BytesEntry[]]> = [];
    for (const store of this.stores.values()) {
      try {
        results.push([store, flush(store)]);
      } catch (err) {
        if (err instanceof ProcessingError || err instanceof ProductionError || err instanceof StateStoreError) throw err;
        throw new ProcessingError(undefined, this.current?.def.name ?? `the flush of store ${store.name}`, err);
      } finally {
        this.current = undefined;
      }
    }
    return results;
  }

  /** Closes the processors (children last). Stores are closed by their owner. */
  close(): void {
    this.dropped.flush();
    for (const node of this.nodes.values()) {
      try {
        node.processor?.close?.();
      } catch (err) {
        this.options.logger.warn(`closing processor ${node.def.name} of task ${this.id} failed: ${String(err)}`);
      }
    }
  }
}
