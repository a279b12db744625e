import type { ClientErrorFields, ClientErrorKind } from '../client-error.js';

/**
 * How kafkajs reports what `ClientErrorKind` names: by error class (`name`), by the broker's answer (`type`,
 * Kafka's protocol error name), by its own `retriable` verdict, and, for errors that reach us only as text
 * (socket errors, log lines), by message.
 */

/** Errors of kafkajs that mean the broker (or a coordinator or leader on it) cannot be reached right now. */
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

/** Answers to a commit that mean the group is rebalancing, not that anything is wrong. */
const REBALANCE_TYPES = new Set(['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS']);

/** Broker error names that mean another producer with our transactional id took over. */
const FENCED_TYPES = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'INVALID_PRODUCER_ID_MAPPING']);

const FENCED_MESSAGE = /fenced|epoch/i;

function messageMatches(message: unknown, pattern: RegExp): boolean {
  return typeof message === 'string' && pattern.test(message);
}

/** True when this one error object (its causes are not looked at) is, as kafkajs reports it, of `kind`. */
export function isKafkajsErrorOfKind(error: ClientErrorFields, kind: ClientErrorKind): boolean {
  const { name, type } = error;
  switch (kind) {
    case 'unavailable':
      return UNAVAILABLE_NAMES.has(name as string) || UNAVAILABLE_TYPES.has(type as string) || messageMatches(error.message, UNAVAILABLE_MESSAGE);
    case 'rebalancing':
      return REBALANCE_TYPES.has(type as string);
    case 'fenced':
      return FENCED_TYPES.has(type as string) || messageMatches(error.message, FENCED_MESSAGE);
    case 'concurrent-transactions':
      return type === 'CONCURRENT_TRANSACTIONS';
    case 'already-exists':
      return type === 'TOPIC_ALREADY_EXISTS';
    case 'timed-out':
      return type === 'REQUEST_TIMED_OUT';
    case 'retriable':
      return error.retriable === true;
  }
}
