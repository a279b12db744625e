import { globalStoresOf } from './global-state.js';
import { randomUUID } from 'node:crypto';
import { rename, writeFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Topology } from '../processor/topology.js';
import type { ResolvedStreamsConfig } from '../config/streams-config.js';
import { DamagedStoreError } from '../errors/errors.js';
import { InMemoryBytesStore, type BytesEntry, type BytesStore } from '../stores/bytes-store.js';
import { ChangeLogging } from '../stores/change-logging.js';
import type { ChangelogSink } from '../stores/changelog-sink.js';
import { LocalStores, type LocalBytesStore } from '../stores/local-store.js';
import type { ManagedStore } from '../stores/managed-store.js';
import { changelogTopicName, restoreTopicOf, type StoreDefinition } from '../processor/store-definition.js';
import { createStore } from '../stores/store-factory.js';
import type { ChangelogReader } from './changelog-reader.js';
import { replayChangelog } from './changelog-replay.js';
import { SourceChangelog } from './source-changelog.js';
import { StoreLayout } from '../stores/store-layout.js';
import { StoreCommit } from './store-commit.js';
import { StoreSchemas } from './store-schemas.js';
import type { Logger } from '../logging/logger.js';
import type { Producer } from '../client/producer.js';
import type { ProducerPipeline } from './producer-pipeline.js';
import type { StateRestoreListener } from './state-restore-listener.js';
import { StreamTask } from './stream-task.js';
import { formatTaskId } from './task-id.js';
import type { TaskTransactions } from './task-transactions.js';

/** Offset-commit metadata: the task's stream time, its owner's token, and a handover flag. */
export interface CommitMetadata {
  readonly st?: number;
  readonly t?: string;
  readonly h?: boolean;
}

export interface CommitSnapshot {
  readonly offsets: Array<{ topic: string; partition: number; offset: string; metadata: string }>;
  /** The flushed stores, to write once the pipeline acknowledged their changelog records. */
  readonly local: StoreCommit;
}

export type TaskState = 'created' | 'restoring' | 'running' | 'closed';

/**
 * A task the instance runs actively: its StreamTask, its stores (LevelDB under
 * `<stateDir>/<applicationId>/<taskId>/<store>`), what it consumed, and the steps of its life:
 * open → restore → run (process, commit) → close.
 */
export class ActiveTask {
  readonly id: string;
  /** Drawn anew each time this instance takes the task; the group sees it in our subscription. */
  readonly token = randomUUID();
  state: TaskState = 'created';
  /** Where the task's output goes: its own producer's pipeline, or under exactly-once its transaction's. */
  pipeline!: ProducerPipeline;
  /** The task's idempotent producer under at-least-once (closed with the task). */
  private producer: { producer: Producer; pipeline: ProducerPipeline } | undefined;
  /** Exactly-once only: the task's transactional producer (closed with the task). */
  private transactional: TaskTransactions | undefined;
  private stream!: StreamTask;
  private readonly consumed = new Map<string, bigint>();
  private readonly committed = new Map<string, bigint>();
  readonly directory: string;

  private constructor(
    private readonly topology: Topology,
    readonly subtopologyId: number,
    readonly partition: number,
    private readonly config: ResolvedStreamsConfig,
    private readonly logger: Logger,
  ) {
    this.id = formatTaskId({ subtopology: subtopologyId, partition });
    this.directory = join(config.stateDir, config.applicationId, this.id);
  }

  /** The input partitions of this task: partition `p` of every topic its sub-topology reads. */
  get inputPartitions(): Array<{ topic: string; partition: number }> {
    return this.topology.subtopologies[this.subtopologyId]!.sourceTopics.map((topic) => ({ topic, partition: this.partition }));
  }

  get streamTask(): StreamTask {
    return this.stream;
  }

