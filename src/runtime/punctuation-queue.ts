import type { Cancellable, PunctuationType, Punctuator } from '../processor/processor-api.js';

interface Schedule {
  readonly type: PunctuationType;
  readonly intervalMs: number;
  readonly punctuator: Punctuator;
  readonly nodeName: string;
  next: number;
  cancelled: boolean;
}

/**
 * The punctuators of one task. A due punctuator fires once with the current time, however many intervals
 * passed, and is rescheduled to the first interval boundary after it (as Kafka Streams does).
 */
export class PunctuationQueue {
  private readonly schedules: Schedule[] = [];

  schedule(
    type: PunctuationType,
    intervalMs: number,
    punctuator: Punctuator,
    nodeName: string,
    now: number,
  ): Cancellable {
    if (!(intervalMs >= 1)) throw new RangeError(`punctuation interval must be >= 1 ms, got ${intervalMs}`);
    const start = Number.isFinite(now) ? now : 0;
    const entry: Schedule = { type, intervalMs, punctuator, nodeName, next: start + intervalMs, cancelled: false };
    this.schedules.push(entry);
    return {
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }

  /** Fires the due punctuators of `type` through `run`, which sets the node context around the call. */
  fire(type: PunctuationType, now: number, run: (nodeName: string, fn: () => void) => void): number {
    let fired = 0;
    for (const s of this.schedules) {
      if (s.cancelled || s.type !== type || s.next > now) continue;
      run(s.nodeName, () => s.punctuator(now));
      s.next = now - ((now - s.next) % s.intervalMs) + s.intervalMs;
      fired++;
    }
    return fired;
  }

  get isEmpty(): boolean {
    return this.schedules.every((s) => s.cancelled);
  }
}
