import type { OffsetToCommit } from '../../client/topic-partitions.js';
import type { Logger } from '../../logging/logger.js';
import type { ActiveTask } from '../active-task.js';
import type { RepartitionPurger } from '../repartition-purger.js';
import type { FlushDeferral } from './flush-deferral.js';
import type { ThreadState } from '../thread-state.js';

/**
 * The commit of a thread's active tasks under one processing guarantee (see AtLeastOnceCommitter and
 * ExactlyOnceCommitter). Each commit has the same two halves: `task.prepareCommit` flushes the stores and
 * captures the offsets consumed, synchronously, at one point of the record stream; once what the task wrote
 * is safe in Kafka (acknowledged, or its transaction committed), `task.completeCommit` writes the flushed
 * entries and their changelog position to the local stores, and `task.markCommitted` records the offsets.
 * What differs between guarantees is what "safe in Kafka" means and who commits the offsets.
 *
 * Single-threaded (the event loop). A committer never throws synchronously; its promise rejects when the
 * commit failed in a way its caller must handle (a lost output: the thread decides whether that is fatal).
 */
export interface Committer {
  /**
   * Commits the tasks that are running (a task closed meanwhile is skipped). `handover` marks the commit as
   * the last one of this owner (see TaskManager): it commits even when nothing changed, so the next owner
   * finds the mark.
   */
  commit(tasks: readonly ActiveTask[], handover: boolean): Promise<void>;
  /** True while a task must not process: a commit of it is queued or in progress and needs its state still. */
  isCommitting(task: ActiveTask): boolean;
  /**
   * At-least-once only: relieves the full caches of `tasks` without a commit (see StoreCommit.evict),
   * ordered with the commits. Absent under exactly-once, where a full cache commits its task.
   */
  evict?(tasks: readonly ActiveTask[]): Promise<void>;
}

/** The commit totals an instance reports through metrics. */
export interface CommitCounters {
  commits: number;
  commitLatencyTotalMs: number;
}

/** What both committers read and report to. */
export interface CommitContext {
  /** The thread's state: a failed thread commits nothing more (nothing after the last commit is trusted). */
  readonly state: ThreadState;
  readonly counters: CommitCounters;
  /** Told the offsets each commit reached, so it can delete the repartition records behind them. */
  readonly purger: RepartitionPurger;
  readonly logger: Logger;
  /** Tasks a periodic commit leaves for a later one (see FlushDeferral); none when absent. */
  readonly deferral?: FlushDeferral;
}

/**
 * The running tasks a commit takes: all of them when it hands over, else those the deferral does not keep
 * (`tasks` are all the thread's running tasks: together they tell whether it catches up).
 */
export function tasksToCommit(context: CommitContext, tasks: readonly ActiveTask[], handover: boolean): ActiveTask[] {
  const running = tasks.filter((t) => t.state === 'running');
  const deferral = context.deferral;
  if (handover || deferral === undefined || !deferral.catchingUp(running.reduce((sum, t) => sum + t.recordsBehind(), 0))) return running;
  const now = Date.now();
  return running.filter((t) => !deferral.defers(t, now));
}

/** A commit went through: the purger may delete what the group will not read again, the counters count it. */
export function recordCommit(context: CommitContext, offsets: readonly OffsetToCommit[], began: number): void {
  context.purger.committed(offsets);
  context.counters.commits++;
  context.counters.commitLatencyTotalMs += Date.now() - began;
}
