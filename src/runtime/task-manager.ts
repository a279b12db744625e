import type { Admin } from '../client/admin.js';
import type { KafkaClient } from '../client/kafka-client.js';
import type { OffsetToCommit, TopicPartitions } from '../client/topic-partitions.js';
import type { ResolvedStreamsConfig } from '../config/streams-config.js';
import { StreamsRuntimeError } from '../errors/errors.js';
import type { Topology } from '../processor/topology.js';
import type { ActiveTask, CommitSnapshot } from './active-task.js';
import { isClientError } from '../client/client-error.js';
import type { ChangelogReader } from './changelog-reader.js';
import type { TaskInputs } from './input-buffers.js';
import { describeGroup, describeGroupMembers, statefulTaskIds } from './group-members.js';
import type { TopologyMetadata } from './internal-topic-manager.js';
import { addRecordCounts, emptyRecordCounts, type RecordCounts } from './record-counts.js';
import { RepartitionPurger } from './repartition-purger.js';
import type { RestoreProgress } from './restore-progress.js';
import { StandbyManager } from './standby-manager.js';
import type { StateRestoreListener } from './state-restore-listener.js';
import { computeStandbys } from './task-assignor.js';
import { TaskCreator } from './task-creator.js';
import { TaskFencedError } from './task-transactions.js';
import type { ThreadState } from './thread-state.js';

/** Failed transactions of one task in a row before the failure is taken as fatal. */
const MAX_TRANSACTION_RETRIES = 5;

/** Totals an instance reports through metrics. */
export interface ThreadCounters {
  commits: number;
  commitLatencyTotalMs: number;
  restoredRecords: number;
}

/**
 * What the task manager is given by its stream thread: the thread's state, read as it is now; the input
 * buffers, through which it pauses, resumes and seeks partitions and hands tasks to the processing loop;
 * and the four calls back into the thread.
 */
export interface TaskManagerHost {
  readonly state: ThreadState;
  readonly inputs: TaskInputs;
  commitOffsets(offsets: OffsetToCommit[]): Promise<void>;
  /** A task's commit finished (it may process again). */
  commitFinished(): void;
  /** A recoverable error (a broker away) or a fatal one: the thread decides. */
  handleError(error: Error): void;
  fail(error: Error): void;
}

/**
 * The active tasks of a thread, as Kafka Streams' TaskManager keeps them: it applies assignments (hands
 * revoked tasks over with a commit, creates new ones), commits under either guarantee, recovers a task
 * whose transaction failed, and suspends every task while the broker is away.
 *
 * Handover: the group rejoins by itself and gives no callback before partitions move, so a handover is made
 * safe in the protocol instead. An owner that loses a task flushes and commits it with a handover mark;
 * the new owner, which sees the previous owner's token in the group's member metadata, waits for that mark
 * before it restores (see TaskCreator), so it never restores a changelog the previous owner still writes.
 */
export class TaskManager {
  private readonly byId = new Map<string, ActiveTask>();
  private readonly byPartition = new Map<string, ActiveTask>();
  private assignedTaskIds = new Set<string>();
  private reconciling: Promise<void> = Promise.resolve();
  private currentGeneration = 0;
  private commitChain: Promise<void> = Promise.resolve();
  private member: string | undefined;
  private readonly eos: boolean;
  private readonly creator: TaskCreator;
  private readonly purger: RepartitionPurger;
  readonly standbys: StandbyManager | undefined;
  /** Consecutive failed transactions per task. */
  private readonly transactionFailures = new Map<string, number>();
  /** Records and requests sent by the producers of tasks no longer run here (metrics never go back). */
  private readonly retiredProducerStats = { records: 0, batches: 0 };
  /** Record counts of tasks no longer run here (handed over, recovered, suspended, closed). */
  readonly retiredTaskCounters: RecordCounts = emptyRecordCounts();
  private readonly retired = new WeakSet<ActiveTask>();
  readonly counters: ThreadCounters = { commits: 0, commitLatencyTotalMs: 0, restoredRecords: 0 };
  private readonly state: ThreadState;
  private readonly inputs: TaskInputs;

