import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { KafkaClient } from '../client/kafka-client.js';
import type { PartitionReader } from '../client/partition-reader.js';
import { topicPartitionKey } from '../client/topic-partition.js';
import type { ResolvedStreamsConfig } from '../config/streams-config.js';
import { asError } from '../errors/as-error.js';
import { StreamsRuntimeError } from '../errors/errors.js';
import type { Topology } from '../processor/topology.js';
import { LocalStores, type LocalBytesStore } from '../stores/local-store.js';
import type { ManagedStore } from '../stores/managed-store.js';
import { createStore } from '../stores/store-factory.js';
import { CheckpointFile } from './state/checkpoint-file.js';
import type { StateRestoreListener } from './state-restore-listener.js';
import { StoreCommit } from './store-commit.js';
import { StreamTask } from './stream-task.js';

const FETCH_BYTES = 1024 * 1024;

/**
 * The global stores of an instance (Kafka Streams' GlobalStateManagerImpl with its GlobalStreamThread): each
 * in LevelDB under `<stateDir>/<appId>/global/<store>`, with a `.checkpoint` of the offsets applied per
 * partition. `restore()` reads every partition of the global topics from the checkpoint (or the beginning)
 * up to the end offsets read at its start; `run()` then keeps applying new records, without a consumer group.
 */
export class GlobalState {
  /** The global stores by name, readable by every task's processors. */
  readonly stores = new Map<string, ManagedStore>();
  private readonly tasks: Array<{ task: StreamTask; topics: readonly string[] }> = [];
  private readonly bytes: LocalBytesStore[] = [];
  /** Next offset to apply, by topicPartitionKey: the `.checkpoint` keeps them by the same string, as is. */
  private positions = new Map<string, bigint>();
  private readonly directory: string;
  private reader?: PartitionReader;
  private stopped = false;
  private loop?: Promise<void>;

  constructor(
    private readonly client: KafkaClient,
    private readonly topology: Topology,
    private readonly config: ResolvedStreamsConfig,
    /** Partition count per global topic (from the topic check at start). */
    private readonly partitionCounts: ReadonlyMap<string, number>,
    private readonly listener: () => StateRestoreListener | undefined,
  ) {
    this.directory = join(config.stateDir, config.applicationId, 'global');
  }

  /** True when the topology has global tables. */
  get needed(): boolean {
    return this.topology.globalSubtopologies.length > 0;
  }

  /** Opens the stores and brings them up to the end offsets of their topics as of now. */
  async restore(): Promise<void> {
    if (!this.needed) return;
    await mkdir(this.directory, { recursive: true });
    this.positions = await this.readCheckpoint();
    const budget = Math.floor(this.config.cacheMaxBytes / Math.max(1, this.topology.globalStoreNames().length));
    for (const subtopology of this.topology.globalSubtopologies) {
      const opened = new Map<string, LocalBytesStore>();
      for (const definition of subtopology.stores) {
        const bytes = await LocalStores.open(definition, join(this.directory, definition.name));
        this.bytes.push(bytes);
        opened.set(definition.name, bytes);
      }
      const task = new StreamTask({
        topology: this.topology,
        subtopology,
        partition: 0,
        sink: {
          send: () => {
            throw new StreamsRuntimeError('A global table writes to no topic');
          },
          partitionsFor: () => 1,
        },
        // A cache keeps the entries of a flush readable while they are written: without one, a task reading
        // meanwhile would fall through to LevelDB and see the value before.
        createStore: (definition) => createStore(definition, opened.get(definition.name)!, budget, undefined, subtopology.sourceTopics),
        wallClock: () => Date.now(),
        logger: this.config.logger,
      });
      task.init();
      for (const [name, store] of task.stores) this.stores.set(name, store);
      this.tasks.push({ task, topics: subtopology.sourceTopics });
    }
    this.reader = this.client.partitionReader(this.config.processingGuarantee === 'exactly_once_v2');
    let restored = 0;
    for (const { task, topics } of this.tasks) {
      for (const topic of topics) {
        for (let partition = 0; partition < (this.partitionCounts.get(topic) ?? 1); partition++) {
          const end = await this.reader.offset(topic, partition, 'end');
          const from = this.position(topic, partition);
          if (from >= end) continue;
          const restoring = { topic, partition, storeName: task.stores.keys().next().value ?? topic, taskId: 'global' };
          this.listener()?.onRestoreStart?.(restoring, from, end);
          let count = 0;
          while (this.position(topic, partition) < end) count += await this.poll(task, topic, partition, end);
          this.listener()?.onRestoreEnd?.(restoring, count);
          restored += count;
        }
      }
    }
    this.config.logger.info(`global stores restored (${restored} records): ${[...this.stores.keys()].join(', ')}`);
  }

