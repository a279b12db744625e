import { asError } from '../../errors/as-error.js';
import { StreamsRuntimeError } from '../../errors/errors.js';
import type { ActiveTask } from '../active-task.js';
import { recordCommit, tasksToCommit, type CommitContext, type Committer } from './committer.js';

/** Failed transactions of one task in a row before the failure is taken as fatal. */
const MAX_TRANSACTION_RETRIES = 5;

/** Recovery of a task whose transaction failed, as the exactly-once committer asks for it (see TaskRecovery). */
export interface TransactionRecovery {
  /**
   * Takes down a task whose transaction failed (it is closed, its uncommitted state thrown away). True when
   * the failure is the task's own, to count and recover from; false when the task was replaced meanwhile,
   * the thread stops, or the broker cannot be reached (then the thread rides the outage out).
   */
  takeDown(task: ActiveTask, error: Error): Promise<boolean>;
  /** Re-creates the task from its changelog at the committed offsets, if the group still gives it here. */
  recreate(task: ActiveTask, error: Error): void;
}

/** What the exactly-once committer tells its thread. */
export interface CommitListener {
  /** A task's commit finished (it may process again). */
  commitFinished(): void;
  /** A fatal error: the thread stops. */
  fail(error: Error): void;
}

/**
 * Exactly-once: each task commits on its own, in its own transaction (see TaskTransactions). Its changelog
 * and output records join the open transaction, then the input offsets, then the transaction commits. Only
 * then does LevelDB receive the data and the position, so a store never holds writes of a transaction that
 * aborted. A task's commits never overlap, and while one is queued or in progress the task does not
 * process: its transaction is being closed under it.
 */
export class ExactlyOnceCommitter implements Committer {
  /** Per task, its last commit queued or in progress. */
  private readonly inFlight = new Map<ActiveTask, Promise<void>>();
  /** Consecutive failed transactions per task id (a re-created task continues its predecessor's count). */
  private readonly transactionFailures = new Map<string, number>();

  constructor(
    private readonly context: CommitContext,
    private readonly recovery: TransactionRecovery,
    private readonly thread: CommitListener,
  ) {}

  isCommitting(task: ActiveTask): boolean {
    return this.inFlight.has(task);
  }

  commit(tasks: readonly ActiveTask[], handover: boolean): Promise<void> {
    return Promise.all(tasksToCommit(this.context, tasks, handover).map((t) => this.commitTask(t, handover))).then(() => {});
  }

  /** Queues a commit of the task after its commit in progress; the task processes again once none is left. */
  private commitTask(task: ActiveTask, handover: boolean): Promise<void> {
    const run = (): Promise<void> => this.commitNow(task, handover);
    const previous = this.inFlight.get(task) ?? Promise.resolve();
    const next = previous.then(run);
    const tracked = next.finally(() => {
      if (this.inFlight.get(task) === tracked) this.inFlight.delete(task);
      this.thread.commitFinished();
    });
    this.inFlight.set(task, tracked);
    return next;
  }

  private async commitNow(task: ActiveTask, handover: boolean): Promise<void> {
    if (task.state !== 'running' || this.context.state.failed) return;
    if (!handover && !task.hasUncommitted && !task.needsFlush()) return;
    const began = Date.now();
    const snapshot = task.prepareCommit(handover);
    try {
      await task.transactions!.commit(snapshot.offsets);
    } catch (err) {
      await this.transactionFailed(task, asError(err));
      return;
    }
    await task.completeCommit(snapshot);
    task.markCommitted(snapshot);
    this.transactionFailures.delete(task.id);
    recordCommit(this.context, snapshot.offsets, began);
  }

  /**
   * A transaction failed: the task is taken down (its transaction aborted, its uncommitted state thrown
   * away) and rebuilt from its changelog at the committed offsets, unless it failed too often in a row.
   */
  private async transactionFailed(task: ActiveTask, error: Error): Promise<void> {
    if (!(await this.recovery.takeDown(task, error))) return;
    // A transaction that fails the same way again and again (a record the broker always rejects) is fatal.
    const failures = (this.transactionFailures.get(task.id) ?? 0) + 1;
    this.transactionFailures.set(task.id, failures);
    if (failures > MAX_TRANSACTION_RETRIES) {
      this.thread.fail(new StreamsRuntimeError(`The transaction of task ${task.id} failed ${failures} times in a row; last: ${error.message}`, { cause: error }));
      return;
    }
    this.recovery.recreate(task, error);
  }
}
