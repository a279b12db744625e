import type { Admin } from '../client/admin.js';
import type { KafkaClient } from '../client/kafka-client.js';
import { TopicPartitionMap, type TopicPartition } from '../client/topic-partition.js';
import type { OffsetToCommit, TopicPartitions } from '../client/topic-partitions.js';
import type { ResolvedStreamsConfig } from '../config/streams-config.js';
import { asError } from '../errors/as-error.js';
import { StreamsRuntimeError } from '../errors/errors.js';
import type { TaskId } from '../processor/task-id.js';
import type { Topology } from '../processor/topology.js';
import type { ActiveTask } from './active-task.js';
import type { ChangelogReader } from './changelog-reader.js';
import { AtLeastOnceCommitter } from './commit/at-least-once-committer.js';
import type { CommitCounters, Committer } from './commit/committer.js';
import { ExactlyOnceCommitter } from './commit/exactly-once-committer.js';
import type { TaskInputs } from './input-buffers.js';
import { describeGroup, describeGroupMembers, statefulTaskIds } from './group-members.js';
import type { TopologyMetadata } from './internal-topic-manager.js';
import { addRecordCounts, emptyRecordCounts, type RecordCounts } from './record-counts.js';
import { RepartitionPurger } from './repartition-purger.js';
import { FlushDeferral } from './commit/flush-deferral.js';
import type { RestoreProgress } from './restore-progress.js';
import { StandbyManager } from './standby-manager.js';
import type { StateRestoreListener } from './state-restore-listener.js';
import { computeStandbys } from './task-assignor.js';
import { TaskCreator } from './task-creator.js';
import { TaskRecovery, type RecoveryHost } from './task-recovery.js';
import type { ThreadState } from './thread-state.js';

/** Totals an instance reports through metrics. */
export interface ThreadCounters extends CommitCounters {
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
 * revoked tasks over with a commit, creates new ones), commits them through the committer of the
 * application's guarantee (see Committer), has a task whose transaction failed re-created (see
 * TaskRecovery), and suspends every task while the broker is away.
 *
 * Handover: the group rejoins by itself and gives no callback before partitions move, so a handover is made
 * safe in the protocol instead. An owner that loses a task flushes and commits it with a handover mark;
 * the new owner, which sees the previous owner's token in the group's member metadata, waits for that mark
 * before it restores (see TaskCreator), so it never restores a changelog the previous owner still writes.
 */
