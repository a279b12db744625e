import type { Admin } from '../client/admin.js';
import { isClientError } from '../client/client-error.js';
import type { ResolvedStreamsConfig } from '../config/streams-config.js';
import type { TaskId } from '../processor/task-id.js';
import type { Topology } from '../processor/topology.js';
import type { ActiveTask } from './active-task.js';
import type { TransactionRecovery } from './commit/exactly-once-committer.js';
import { describeGroup } from './group-members.js';
import type { TaskInputs } from './input-buffers.js';
import { TaskFencedError } from './task-transactions.js';
import type { ThreadState } from './thread-state.js';

/** What recovery asks of the task manager, which keeps the tasks and applies the assignments. */
export interface RecoveryHost {
  readonly state: ThreadState;
  readonly inputs: TaskInputs;
  memberId(): string | undefined;
  /** Forgets a task; true when it was the instance running under its id (not suspended or replaced meanwhile). */
  remove(task: ActiveTask): boolean;
  /** True when the current assignment gives the task here and no instance of it runs. */
  wanted(taskId: TaskId): boolean;
  /** Runs `work` after the assignments in progress, in their order; an error goes to the thread. */
  later(work: () => Promise<void>): void;
  /** Creates the task for the current assignment; returns the instance that runs, if it came up. */
  create(taskId: TaskId): Promise<ActiveTask | undefined>;
  /** A recoverable error (a broker away) or a fatal one: the thread decides. */
  handleError(error: Error): void;
}

/**
 * A task whose transaction failed (see ExactlyOnceCommitter): abort it, throw away the task's uncommitted
 * state, and rebuild the task from its changelog at the committed offsets. A broker that cannot be reached
 * suspends every task instead (the thread rides the outage out). A fenced task is re-created if the group
 * still gives it to us (a broker restart fences a producer whose transaction timed out), else left to its
 * new owner. The committer counts the failures in between: one that repeats too often is fatal.
 */
export class TaskRecovery implements TransactionRecovery {
  /** Fenced tasks whose group check has not ended yet. */
  private fencedPending = 0;
  /** Fenced tasks that turned out to belong to another member now: logged in one line when the checks end. */
  private readonly movedAway: string[] = [];

  constructor(
    private readonly admin: () => Admin,
    private readonly topology: Topology,
    private readonly config: ResolvedStreamsConfig,
    private readonly host: RecoveryHost,
  ) {}

  async takeDown(task: ActiveTask, error: Error): Promise<boolean> {
    // Suspended or replaced meanwhile: whoever did that re-creates it.
    const current = this.host.remove(task);
    const partitions = task.inputPartitions;
    this.host.inputs.pause(partitions.map(({ topic, partition }) => ({ topic, partitions: [partition] })));
    await task.close();
    if (this.host.state.stopped || !current) return false;
    if (!(error instanceof TaskFencedError) && isClientError(error, 'unavailable')) {
      this.host.handleError(error);
      return false;
    }
    return true;
  }

  recreate(task: ActiveTask, error: Error): void {
    const fenced = error instanceof TaskFencedError;
    if (!fenced) this.config.logger.warn(`the transaction of task ${task.id} failed (${error.message}); rebuilding it from its changelog`);
    // A fence is usually a rebalance seen first through the new owner's producer: nothing is wrong then, and
    // the tasks that moved are logged once, at INFO, when the group checks end (see noteMovedAway).
    if (fenced) this.fencedPending++;
    this.host.later(async () => {
      try {
        const { state } = this.host;
        if (state.stopped || state.membershipLost || !this.host.wanted(task.id)) {
          if (fenced) this.movedAway.push(`${task.id} (no longer assigned here)`);
          return;
        }
        if (fenced) {
          // Re-created only if the group, settled, gives it to us: during a rebalance the description still
          // shows the previous assignment, and re-creating the task would fence its new owner in turn.
          const { stable, owner } = await this.groupOwnerOf(task.id);
          if (!stable || owner !== this.host.memberId()) {
            // We are behind the group: the rebalance our consumer is about to see gives us a new assignment.
            this.movedAway.push(`${task.id} (${stable ? `now ${owner === undefined ? 'unassigned' : `member ${owner}'s`}` : 'being reassigned'})`);
            return;
          }
          // Still ours (a broker restart fenced a producer whose transaction timed out): worth a look.
          this.config.logger.warn(`task ${task.id} was fenced by another producer of its transactional id while the group still assigns it here; re-creating it`);
        }
        // The task's new producer fences the failed one; it restarts at the committed offsets.
        const restarted = await this.host.create(task.id);
        if (restarted !== undefined) {
          this.host.inputs.resume(restarted.inputPartitions.map(({ topic, partition }) => ({ topic, partitions: [partition] })));
        }
      } finally {
        if (fenced) this.noteMovedAway();
      }
    });
  }

  /** After the last pending group check: one INFO line for every fenced task that had moved to another member. */
  private noteMovedAway(): void {
    if (--this.fencedPending > 0 || this.movedAway.length === 0) return;
    const tasks = this.movedAway.splice(0);
    this.config.logger.info(
      `the group rebalanced under exactly-once: ${tasks.length === 1 ? 'task' : 'tasks'} ${tasks.join(', ')} moved to another instance, ` +
        "whose producer fenced this one's; dropped here, nothing was lost (their uncommitted transactions are aborted)",
    );
  }

  /** The member the group's current assignment gives a task to, and whether that assignment is settled. */
  private async groupOwnerOf(taskId: TaskId): Promise<{ stable: boolean; owner: string | undefined }> {
    const { state, members } = await describeGroup(this.admin(), this.config.applicationId, this.topology);
    return { stable: state === 'Stable', owner: members.find((m) => m.assigned && m.activeTasks.includes(taskId))?.memberId };
  }
}
