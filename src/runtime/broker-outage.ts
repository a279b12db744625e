import { StreamsRuntimeError } from '../errors/errors.js';
import type { Logger } from '../logging/logger.js';

/**
 * Bookkeeping of one outage: when it began, whether it was logged, and when it becomes fatal. The first
 * error of an outage is logged once (kafkajs' own retries are not); the end is logged with its length.
 */
export class BrokerOutage {
  private since: number | undefined;

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
      this.logger.warn(
        `broker unavailable (${error.message}); tasks are suspended until it answers again ` +
          `(fatal after ${this.timeoutMs} ms, brokerUnavailableTimeoutMs)`,
      );
    }
    return this.expired(error);
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
    this.logger.info(`broker available again after ${((Date.now() - this.since) / 1000).toFixed(1)} s; tasks resumed`);
    this.since = undefined;
  }
}
