/**
 * The runtime asks what a client error means (unavailable, rebalancing, fenced, …), never which kafkajs class
 * or protocol code it is. These cases throw kafkajs' own error classes, protocol errors built from the real
 * wire codes, and the wrappers kafkajs and we put around them.
 */
import { createRequire } from 'node:module';
import { describe, expect, it, vi } from 'vitest';
import { classifyClientError, isClientError } from '../../src/client/client-error.js';
// Registers the kafkajs classifier as it loads, as in the runtime.
import '../../src/client/kafkajs/kafkajs-client.js';
import { StreamsRuntimeError } from '../../src/errors/errors.js';

// kafkajs' own modules: its type declarations miss some error classes and constructor arguments.
const require = createRequire(import.meta.url);
type ProtocolError = Error & { type: string; retriable: boolean };
type KafkajsErrorClass = new (e: unknown, options?: unknown) => ProtocolError;
type ErrorClassName =
  | 'KafkaJSConnectionError'
  | 'KafkaJSConnectionClosedError'
  | 'KafkaJSRequestTimeoutError'
  | 'KafkaJSNumberOfRetriesExceeded'
  | 'KafkaJSNonRetriableError'
  | 'KafkaJSLockTimeout'
  | 'KafkaJSProtocolError';
const {
  KafkaJSConnectionError,
  KafkaJSConnectionClosedError,
  KafkaJSRequestTimeoutError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSNonRetriableError,
  KafkaJSLockTimeout,
  KafkaJSProtocolError,
} = require('kafkajs/src/errors.js') as Record<ErrorClassName, KafkajsErrorClass>;
const { createErrorFromCode: kafkajsErrorFromCode } = require('kafkajs/src/protocol/error.js') as { createErrorFromCode(code: number): ProtocolError };

/** Kafka protocol error codes (the numbers on the wire). */
const CODE = {
  requestTimedOut: 7,
  coordinatorNotAvailable: 15,
  notLeaderOrFollower: 6,
  illegalGeneration: 22,
  unknownMemberId: 25,
  rebalanceInProgress: 27,
  topicAlreadyExists: 36,
  invalidProducerEpoch: 47,
  invalidProducerIdMapping: 49,
  concurrentTransactions: 51,
  producerFenced: 90,
  topicAuthorizationFailed: 29,
};

/**
 * The error kafkajs makes of a broker's error code. kafkajs 2.2.4 has no entry for PRODUCER_FENCED (90, a
 * newer broker's answer to newer request versions than kafkajs sends): built here as it would build it.
 */
function createErrorFromCode(code: number): ProtocolError {
  if (code === CODE.producerFenced) {
    return new KafkaJSProtocolError({ type: 'PRODUCER_FENCED', code, retriable: false, message: 'There is a newer producer with the same transactionalId' });
  }
  return kafkajsErrorFromCode(code);
}

/** `err` wrapped `depth` times, as callers do with `{ cause }`. */
function wrapped(err: unknown, depth: number): unknown {
  let e = err;
  for (let i = 0; i < depth; i++) e = new StreamsRuntimeError(`wrapper ${i}`, { cause: e });
  return e;
}