  constructor(
    client: KafkaClient,
    private readonly admin: () => Admin,
    private readonly topology: Topology,
    private readonly config: ResolvedStreamsConfig,
    private readonly metadata: TopologyMetadata,
    reader: ChangelogReader,
    restoreProgress: RestoreProgress,
    /** The user's restore listener, as it is when a restoration starts. */
    restoreListener: () => StateRestoreListener | undefined,
    private readonly host: TaskManagerHost,
  ) {
    this.state = host.state;
    this.inputs = host.inputs;
    this.eos = config.processingGuarantee === 'exactly_once_v2';
    this.creator = new TaskCreator(client, admin, topology, config, metadata, reader, restoreProgress, {
      stopped: () => this.state.stopped,
      memberId: () => this.member,
      runningTaskIds: () => this.byId.keys(),
      seek: (topic, partition, offset) => this.inputs.seek(topic, partition, offset),
      restoreListener,
      restored: (records) => {
        this.counters.restoredRecords += records;
      },
    });
    this.standbys = config.numStandbyReplicas > 0 ? new StandbyManager(topology, config, reader, admin) : undefined;
    const repartitions = new Set(topology.internalTopics.filter((t) => t.kind === 'repartition').map((t) => t.name));
    this.purger = new RepartitionPurger(admin, repartitions, config.repartitionPurgeIntervalMs, config.logger);
  }

  /** The running tasks (and those being handed over), by id. */
  get tasks(): ReadonlyMap<string, ActiveTask> {
    return this.byId;
  }

  /** The task that reads a partition (`topic:partition`). */
  taskOf(partitionKey: string): ActiveTask | undefined {
    return this.byPartition.get(partitionKey);
  }

  get producerStats(): { records: number; batches: number } {
    const total = { ...this.retiredProducerStats };
    for (const task of this.byId.values()) {
      total.records += task.pipeline.stats.records;
      total.batches += task.pipeline.stats.batches;
    }
    return total;
  }

  /** A new assignment: its tasks become the wanted ones now; returns its generation (see {@link reconcile}). */
  assign(memberId: string, taskIds: Set<string>): number {
    this.member = memberId;
    this.assignedTaskIds = taskIds;
    return ++this.currentGeneration;
  }

  /** Applies an assignment after those before it: hand over what left, create what came. */
  reconcileLater(generation: number, assigned: Set<string>): void {
    this.reconciling = this.reconciling.then(() => this.reconcile(generation, assigned)).catch((err: unknown) => this.host.handleError(err as Error));
  }

  /** Applies the current assignment again (after an outage); rejects if that fails. */
  reconcileAgain(): Promise<void> {
    const attempt = this.reconciling.then(() => this.reconcile(this.currentGeneration, this.assignedTaskIds));
    this.reconciling = attempt.catch(() => {});
    return attempt;
  }

  /** Resolves once every assignment in progress is applied (or gave up). */
  settled(): Promise<void> {
    return this.reconciling.catch(() => {});
  }

  private async reconcile(generation: number, assigned: Set<string>): Promise<void> {
    if (this.state.stopped) return;
    if (assigned.size === 0) await this.checkRefused();
    if (this.state.stopped) return;
    this.config.logger.info(`assignment of generation ${generation}: ${[...assigned].sort().join(', ') || 'no tasks'}`);
    const revoked = [...this.byId.values()].filter((t) => !assigned.has(t.id));
    if (revoked.length > 0) {
      await this.ensurePositions(revoked);
      await this.commitTasks(revoked, true).catch((err: unknown) =>
        this.config.logger.warn(`handover commit of ${revoked.map((t) => t.id).join(', ')} failed: ${(err as Error).message}`),
      );
      for (const task of revoked) {
        this.removeTask(task);
        await task.close();
      }
      if (this.state.stopped) return;
      this.config.logger.info(`handed over tasks ${revoked.map((t) => t.id).join(', ')}`);
    }
    const fresh = [...assigned].filter((id) => !this.byId.has(id)).sort();
    // A replica kept here becomes the task's stores: close it first, the active task restores only the rest.
    if (fresh.length > 0) await this.standbys?.release(fresh);
    if (fresh.length > 0) await this.createTasks(generation, fresh);
    if (generation !== this.currentGeneration || this.state.stopped) return;
    const resume: TopicPartitions[] = [];
    for (const task of this.byId.values()) {
      for (const { topic, partition } of task.inputPartitions) {
        if (!this.inputs.isFull(topic, partition)) resume.push({ topic, partitions: [partition] });
      }
    }
    if (resume.length > 0) this.inputs.resume(resume);
    this.state.assignmentApplied();
    if (this.standbys !== undefined) {
      await this.assignStandbys(generation, assigned).catch((err: unknown) =>
        this.config.logger.warn(`standby replicas not updated (next rebalance retries): ${(err as Error).message}`),
      );
    }
  }

