import type { Admin } from '../client/admin.js';
import type { ResolvedStreamsConfig } from '../config/streams-config.js';
import { asError } from '../errors/as-error.js';
import type { Topology } from '../processor/topology.js';
import type { ChangelogReader } from './changelog-reader.js';
import { StandbyTask } from './standby-task.js';
import { parseTaskId } from '../processor/task-id.js';

const CATCH_UP_INTERVAL_MS = 500;

/**
 * The standby replicas of one instance: opens and closes them as assignments change and keeps them caught
 * up, one round at a time. Opening, closing and catching up never overlap, so a store is never closed under
 * a read, and a task that becomes active here finds its replica closed and its folder free.
 */
export class StandbyManager {
  private readonly standbys = new Map<string, StandbyTask>();
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly topology: Topology,
    private readonly config: ResolvedStreamsConfig,
    private readonly reader: ChangelogReader,
    private readonly admin: () => Admin,
  ) {}

  get taskIds(): string[] {
    return [...this.standbys.keys()].sort();
  }

  /** The replica of a task, if this instance keeps one. */
  replica(taskId: string): StandbyTask | undefined {
    return this.standbys.get(taskId);
  }

  /** Records applied by every replica since it opened. */
  get appliedRecords(): number {
    let n = 0;
    for (const s of this.standbys.values()) n += s.applied;
    return n;
  }

  private exclusive(work: () => Promise<void>): Promise<void> {
    const next = this.chain.then(work);
    this.chain = next.catch((err: unknown) => this.config.logger.warn(`standby replicas: ${asError(err).message}`));
    return next;
  }

  start(): void {
    this.timer = setInterval(() => {
      void this.exclusive(() => this.catchUpAll()).catch(() => {});
    }, CATCH_UP_INTERVAL_MS);
    this.timer.unref();
  }

  private async catchUpAll(): Promise<void> {
    for (const [id, standby] of this.standbys) {
      if (this.closed) return;
      await standby.catchUp(this.reader, (topic, partition) => this.committedOffset(topic, partition));
      if (standby.stale) {
        this.standbys.delete(id);
        await standby.close(true);
      }
    }
  }

  /** The group's committed offset of an input partition; 0 when it has none (as Kafka Streams). */
  private async committedOffset(topic: string, partition: number): Promise<bigint> {
    const [offsets] = await this.admin().fetchOffsets({ groupId: this.config.applicationId, topics: [topic] });
    const offset = offsets?.partitions.find((p) => p.partition === partition)?.offset;
    return offset === undefined || BigInt(offset) < 0n ? 0n : BigInt(offset);
  }

  /** Closes the replicas of tasks that become active here (their stores are about to be opened by them). */
  release(taskIds: readonly string[]): Promise<void> {
    return this.exclusive(async () => {
      for (const id of taskIds) {
        const standby = this.standbys.get(id);
        if (standby === undefined) continue;
        this.standbys.delete(id);
        await standby.close();
        this.config.logger.info(`standby ${id} becomes active here`);
      }
    });
  }

  /** Keeps exactly these replicas. */
  assign(taskIds: ReadonlySet<string>): Promise<void> {
    return this.exclusive(async () => {
      for (const [id, standby] of this.standbys) {
        if (taskIds.has(id)) continue;
        this.standbys.delete(id);
        await standby.close();
      }
      for (const id of [...taskIds].sort()) {
        if (this.standbys.has(id) || this.closed) continue;
        const { subtopology, partition } = parseTaskId(id);
        this.standbys.set(id, await StandbyTask.open(this.topology, subtopology, partition, this.config));
      }
      if (taskIds.size > 0) this.config.logger.info(`standby replicas: ${[...taskIds].sort().join(', ')}`);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.chain.catch(() => {});
    for (const standby of this.standbys.values()) await standby.close();
    this.standbys.clear();
  }
}