  /**
   * Opens the task's stores. A store found damaged, or missing where the task's `.checkpoint` says one was,
   * is wiped with a WARN and opened empty (restore() then rebuilds it from its changelog).
   */
  static async open(
    topology: Topology,
    subtopologyId: number,
    partition: number,
    config: ResolvedStreamsConfig,
    logger: Logger,
    pipeline: ProducerPipeline,
    partitionsFor: (topic: string) => number | undefined,
    storeBudgetBytes: number,
    initialStreamTime: number,
  ): Promise<ActiveTask> {
    const task = new ActiveTask(topology, subtopologyId, partition, config, logger);
    task.pipeline = pipeline;
    const subtopology = topology.subtopologies[subtopologyId]!;
    const bytesStores = new Map<string, BytesStore>();
    const checkpoint = await task.readCheckpointFile();
    for (const definition of subtopology.stores) {
      let bytes: BytesStore;
      try {
        bytes = await task.openBytes(definition, checkpoint);
      } catch (err) {
        for (const b of bytesStores.values()) await b.close();
        throw err;
      }
      bytesStores.set(definition.name, bytes);
      try {
        if (LocalStores.isLocal(bytes)) {
          await StoreSchemas.checkLocal(definition, bytes);
          await StoreLayout.record(definition, bytes);
        }
      } catch (err) {
        for (const b of bytesStores.values()) await b.close();
        throw err;
      }
    }
    // Changelog records join the task's output, on the task's partition of each changelog topic.
    const changelog: ChangelogSink = { send: (record) => pipeline.enqueue({ ...record, timestamp: Date.now(), partition }) };
    task.stream = new StreamTask({
      topology,
      subtopology,
      partition,
      sink: { send: (record) => pipeline.enqueue(record), partitionsFor },
      createStore: (definition) =>
        createStore(definition, bytesStores.get(definition.name)!, storeBudgetBytes, ChangeLogging.of(definition, config.applicationId, changelog)),
      wallClock: () => Date.now(),
      logger,
      initialStreamTime,
      productionExceptionHandler: config.productionExceptionHandler,
      maxRecordBytes: config.maxRecordBytes,
      // Only worth a header per repartitioned record when failed records are dead-lettered.
      traceInputOrigins: typeof config.processingExceptionHandler === 'object',
      globalStores: globalStoresOf(config),
    });
    return task;
  }

  private storePath(definition: StoreDefinition): string {
    return join(this.directory, definition.name);
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
    const outdated = await StoreLayout.outdated(definition, store);
    if (outdated !== undefined) {
      await store.close();
      return this.replaceDamaged(definition, outdated);
    }
    // LevelDB creates what it does not find: a store the checkpoint knows must not come back empty unnoticed.
    const restoreTopic = restoreTopicOf(this.config.applicationId, definition);
    const expected = restoreTopic === undefined ? undefined : checkpoint.get(restoreTopic);
    if (expected === undefined || store.changelogPosition() !== undefined) return store;
    await store.close();
    const what = store.created ? 'its folder is missing' : 'it has no changelog position';
    return this.replaceDamaged(definition, `${what} while the task's .checkpoint records offset ${expected}`);
  }

  private async replaceDamaged(definition: StoreDefinition, reason: string): Promise<LocalBytesStore> {
    const path = this.storePath(definition);
    const next = restoreTopicOf(this.config.applicationId, definition) !== undefined ? 'restoring it from its changelog' : 'it starts empty (it has no changelog)';
    this.logger.warn(`task ${this.id}: store ${definition.name} at ${path} cannot be trusted: ${reason}; wiping it, ${next}`, { path, reason });
    await LocalStores.destroy(path);
    return LocalStores.open(definition, path);
  }

  /** The positions of the task's `.checkpoint` (changelog topic → offset); empty when there is none. */
  private async readCheckpointFile(): Promise<Map<string, string>> {
    try {
      const { positions } = JSON.parse(await readFile(join(this.directory, '.checkpoint'), 'utf8')) as { positions?: Record<string, string> };
      return new Map(Object.entries(positions ?? {}));
    } catch {
      return new Map(); // none yet, or unreadable: it only mirrors the positions kept in the stores
    }
  }