  /** A member given no task looks up why: the leader may have refused its topology. */
  private async checkRefused(): Promise<void> {
    const me = (await describeGroupMembers(this.admin(), this.config.applicationId, this.topology)).find((m) => m.memberId === this.member);
    if (me?.refused !== undefined && !this.state.stopped) this.host.fail(new StreamsRuntimeError(`This instance (client ${this.config.clientId}): ${me.refused}`));
  }

  /**
   * Standby replicas for this member, computed from the group's description as every member computes them
   * (see computeStandbys): the leader's assignment carries only active tasks, since the group protocol
   * hands members the partitions of their assignment and nothing else.
   */
  private async assignStandbys(generation: number, active: ReadonlySet<string>): Promise<void> {
    const described = await describeGroupMembers(this.admin(), this.config.applicationId, this.topology);
    if (generation !== this.currentGeneration || this.state.stopped) return;
    const members = described.filter((m) => m.assigned).map((m) => ({ memberId: m.memberId, active: m.activeTasks, state: m.subscription.state ?? {} }));
    const stateful = statefulTaskIds(this.topology, this.metadata.partitionsBySubtopology);
    const mine = computeStandbys(members, stateful, this.config.numStandbyReplicas).get(this.member ?? '') ?? [];
    await this.standbys!.assign(new Set(mine.filter((t) => !active.has(t))));
  }

  /**
   * A handover is a commit, and a commit needs an offset: for input partitions a task never consumed and
   * the group never committed, that is the log's start (where the next owner would begin anyway).
   */
  private async ensurePositions(tasks: ActiveTask[]): Promise<void> {
    const unknown = tasks.flatMap((t) => t.inputPartitions.filter((p) => !t.hasPosition(p.topic, p.partition)).map((p) => ({ task: t, ...p })));
    for (const topic of new Set(unknown.map((u) => u.topic))) {
      const offsets = await this.admin().fetchTopicOffsets(topic);
      for (const u of unknown.filter((x) => x.topic === topic)) {
        const low = offsets.find((o) => o.partition === u.partition)?.low;
        if (low !== undefined) u.task.setCommitted(topic, u.partition, BigInt(low));
      }
    }
  }

  /** Creates the tasks (see TaskCreator) and runs those that are still assigned here once restored. */
  private async createTasks(generation: number, taskIds: string[]): Promise<void> {
    if (this.state.stopped) return;
    await this.creator.create(taskIds, {
      generation,
      abandoned: () => generation !== this.currentGeneration || this.state.stopped || this.state.membershipLost,
      wanted: (id) => this.assignedTaskIds.has(id) && !this.byId.has(id),
      started: (task) => {
        this.byId.set(task.id, task);
        for (const { topic, partition } of task.inputPartitions) this.byPartition.set(`${topic}:${partition}`, task);
        this.inputs.add(task);
      },
    });
  }

  /** Forgets a task (only this instance of it: a re-created task of the same id stays) and keeps its counters. */
  private removeTask(task: ActiveTask): void {
    if (this.byId.get(task.id) === task) this.byId.delete(task.id);
    const owned: string[] = [];
    for (const { topic, partition } of task.inputPartitions) {
      const key = `${topic}:${partition}`;
      if (this.byPartition.get(key) === task) {
        this.byPartition.delete(key);
        owned.push(key);
      }
    }
    this.inputs.remove(task, owned);
    this.retireCounters(task);
  }