describe('client errors', () => {
  it('a plain Error, a string and undefined are of no kind', () => {
    expect(classifyClientError(new Error('boom'))).toEqual(new Set());
    expect(classifyClientError('boom')).toEqual(new Set());
    expect(classifyClientError(undefined)).toEqual(new Set());
    expect(classifyClientError(null)).toEqual(new Set());
  });

  it('connection errors, request timeouts and coordinator answers mean the broker is unavailable, also as a cause', () => {
    const unavailable = [
      new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092'),
      new KafkaJSConnectionClosedError('Closed connection'),
      new KafkaJSRequestTimeoutError('Request Metadata(key: 3, version: 6) timed out'),
      new KafkaJSLockTimeout('Timeout while acquiring lock'),
      createErrorFromCode(CODE.coordinatorNotAvailable),
      createErrorFromCode(CODE.notLeaderOrFollower),
      createErrorFromCode(CODE.requestTimedOut),
      new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Connection timeout'), { retryCount: 5, retryTime: 100 }),
      new Error('connect ECONNREFUSED 127.0.0.1:9092'),
    ];
    for (const err of unavailable) {
      expect(isClientError(err, 'unavailable'), String(err)).toBe(true);
      expect(isClientError(wrapped(err, 3), 'unavailable'), String(err)).toBe(true);
    }
    expect(isClientError(createErrorFromCode(CODE.topicAuthorizationFailed), 'unavailable')).toBe(false);
    expect(isClientError(new KafkaJSNonRetriableError('Invalid message'), 'unavailable')).toBe(false);
  });

  it('a log line (an object with only a message) is classified by its text', () => {
    expect(isClientError({ message: 'Connection error: connect ECONNREFUSED' }, 'unavailable')).toBe(true);
    expect(isClientError({ message: 'Response Metadata' }, 'unavailable')).toBe(false);
  });

  it('the ends of a generation mean the group is rebalancing, also as a cause', () => {
    for (const code of [CODE.illegalGeneration, CODE.unknownMemberId, CODE.rebalanceInProgress]) {
      const err = createErrorFromCode(code);
      expect(classifyClientError(err), err.type).toContain('rebalancing');
      expect(isClientError(wrapped(err, 2), 'rebalancing'), err.type).toBe(true);
    }
    expect(isClientError(createErrorFromCode(CODE.coordinatorNotAvailable), 'rebalancing')).toBe(false);
  });

  it('a newer producer epoch means fenced, by code or by message, also as a cause', () => {
    for (const code of [CODE.invalidProducerEpoch, CODE.producerFenced, CODE.invalidProducerIdMapping]) {
      const err = createErrorFromCode(code);
      expect(classifyClientError(err), err.type).toContain('fenced');
      expect(isClientError(wrapped(err, 4), 'fenced'), err.type).toBe(true);
    }
    expect(isClientError(new Error('Producer was fenced by a newer instance'), 'fenced')).toBe(true);
    expect(isClientError(createErrorFromCode(CODE.concurrentTransactions), 'fenced')).toBe(false);
  });

  it('concurrent transactions, an existing topic, a timeout and retriable are said of the outermost error only', () => {
    const concurrent = createErrorFromCode(CODE.concurrentTransactions);
    expect(isClientError(concurrent, 'concurrent-transactions')).toBe(true);
    expect(isClientError(wrapped(concurrent, 1), 'concurrent-transactions')).toBe(false);

    const exists = createErrorFromCode(CODE.topicAlreadyExists);
    expect(classifyClientError(exists)).toEqual(new Set(['already-exists']));
    expect(isClientError(wrapped(exists, 1), 'already-exists')).toBe(false);

    const timedOut = createErrorFromCode(CODE.requestTimedOut);
    expect(classifyClientError(timedOut)).toEqual(new Set(['unavailable', 'timed-out', 'retriable']));

    // kafkajs' "retries exhausted" is its last word: not retriable, though what it wraps was.
    const exhausted = new KafkaJSNumberOfRetriesExceeded(timedOut, { retryCount: 5, retryTime: 100 });
    expect(isClientError(exhausted, 'retriable')).toBe(false);
    expect(isClientError(exhausted, 'timed-out')).toBe(false);
    expect(isClientError(exhausted, 'unavailable')).toBe(true);
  });

  it('a cause chain is followed to a bounded depth, so a cycle ends', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(classifyClientError(a)).toEqual(new Set());
    expect(isClientError(wrapped(createErrorFromCode(CODE.producerFenced), 7), 'fenced')).toBe(true);
    expect(isClientError(wrapped(createErrorFromCode(CODE.producerFenced), 8), 'fenced')).toBe(false);
  });

  it('without a registered classifier, says so instead of taking every error as fatal', async () => {
    vi.resetModules();
    const fresh = await import('../../src/client/client-error.js');
    expect(() => fresh.isClientError(new Error('Connection error'), 'unavailable')).toThrow(/registered how to classify/);
    expect(fresh.isClientError(undefined, 'unavailable')).toBe(false);
  });
});
