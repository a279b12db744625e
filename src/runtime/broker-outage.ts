import { StreamsRuntimeError } from '../errors/errors.js';
import type { Logger } from '../logging/logger.js';

/** kafkajs errors that mean the broker (or a coordinator or leader on it) cannot be reached right now. */
const UNAVAILABLE_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSBrokerNotFound',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSLockTimeout',
]);

/** Broker answers that mean "not here, not now" (a broker restarting, a coordinator loading). */
const UNAVAILABLE_TYPES = new Set([
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'NOT_COORDINATOR_FOR_GROUP',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'GROUP_LOAD_IN_PROGRESS',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'KAFKA_STORAGE_ERROR',
  'BROKER_NOT_AVAILABLE',
  'REPLICA_NOT_AVAILABLE',
]);

const UNAVAILABLE_MESSAGE = /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|EPIPE|socket hang up|Connection (error|timeout|closed)|Closed connection|Request .* timed out|broker not found|no brokers? available|find group coordinator/i;

/** True when an error (or one of its causes) says the broker is unreachable, not that something is wrong. */
export function isBrokerUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const { name, type, message } = e as { name?: string; type?: string; message?: string };
    if (UNAVAILABLE_NAMES.has(name ?? '') || UNAVAILABLE_TYPES.has(type ?? '')) return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
  }
  return false;
}

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