  private retireCounters(task: ActiveTask): void {
    if (this.retired.has(task) || task.state === 'created' || task.state === 'restoring') return;
    this.retired.add(task);
    addRecordCounts(this.retiredTaskCounters, task.streamTask.counters);
    const sent = task.pipeline.stats;
    this.retiredProducerStats.records += sent.records;
    this.retiredProducerStats.batches += sent.batches;
  }

  /** Commits every running task (under a lock: commits never overlap). */
  commitAll(handover: boolean): Promise<void> {
    if (this.state.rebalancing && !handover) return Promise.resolve();
    return this.commitTasks([...this.byId.values()].filter((t) => t.state === 'running'), handover);
  }

  private commitTasks(tasks: ActiveTask[], handover: boolean): Promise<void> {
    if (this.eos) return Promise.all(tasks.map((t) => this.commitTransaction(t, handover))).then(() => {});
    const run = async (): Promise<void> => {
      const live = tasks.filter((t) => t.state === 'running');
      if (live.length === 0 || this.state.failed) return;
      if (!handover && !live.some((t) => t.hasUncommitted || t.needsFlush())) return;
      const began = Date.now();
      // Synchronous: flush caches and capture offsets at one point of the record stream.
      const snapshots: Array<[ActiveTask, CommitSnapshot]> = live.map((t) => [t, t.snapshot(handover)]);
      await Promise.all(live.map((t) => t.pipeline.flush()));
      await Promise.all(snapshots.map(([task, snapshot]) => task.writeLocal(snapshot, task.pipeline)));
      const offsets = snapshots.flatMap(([, s]) => s.offsets);
      try {
        if (offsets.length > 0) await this.host.commitOffsets(offsets);
      } catch (err) {
        // The group moved on under us (a member died or joined): the offsets are committed by the handover
        // or the next commit after the rebalance; what was processed meanwhile may be processed again.
        if (!isClientError(err, 'rebalancing')) throw err;
        this.config.logger.warn(`commit skipped while the group rebalances (${(err as Error).message}); it is retried after the rebalance`);
        return;
      }
      for (const [task, snapshot] of snapshots) task.committedSnapshot(snapshot);
      this.purger.committed(offsets);
      this.counters.commits++;
      this.counters.commitLatencyTotalMs += Date.now() - began;
    };
    const next = this.commitChain.then(run, run);
    this.commitChain = next.catch(() => {});
    return next;
  }

  /**
   * Exactly-once commit of one task: its changelog records join its open transaction, then the input
   * offsets, then the transaction commits. Only then does LevelDB receive the data and the position, so a
   * store never holds writes of a transaction that aborted. Each task commits on its own; while it does, it
   * does not process.
   */
  private commitTransaction(task: ActiveTask, handover: boolean): Promise<void> {
    const run = async (): Promise<void> => {
      if (task.state !== 'running' || this.state.failed) return;
      if (!handover && !task.hasUncommitted && !task.needsFlush()) return;
      const began = Date.now();
      const snapshot = task.snapshot(handover);
      try {
        await task.transactions!.commit(snapshot.offsets);
      } catch (err) {
        await this.recoverTask(task, err as Error);
        return;
      }
      await task.writeLocal(snapshot, task.pipeline);
      task.committedSnapshot(snapshot);
      this.transactionFailures.delete(task.id);
      this.purger.committed(snapshot.offsets);
      this.counters.commits++;
      this.counters.commitLatencyTotalMs += Date.now() - began;
    };
    const previous = task.commitInFlight ?? Promise.resolve();
    const next = previous.then(run);
    const tracked = next.finally(() => {
      if (task.commitInFlight === tracked) task.commitInFlight = undefined;
      this.host.commitFinished();
    });
    task.commitInFlight = tracked;
    return next;
  }

