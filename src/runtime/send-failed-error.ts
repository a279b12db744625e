import { StreamsRuntimeError } from '../errors/errors.js';

/**
 * A send the broker did not acknowledge, with the time it began: kafkajs retries a send for a while, so its
 * failure can arrive after the broker answers again, and then belongs to the outage it began in, not to a
 * new one (see BrokerOutage).
 */
export class SendFailedError extends StreamsRuntimeError {
  constructor(
    message: string,
    /** When the send began (ms since the epoch). */
    readonly beganAt: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** When the failed send behind `error` (itself or a cause of it) began, if a send is behind it. */
export function sendBeganAt(error: unknown): number | undefined {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof SendFailedError) return e.beganAt;
  }
  return undefined;
}