  /**
   * Brings every logged store up to the end of its changelog. A store restores from its checkpoint (the
   * changelog position kept in the same LevelDB batch as its data); a store without one, or with one beyond
   * the changelog's end (the topic was recreated), is wiped and restored from the beginning. A store whose
   * changelog is its table's input topic restores only up to the offset the task starts processing at (the
   * group's committed offset), as Kafka Streams' StoreChangelogReader does for source-topic changelogs: the
   * records after it are processed, not restored.
   */
  async restore(reader: ChangelogReader, listener: StateRestoreListener | undefined): Promise<number> {
    this.state = 'restoring';
    let total = 0;
    for (const store of this.stream.stores.values()) {
      const topic = restoreTopicOf(this.config.applicationId, store.definition);
      if (topic === undefined) continue;
      const source = SourceChangelog.of(this.topology, store.definition, this.partition, this.config.deserializationExceptionHandler);
      const logEnd = await reader.endOffset(topic, this.partition);
      const committed = this.committed.get(`${topic}:${this.partition}`) ?? 0n;
      const end = source === undefined || logEnd < committed ? logEnd : committed;
      let bytes = store.bytes;
      let position = bytes.changelogPosition();
      // Beyond the log's end only: a store restored from its input may be ahead of the committed offset
      // (at-least-once writes it before committing); the records in between are processed again.
      if (store.definition.persistent && (position === undefined || position > logEnd)) {
        if (position !== undefined) {
          this.logger.warn(
            `task ${this.id}: store ${store.name} at ${this.storePath(store.definition)} is at changelog offset ${position}, ` +
              `beyond the changelog's end ${logEnd}; wiping it, restoring it from its changelog`,
          );
        }
        bytes = await this.wipe(store);
        position = undefined;
      }
      const start = position ?? 0n;
      const restoring = { topic, partition: this.partition, storeName: store.name, taskId: this.id };
      if (start >= end) {
        if (position === undefined) await bytes.apply([], end);
        continue;
      }
      listener?.onRestoreStart?.(restoring, start, end);
      const began = Date.now();
      let restored = 0;
      await replayChangelog(reader, store, bytes, topic, this.partition, start, end, this.config.restoreBatchRecords, (count, next) => {
        restored += count;
        listener?.onBatchRestored?.(restoring, next, count);
      }, undefined, source?.convert);
      source?.logSkipped(this.logger);
      if (bytes.changelogPosition() !== end) await bytes.apply([], end);
      const seconds = Math.max((Date.now() - began) / 1000, 0.001);
      this.logger.info(
        `task ${this.id}: restored ${restored} records of ${store.name} from ${topic}-${this.partition} ` +
          `[${start}, ${end}) in ${seconds.toFixed(1)} s (${Math.round(restored / seconds)} records/s)`,
      );
      listener?.onRestoreEnd?.(restoring, restored);
      total += restored;
    }
    return total;
  }

