import type { Logger } from '../logging/logger.js';
import type { DropReason } from '../processor/internals/internal-processor-context.js';

/** At most one WARN line per task in this interval; the counts in between are summed into it. */
export const DROP_LOG_INTERVAL_MS = 10_000;

interface Pending {
  count: number;
  total: number;
  lastDetail: string;
}

/**
 * Makes every dropped record visible without flooding the log: the first drop of a task is logged at once
 * as a WARN, later ones are summed per processor and reason and logged at most once per interval, each
 * line with the running total. Nothing here allocates per record beyond the detail string of the caller.
 */
export class DroppedRecordsLog {
  private readonly pending = new Map<string, Pending>();
  private readonly totals = new Map<string, number>();
  private lastLoggedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly taskId: string,
    private readonly logger: Logger,
    private readonly wallClock: () => number,
  ) {}

  record(processor: string, reason: DropReason, detail: string): void {
    const id = `${processor}\u0000${reason}`;
    const total = (this.totals.get(id) ?? 0) + 1;
    this.totals.set(id, total);
    const entry = this.pending.get(id);
    if (entry === undefined) this.pending.set(id, { count: 1, total, lastDetail: detail });
    else {
      entry.count++;
      entry.total = total;
      entry.lastDetail = detail;
    }
    const now = this.wallClock();
    if (now - this.lastLoggedAt >= DROP_LOG_INTERVAL_MS) this.flush(now);
  }

  /** Logs what was dropped since the last line (the owner calls it on close too). */
  flush(now = this.wallClock()): void {
    this.lastLoggedAt = now;
    for (const [id, { count, total, lastDetail }] of this.pending) {
      const [processor, reason] = id.split('\u0000') as [string, DropReason];
      const what =
        reason === 'late' ? 'late records (their window had closed)' : reason === 'null-key' ? 'records with a null key' : 'records with an invalid timestamp';
      this.logger.warn(`task ${this.taskId}: ${processor} dropped ${count} ${what}; ${total} in all; last: ${lastDetail}`, {
        task: this.taskId,
        processor,
        reason,
        dropped: count,
        droppedTotal: total,
      });
    }
    this.pending.clear();
  }
}
