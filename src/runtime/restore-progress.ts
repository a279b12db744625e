import type { Logger } from '../logging/logger.js';
import type { RestoringPartition, StateRestoreListener } from './state-restore-listener.js';

/** One store's restoration in progress. */
export interface RestoreState {
  readonly taskId: string;
  readonly storeName: string;
  readonly end: bigint;
  readonly total: bigint;
  /** Changelog offsets still to read (records, less what compaction removed). */
  remaining: bigint;
  restored: number;
  readonly began: number;
  lastLog: number;
}

const LOG_EVERY_MS = 5000;

/**
 * Tracks restorations for metrics (records remaining) and logs progress of long ones (done / total, rate,
 * ETA) every few seconds, then forwards every event to the user's listener.
 */
export class RestoreProgress {
  private readonly active = new Map<string, RestoreState>();
  restoredTotal = 0;

  constructor(private readonly logger: Logger) {}

  /** Restorations in progress. */
  get inProgress(): ReadonlyMap<string, RestoreState> {
    return this.active;
  }

  listener(user: StateRestoreListener | undefined): StateRestoreListener {
    const key = (p: RestoringPartition) => `${p.taskId}/${p.storeName}`;
    return {
      onRestoreStart: (p, start, end) => {
        const now = Date.now();
        this.active.set(key(p), { taskId: p.taskId, storeName: p.storeName, end, total: end - start, remaining: end - start, restored: 0, began: now, lastLog: now });
        user?.onRestoreStart?.(p, start, end);
      },
      onBatchRestored: (p, batchEnd, count) => {
        const state = this.active.get(key(p));
        if (state !== undefined) {
          state.restored += count;
          state.remaining = state.end > batchEnd ? state.end - batchEnd : 0n;
          this.restoredTotal += count;
          this.maybeLog(p, state);
        }
        user?.onBatchRestored?.(p, batchEnd, count);
      },
      onRestoreEnd: (p, total) => {
        this.active.delete(key(p));
        user?.onRestoreEnd?.(p, total);
      },
    };
  }

  private maybeLog(p: RestoringPartition, state: RestoreState): void {
    const now = Date.now();
    if (now - state.lastLog < LOG_EVERY_MS) return;
    state.lastLog = now;
    const rate = state.restored / Math.max((now - state.began) / 1000, 0.001);
    const eta = rate > 0 ? Number(state.remaining) / rate : Number.POSITIVE_INFINITY;
    this.logger.info(
      `task ${p.taskId}: restoring ${p.storeName}: ${state.total - state.remaining} / ${state.total} offsets, ` +
        `${Math.round(rate)} records/s, about ${Number.isFinite(eta) ? Math.ceil(eta) : '?'} s left`,
    );
  }
}