  /** Replaces a store's files with an empty store, under the same typed store. */
  private async wipe(store: ManagedStore): Promise<BytesStore> {
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

  /** Creates the processors; after restoration, before the first record. */
  start(): void {
    this.stream.init();
    this.state = 'running';
  }

  /** Records behind the end of each input partition (`topic:partition`), as of the last fetch. */
  readonly recordsLag = new Map<string, bigint>();

  markConsumed(topic: string, partition: number, nextOffset: bigint): void {
    const key = `${topic}:${partition}`;
    const current = this.consumed.get(key);
    if (current === undefined || nextOffset > current) this.consumed.set(key, nextOffset);
  }

  /** True when there is something to commit: consumed input or dirty stores. */
  get hasUncommitted(): boolean {
    for (const [key, offset] of this.consumed) if (this.committed.get(key) !== offset) return true;
    return false;
  }

  needsFlush(): boolean {
    for (const store of this.stream.stores.values()) if (store.needsFlush()) return true;
    return false;
  }

  /** Exactly-once only: the task's transactional producer. */
  get transactions(): TaskTransactions | undefined {
    return this.transactional;
  }

  /** The producer behind the task's pipeline, given once when the task is created; the task closes it. */
  ownProducer(owner: { transactions: TaskTransactions } | { producer: Producer; pipeline: ProducerPipeline }): void {
    if ('transactions' in owner) this.transactional = owner.transactions;
    else this.producer = owner;
  }

  /**
   * The synchronous half of a commit: flushes the stores (changelog records go to the task's pipeline now)
   * and records the offsets consumed so far. Everything processed after this call belongs to the next commit.
   */
  prepareCommit(handover: boolean): CommitSnapshot {
    const local = StoreCommit.flush(this.stream, (store) => {
      const input = store.definition.sourceChangelogTopic;
      if (input === undefined) return undefined;
      const key = `${input}:${this.partition}`;
      return this.consumed.get(key) ?? this.committed.get(key);
    });
    const metadata: CommitMetadata = {
      st: Number.isFinite(this.stream.streamTime) ? this.stream.streamTime : undefined,
      t: this.token,
      ...(handover ? { h: true } : {}),
    };
    const text = JSON.stringify(metadata);
    const offsets = [...this.consumed].map(([key, offset]) => {
      const split = key.lastIndexOf(':');
      return { topic: key.slice(0, split), partition: Number(key.slice(split + 1)), offset: offset.toString(), metadata: text };
    });
    if (handover && offsets.length === 0) {
      // Nothing consumed yet, but the next owner waits for our handover mark: commit where we started.
      for (const [key, offset] of this.committed) {
        const split = key.lastIndexOf(':');
        offsets.push({ topic: key.slice(0, split), partition: Number(key.slice(split + 1)), offset: offset.toString(), metadata: text });
      }
    }
    return { offsets, local };
  }

  /**
   * The second half, once the task's pipeline acknowledged everything of the snapshot (or its transaction
   * committed): LevelDB gets the data and the changelog position in one batch each, then the checkpoint file
   * is rewritten.
   */
  async completeCommit(snapshot: CommitSnapshot): Promise<void> {
    await snapshot.local.write((changelogTopic) => this.pipeline.lastOffset(changelogTopic, this.partition));
    await this.writeCheckpointFile();
  }

  /** Marks the snapshot's offsets as committed (after the group accepted them, or with the transaction). */
  markCommitted(snapshot: CommitSnapshot): void {
    for (const o of snapshot.offsets) this.committed.set(`${o.topic}:${o.partition}`, BigInt(o.offset));
  }

  /** True when the task knows an offset to commit for the partition (consumed, or committed before). */
  hasPosition(topic: string, partition: number): boolean {
    const key = `${topic}:${partition}`;
    return this.consumed.has(key) || this.committed.has(key);
  }

  /**
   * The offset of the next record this task expects from a partition: what it consumed, else where it
   * started. Records below it were processed already (kafkajs rewinds every partition to the group's
   * committed offset after a rebalance, even a partition that stays); processing them again would count
   * them twice, inside one transaction under exactly-once.
   */
  nextOffset(topic: string, partition: number): bigint | undefined {
    const key = `${topic}:${partition}`;
    return this.consumed.get(key) ?? this.committed.get(key);
  }

  /** Where this task starts reading, as committed before it was assigned here. */
  setCommitted(topic: string, partition: number, offset: bigint): void {
    this.committed.set(`${topic}:${partition}`, offset);
  }

  /**
   * A human-readable `.checkpoint` per task (store -> changelog position), written atomically. The truth
   * is the position inside each store's LevelDB; this file mirrors it for operators and tools.
   */
  private async writeCheckpointFile(): Promise<void> {
    const positions: Record<string, string> = {};
    for (const store of this.stream.stores.values()) {
      const topic = restoreTopicOf(this.config.applicationId, store.definition);
      if (!store.definition.persistent || topic === undefined) continue;
      const position = store.bytes.changelogPosition();
      if (position !== undefined) positions[topic] = position.toString();
    }
    if (Object.keys(positions).length === 0) return;
    await mkdir(this.directory, { recursive: true });
    const file = join(this.directory, '.checkpoint');
    const tmp = `${file}.tmp`;
    await writeFile(tmp, `${JSON.stringify({ partition: this.partition, positions }, null, 2)}\n`);
    await rename(tmp, file);
  }

  /** Drops changes since the last commit (they were never logged) and closes processors and stores. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    await this.transactions?.close();
    await this.producer?.producer.disconnect().catch(() => {});
    if (this.stream === undefined) return;
    this.stream.close();
    for (const store of this.stream.stores.values()) {
      store.discardChanges();
      await store.bytes.close();
    }
  }
}