  /**
   * A transaction failed: abort it, throw away the task's uncommitted state, and rebuild the task from its
   * changelog at the committed offsets. A broker that cannot be reached suspends every task instead (the
   * thread rides the outage out). A fenced task is re-created if the group still gives it to us (a broker
   * restart fences a producer whose transaction timed out), else left to its new owner.
   */
  private async recoverTask(task: ActiveTask, error: Error): Promise<void> {
    // Suspended or replaced meanwhile: whoever did that re-creates it.
    const current = this.byId.get(task.id) === task;
    this.removeTask(task);
    const partitions = task.inputPartitions;
    this.inputs.pause(partitions.map(({ topic, partition }) => ({ topic, partitions: [partition] })));
    await task.close();
    if (this.state.stopped || !current) return;
    const fenced = error instanceof TaskFencedError;
    if (!fenced && isClientError(error, 'unavailable')) {
      this.host.handleError(error);
      return;
    }
    // A transaction that fails the same way again and again (a record the broker always rejects) is fatal.
    const failures = (this.transactionFailures.get(task.id) ?? 0) + 1;
    this.transactionFailures.set(task.id, failures);
    if (failures > MAX_TRANSACTION_RETRIES) {
      this.host.fail(new StreamsRuntimeError(`The transaction of task ${task.id} failed ${failures} times in a row; last: ${error.message}`, { cause: error }));
      return;
    }
    if (fenced) {
      this.config.logger.warn(`task ${task.id} was fenced by another producer of its transactional id; re-creating it if the group still assigns it here`);
    } else {
      this.config.logger.warn(`the transaction of task ${task.id} failed (${error.message}); rebuilding it from its changelog`);
    }
    this.reconciling = this.reconciling
      .then(async () => {
        if (this.state.stopped || this.state.membershipLost || !this.assignedTaskIds.has(task.id) || this.byId.has(task.id)) return;
        if (fenced) {
          // Re-created only if the group, settled, gives it to us: during a rebalance the description still
          // shows the previous assignment, and re-creating the task would fence its new owner in turn.
          const { stable, owner } = await this.groupOwnerOf(task.id);
          if (!stable || owner !== this.member) {
            // We are behind the group: the rebalance our consumer is about to see gives us a new assignment.
            this.config.logger.warn(
              `task ${task.id} ${stable ? `now belongs to ${owner === undefined ? 'no member' : `member ${owner}`}` : 'is being reassigned (the group rebalances)'}; dropped here`,
            );
            return;
          }
        }
        // The task's new producer fences the failed one; it restarts at the committed offsets.
        await this.createTasks(this.currentGeneration, [task.id]);
        const restarted = this.byId.get(task.id);
        if (restarted !== undefined) {
          this.inputs.resume(restarted.inputPartitions.map(({ topic, partition }) => ({ topic, partitions: [partition] })));
        }
      })
      .catch((err: unknown) => this.host.handleError(err as Error));
  }

  /** The member the group's current assignment gives a task to, and whether that assignment is settled. */
  private async groupOwnerOf(taskId: string): Promise<{ stable: boolean; owner: string | undefined }> {
    const { state, members } = await describeGroup(this.admin(), this.config.applicationId, this.topology);
    return { stable: state === 'Stable', owner: members.find((m) => m.assigned && m.activeTasks.includes(taskId))?.memberId };
  }

  /** Closes every task without a commit (nothing can be committed while the broker is away). */
  async suspendAll(): Promise<void> {
    const tasks = [...this.byId.values()];
    if (tasks.length === 0) return;
    for (const task of tasks) this.removeTask(task);
    this.inputs.pause(tasks.flatMap((t) => t.inputPartitions.map(({ topic, partition }) => ({ topic, partitions: [partition] }))));
    // Abandoned, not aborted: an abort would only retry against the missing broker.
    await Promise.all(
      tasks.map(async (task) => {
        await task.transactions?.abandon();
        await task.close();
      }),
    );
    this.config.logger.info(`suspended tasks ${tasks.map((t) => t.id).sort().join(', ')} until the broker answers`);
  }

  /** Commits (unless the thread failed: then nothing after the last commit is trusted) and closes every task. */
  async closeAll(commit: boolean): Promise<void> {
    if (commit) {
      try {
        await this.commitTasks([...this.byId.values()], true);
      } catch (err) {
        this.config.logger.warn(`final commit failed: ${(err as Error).message}`);
      }
    }
    for (const task of [...this.byId.values()]) {
      this.removeTask(task);
      await task.close();
    }
    this.byId.clear();
    this.byPartition.clear();
  }
}
