import { StreamsRuntimeError } from '../errors/errors.js';
import type { Logger } from '../logging/logger.js';
import { sendBeganAt } from './send-failed-error.js';

/**
 * Bookkeeping of one outage: when it began, whether it was logged, and when it becomes fatal. The first
 * error of an outage is logged once (kafkajs' own retries are not); the end is logged with its length.
 *
 * A request kafkajs kept retrying through an outage (a send of a task still being created when the outage
 * began, so not suspended) can fail only after the broker answers again. Its error belongs to the outage
 * that ended, not to a new one: the tasks are still suspended and re-created from their last commit, but no
 * second outage is reported, unless the broker then turns out to be unreachable indeed (`stillUnavailable`).
 */
export class BrokerOutage {
  private since: number | undefined;
  /** The current episode is the late failure of a request begun before the last outage ended. */
  private leftover = false;
  private lastEndedAt: number | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  get active(): boolean {
    return this.since !== undefined;
  }

  /** Milliseconds since the outage began (0 when there is none). */
  get elapsedMs(): number {
    return this.since === undefined ? 0 : Date.now() - this.since;
  }

  /** Records an unavailability error; returns a fatal error once the outage has lasted past the timeout. */
  report(error: Error): Error | undefined {
    if (this.since === undefined) {
      this.since = Date.now();
      const beganAt = sendBeganAt(error);
      this.leftover = beganAt !== undefined && this.lastEndedAt !== undefined && beganAt <= this.lastEndedAt;
      if (this.leftover) {
        this.logger.info('a send begun while the broker was away failed after it answered again; its task is re-created from its last commit');
        this.logger.debug(`the late failure: ${error.message}`);
      } else {
        this.logUnavailable(error);
      }
    }
    return this.expired(error);
  }

  /** The broker did not answer a probe: a leftover episode is an outage after all, logged as one. */
  stillUnavailable(error: Error): void {
    if (this.since === undefined || !this.leftover) return;
    this.leftover = false;
    this.logUnavailable(error);
  }

  private logUnavailable(error: Error): void {
    this.logger.warn(
      `broker unavailable (${error.message}); tasks are suspended until it answers again ` +
        `(fatal after ${this.timeoutMs} ms, brokerUnavailableTimeoutMs)`,
    );
  }

  /** A fatal error once the outage has lasted longer than the timeout, else undefined. */
  expired(last?: Error): Error | undefined {
    if (this.since === undefined || Date.now() - this.since < this.timeoutMs) return undefined;
    return new StreamsRuntimeError(
      `The broker was unavailable for ${this.elapsedMs} ms, longer than brokerUnavailableTimeoutMs (${this.timeoutMs} ms)` +
        (last === undefined ? '' : `; last error: ${last.message}`),
      { cause: last },
    );
  }

  /** The broker answered and the tasks run again. */
  ended(): void {
    if (this.since === undefined) return;
    if (this.leftover) this.logger.debug('tasks resumed after the late failure of a send');
    else this.logger.info(`broker available again after ${((Date.now() - this.since) / 1000).toFixed(1)} s; tasks resumed`);
    this.since = undefined;
    this.leftover = false;
    this.lastEndedAt = Date.now();
  }
}
