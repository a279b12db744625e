import type { ActiveTask } from '../active-task.js';

/** What the deferral reads of a task (an ActiveTask; a plain object in unit tests). */
export type DeferrableTask = Pick<ActiveTask, 'wroteSinceCommit' | 'lastCommitAt' | 'needsFlush'>;

/**
 * Which tasks a periodic commit may leave for a later one: while the thread catches up on a backlog (its
 * tasks together at least `behindRecords` behind the ends of their inputs), a task keeps its write cache
 * (and its input offsets) until its cache fills, the thread caught up, or `maxDeferralMs` passed. The
 * backlog is the thread's, not the task's: a task reading a repartition topic is never far behind it (its
 * upstream tasks write it as they go), but it has a backlog to work through as long as they do.
 *
 * Why: a session that stays open across several commits is logged at each of them and tombstoned at the
 * next (its window grew), so the changelog, and every restore of it, grows with the number of flushes a
 * task makes while it works through a backlog. Our loop moves every task a little at each commit (see
 * TaskScheduler), where Kafka Streams' fetches feed one task at a time in large bursts; deferring the flush
 * of a task that is behind anyway gives the same effect: a backlog's sessions are logged about once.
 * Measured with `npm run bench -- restore` (changelog records ours ÷ Kafka Streams, see README Performance).
 *
 * What it keeps: the at-least-once guarantee (the runtime defers under at-least-once only, see TaskManager).
 * A deferred task is left out of the commit as a whole: its cached state and its offsets stay behind
 * together, and after a crash its input since its last commit is processed again (as any uncommitted input
 * is), over what its full cache evicted meanwhile (see StoreCommit.evict), as after Kafka Streams'
 * evictions. Only a task that wrote nothing since its last commit (or eviction) is deferred: all its output
 * waits in its cache. A thread near the end of its input commits every task at every interval, so output
 * latency in steady state does not change; a commit that hands tasks over (rebalance, close) never defers.
 */
export class FlushDeferral {
  constructor(
    /** A thread at least this many records behind the ends of its inputs is catching up. */
    private readonly behindRecords: number,
    /** A task commits at least this often, deferred or not. */
    private readonly maxDeferralMs: number,
  ) {}

  /** True when the thread is catching up: `behind` is its tasks' records behind the ends of their inputs. */
  catchingUp(behind: number): boolean {
    return behind >= this.behindRecords;
  }

  /** Whether a periodic commit while the thread catches up may leave `task` out. */
  defers(task: DeferrableTask, now: number): boolean {
    if (task.wroteSinceCommit || task.needsFlush()) return false;
    return now - task.lastCommitAt < this.maxDeferralMs;
  }
}