  /** Keeps applying new records of the global topics until `close()`. */
  run(onError: (error: Error) => void): void {
    if (!this.needed) return;
    this.loop = (async () => {
      let failures = 0;
      while (!this.stopped) {
        let applied = 0;
        try {
          for (const { task, topics } of this.tasks) {
            for (const topic of topics) {
              for (let partition = 0; partition < (this.partitionCounts.get(topic) ?? 1) && !this.stopped; partition++) {
                applied += await this.poll(task, topic, partition);
              }
            }
          }
          failures = 0;
        } catch (err) {
          // A broker hiccup (a leader moving) passes; ten failures in a row are fatal, as for restoration.
          if (++failures > 10) throw err;
          this.config.logger.warn(`reading a global table's topic failed (${failures}): ${asError(err).message}`);
          await this.reader?.refreshMetadata().catch(() => {});
          await new Promise((r) => setTimeout(r, Math.min(100 * failures, 1000)));
          continue;
        }
        // The fetches wait on the broker already; this only spaces out polls of idle topics.
        if (applied === 0 && !this.stopped) await new Promise((r) => setTimeout(r, 100));
      }
    })().catch((err: unknown) => {
      if (!this.stopped) onError(asError(err));
    });
  }

  private position(topic: string, partition: number): bigint {
    return this.positions.get(topicPartitionKey(topic, partition)) ?? 0n;
  }

  /** One fetch of a partition, applied to the store and checkpointed; returns the records applied. */
  private async poll(task: StreamTask, topic: string, partition: number, end?: bigint): Promise<number> {
    let offset = this.position(topic, partition);
    if (offset === 0n) offset = await this.reader!.offset(topic, partition, 'start');
    const fetched = await this.reader!.fetch(topic, partition, offset, FETCH_BYTES);
    if (fetched?.nextOffset === undefined) {
      // Nothing (more) to read below the end: the restore of this partition is done.
      if (end !== undefined && (fetched?.stableOffset ?? end) <= offset) this.positions.set(topicPartitionKey(topic, partition), end);
      return 0;
    }
    let applied = 0;
    let next = fetched.nextOffset;
    for (const record of fetched.records) {
      if (end !== undefined && BigInt(record.offset) >= end) {
        next = end;
        break;
      }
      const timestamp = record.timestamp === undefined ? Date.now() : Number(record.timestamp);
      task.process(topic, partition, record.offset, record.key, record.value, timestamp, record.headers ?? {});
      applied++;
    }
    await StoreCommit.flush(task).write(() => undefined);
    this.positions.set(topicPartitionKey(topic, partition), next);
    await this.writeCheckpoint();
    return applied;
  }

  /** The positions of the `.checkpoint`; none when there is none or one of them is not an offset. */
  private async readCheckpoint(): Promise<Map<string, bigint>> {
    try {
      return new Map([...((await CheckpointFile.read(this.directory)) ?? [])].map(([k, v]) => [k, BigInt(v)]));
    } catch {
      return new Map();
    }
  }

  /** Written after the stores: a crash in between re-applies records, which a table tolerates. */
  private async writeCheckpoint(): Promise<void> {
    const positions = Object.fromEntries([...this.positions].map(([k, v]) => [k, v.toString()]));
    await CheckpointFile.write(this.directory, { kind: 'global', positions });
  }

  /** Stops the updater and closes the stores. */
  async close(): Promise<void> {
    this.stopped = true;
    await this.loop;
    for (const { task } of this.tasks) task.close();
    for (const bytes of this.bytes) await bytes.close();
    await this.reader?.close();
  }
}