export class TaskManager {
  private readonly byId = new Map<TaskId, ActiveTask>();
  private readonly byPartition = new TopicPartitionMap<ActiveTask>();
  private assignedTaskIds = new Set<TaskId>();
  private reconciling: Promise<void> = Promise.resolve();
  private currentGeneration = 0;
  private member: string | undefined;
  private readonly creator: TaskCreator;
  /** Commits the tasks under the application's guarantee; the processing loop asks it which tasks are committing. */
  readonly committer: Committer;
  /** Which tasks a periodic commit leaves for later while the thread catches up (see FlushDeferral). */
  private readonly deferral: FlushDeferral;
  readonly standbys: StandbyManager | undefined;
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
    const purger = new RepartitionPurger(admin, repartitions, config.repartitionPurgeIntervalMs, config.logger);
    // A thread more than ten input buffers behind is catching up; a task commits at least every 30 s (Kafka
    // Streams' default commit interval under at-least-once) however far behind. At-least-once only: under
    // exactly-once the output is visible only at a commit, which users time for latency (100 ms); the
    // deferral's effect on that was not measured apart from the machine's noise (README "Latency").
    this.deferral = new FlushDeferral(10 * config.bufferedRecordsPerPartition, 30_000);
    const deferral = config.processingGuarantee === 'exactly_once_v2' ? undefined : this.deferral;
    const context = { state: this.state, counters: this.counters, purger, logger: config.logger, deferral };
    this.committer =
      config.processingGuarantee === 'exactly_once_v2'
        ? new ExactlyOnceCommitter(context, new TaskRecovery(admin, topology, config, this.recoveryHost()), host)
        : new AtLeastOnceCommitter(context, (offsets) => host.commitOffsets(offsets));
  }

  /** What the recovery of a task whose transaction failed needs of the manager (see TaskRecovery). */
  private recoveryHost(): RecoveryHost {
    return {
      state: this.state,
      inputs: this.inputs,
      memberId: () => this.member,
      remove: (task) => {
        const current = this.byId.get(task.id) === task;
        this.removeTask(task);
        return current;
      },
      wanted: (id) => this.wanted(id),
      later: (work) => {
        this.reconciling = this.reconciling.then(work).catch((err: unknown) => this.host.handleError(asError(err)));
      },
      create: async (id) => {
        await this.createTasks(this.currentGeneration, [id]);
        return this.byId.get(id);
      },
      handleError: (error) => this.host.handleError(error),
    };
  }

  /** The running tasks (and those being handed over), by id. */
  get tasks(): ReadonlyMap<TaskId, ActiveTask> {
    return this.byId;
  }

  /** The task that reads a partition. */
  taskOf(topic: string, partition: number): ActiveTask | undefined {
    return this.byPartition.get(topic, partition);
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
  assign(memberId: string, taskIds: Set<TaskId>): number {
    this.member = memberId;
    this.assignedTaskIds = taskIds;
    return ++this.currentGeneration;
  }

  /** Applies an assignment after those before it: hand over what left, create what came. */
  reconcileLater(generation: number, assigned: Set<TaskId>): void {
    this.reconciling = this.reconciling.then(() => this.reconcile(generation, assigned)).catch((err: unknown) => this.host.handleError(asError(err)));
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

  private async reconcile(generation: number, assigned: Set<TaskId>): Promise<void> {
    if (this.state.stopped) return;
    if (assigned.size === 0) await this.checkRefused();
    if (this.state.stopped) return;
    this.config.logger.info(`assignment of generation ${generation}: ${[...assigned].sort().join(', ') || 'no tasks'}`);
    const revoked = [...this.byId.values()].filter((t) => !assigned.has(t.id));
    if (revoked.length > 0) {
      await this.ensurePositions(revoked);
      await this.committer.commit(revoked, true).catch((err: unknown) =>
        this.config.logger.warn(`handover commit of ${revoked.map((t) => t.id).join(', ')} failed: ${asError(err).message}`),
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
        this.config.logger.warn(`standby replicas not updated (next rebalance retries): ${asError(err).message}`),
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
    const group = await describeGroup(this.admin(), this.config.applicationId, this.topology);
    if (generation !== this.currentGeneration || this.state.stopped) return;
    // A group that is rebalancing again describes its members without their assignments: computed from that,
    // every standby would close. The rebalance under way ends in a new generation, which computes them anew.
    if (group.state !== 'Stable') return;
    const members = group.members.filter((m) => m.assigned).map((m) => ({ memberId: m.memberId, active: m.activeTasks, state: m.subscription.state ?? {} }));
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
  private async createTasks(generation: number, taskIds: TaskId[]): Promise<void> {
    if (this.state.stopped) return;
    await this.creator.create(taskIds, {
      generation,
      abandoned: () => generation !== this.currentGeneration || this.state.stopped || this.state.membershipLost,
      wanted: (id) => this.wanted(id),
      started: (task) => {
        this.byId.set(task.id, task);
        for (const { topic, partition } of task.inputPartitions) this.byPartition.set(topic, partition, task);
        this.inputs.add(task);
      },
    });
  }

  /** True when the current assignment gives the task here and no instance of it runs. */
  private wanted(taskId: TaskId): boolean {
    return this.assignedTaskIds.has(taskId) && !this.byId.has(taskId);
  }

  /** Forgets a task (only this instance of it: a re-created task of the same id stays) and keeps its counters. */
  private removeTask(task: ActiveTask): void {
    if (this.byId.get(task.id) === task) this.byId.delete(task.id);
    const owned: TopicPartition[] = [];
    for (const input of task.inputPartitions) {
      if (this.byPartition.get(input.topic, input.partition) === task) {
        this.byPartition.delete(input.topic, input.partition);
        owned.push(input);
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

  /**
   * A task's cache is full. While the thread catches up under at-least-once, the full caches evict their
   * least recently written quarter (see StoreCommit.evict), as Kafka Streams' caches evict, and the commit
   * stays periodic; otherwise every running task commits.
   */
  relieveCaches(): Promise<void> {
    const running = [...this.byId.values()].filter((t) => t.state === 'running');
    const { evict } = this.committer;
    if (this.state.rebalancing || evict === undefined || !this.deferral.catchingUp(running.reduce((sum, t) => sum + t.recordsBehind(), 0))) {
      return this.commitAll(false);
    }
    return evict.call(this.committer, running);
  }

  /** Commits every running task (see Committer); periodic commits wait until a rebalance is over. */
  commitAll(handover: boolean): Promise<void> {
    if (this.state.rebalancing && !handover) return Promise.resolve();
    return this.committer.commit([...this.byId.values()].filter((t) => t.state === 'running'), handover);
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
        await this.committer.commit([...this.byId.values()], true);
      } catch (err) {
        this.config.logger.warn(`final commit failed: ${asError(err).message}`);
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
