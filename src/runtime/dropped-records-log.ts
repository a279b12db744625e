import type { Logger } from '../logging/logger.js';
import type { DropReason } from '../processor/internals/internal-processor-context.js';

/** Records dropped by a processor, or skipped by an exception handler ('logAndContinue'). */
export type LoggedDrop =
  | DropReason
  | 'deserialization-error'
  | 'processing-error'
  | 'production-error'
  | 'deserialization-dead-letter'
  | 'processing-dead-letter'
  | 'production-dead-letter'
  | 'late-routed';

const WHAT: Record<LoggedDrop, string> = {
  late: 'late records (their window had closed)',
  'null-key': 'records with a null key',
  'invalid-timestamp': 'records with an invalid timestamp',
  'deserialization-error': 'records it could not deserialize (skipped)',
  'processing-error': 'records whose processing failed (skipped)',
  'deserialization-dead-letter': 'records it could not deserialize to the dead-letter topic',
  'processing-dead-letter': 'records whose processing failed to the dead-letter topic',
  'production-error': 'output records it could not produce (dropped)',
  'production-dead-letter': 'output records it could not produce to the dead-letter topic',
  'late-routed': 'late records (their window had closed) to the late-records topic',
};

/** At most one WARN line per scope in this interval; the counts in between are summed into it. */
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

  /** `scope` names who drops, as the log line begins: `task 1_0`, or `this instance`. */
  constructor(
    private readonly scope: string,
    private readonly logger: Logger,
    private readonly wallClock: () => number,
  ) {}

  record(processor: string, reason: LoggedDrop, detail: string): void {
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
      const [processor, reason] = id.split('\u0000') as [string, LoggedDrop];
      const verb = reason.endsWith('dead-letter') || reason === 'late-routed' ? 'sent' : 'dropped';
      this.logger.warn(`${this.scope}: ${processor} ${verb} ${count} ${WHAT[reason]}; ${total} in all; last: ${lastDetail}`, {
        scope: this.scope,
        processor,
        reason,
        dropped: count,
        droppedTotal: total,
      });
    }
    this.pending.clear();
  }
}
