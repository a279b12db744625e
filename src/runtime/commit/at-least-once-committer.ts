import { isClientError } from '../../client/client-error.js';
import type { OffsetToCommit } from '../../client/topic-partitions.js';
import { asError } from '../../errors/as-error.js';
import type { ActiveTask, CommitSnapshot } from '../active-task.js';
import { recordCommit, tasksToCommit, type CommitContext, type Committer } from './committer.js';

/**
 * At-least-once: the tasks commit together, one commit at a time (commits never overlap: the next one takes
 * its snapshots after the previous one committed, or failed). Each commit snapshots every task, waits until
 * each task's producer acknowledged everything the snapshot flushed (changelog and output records), writes
 * the local stores, and only then commits the group's offsets through the consumer. Offsets therefore never
 * pass output that is not acknowledged; after a crash, records since the last commit are processed again.
 * Tasks keep processing while a commit waits: what they do after the snapshot belongs to the next commit.
 */
export class AtLeastOnceCommitter implements Committer {
  /** The commit in progress; the next one starts after it settles. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly context: CommitContext,
    /** Commits the group's offsets (the thread's consumer). */
    private readonly commitOffsets: (offsets: OffsetToCommit[]) => Promise<void>,
  ) {}

  isCommitting(): boolean {
    return false;
  }

  commit(tasks: readonly ActiveTask[], handover: boolean): Promise<void> {
    const run = (): Promise<void> => this.commitNow(tasks, handover);
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => {});
    return next;
  }

  evict(tasks: readonly ActiveTask[]): Promise<void> {
    const run = (): Promise<void> => this.evictNow(tasks);
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => {});
    return next;
  }

  /** Like a commit without offsets: the evicted entries reach LevelDB once their changelog records are acknowledged. */
  private async evictNow(tasks: readonly ActiveTask[]): Promise<void> {
    const full = tasks.filter((t) => t.state === 'running' && t.needsFlush());
    if (full.length === 0 || this.context.state.failed) return;
    const snapshots: Array<[ActiveTask, CommitSnapshot]> = full.map((t) => [t, t.prepareEviction()]);
    await Promise.all(full.map((t) => t.pipeline.flush()));
    await Promise.all(snapshots.map(([task, snapshot]) => task.completeCommit(snapshot)));
  }

  private async commitNow(tasks: readonly ActiveTask[], handover: boolean): Promise<void> {
    const live = tasksToCommit(this.context, tasks, handover);
    if (live.length === 0 || this.context.state.failed) return;
    if (!handover && !live.some((t) => t.hasUncommitted || t.needsFlush())) return;
    const began = Date.now();
    // Synchronous: flush caches and capture offsets at one point of the record stream.
    const snapshots: Array<[ActiveTask, CommitSnapshot]> = live.map((t) => [t, t.prepareCommit(handover)]);
    await Promise.all(live.map((t) => t.pipeline.flush()));
    await Promise.all(snapshots.map(([task, snapshot]) => task.completeCommit(snapshot)));
    const offsets = snapshots.flatMap(([, s]) => s.offsets);
    try {
      if (offsets.length > 0) await this.commitOffsets(offsets);
    } catch (err) {
      // The group moved on under us (a member died or joined): the offsets are committed by the handover
      // or the next commit after the rebalance; what was processed meanwhile may be processed again.
      if (!isClientError(err, 'rebalancing')) throw err;
      this.context.logger.warn(`commit skipped while the group rebalances (${asError(err).message}); it is retried after the rebalance`);
      return;
    }
    for (const [task, snapshot] of snapshots) task.markCommitted(snapshot);
    recordCommit(this.context, offsets, began);
  }
}
