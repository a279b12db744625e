/**
 * The kafkajs internals we rely on, typed here and nowhere else. kafkajs (2.2.4, pinned) has no
 * manually assigned consumer, which restoration needs: read partition P of a changelog from offset A to B,
 * with no consumer group. Its `Cluster` and `Broker.fetch` do exactly that, and its `Batch` drops control
 * records and records of aborted transactions (read_committed). Its brokers' connections also carry requests
 * kafkajs has no version of (OffsetFetch v7, see offset-fetch-v7.ts). Upgrading kafkajs means re-checking
 * this file.
 */
import { createRequire } from 'node:module';
import type { ISocketFactory, logCreator } from 'kafkajs';
import type { ConnectionSettings } from '../connection-settings.js';

const require = createRequire(import.meta.url);

export interface RawMessage {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: string;
  readonly isControlRecord?: boolean;
  readonly headers?: Record<string, Buffer | undefined>;
}

export interface RawPartitionData {
  readonly partition: number;
  readonly errorCode: number;
  readonly highWatermark: string;
  readonly lastStableOffset?: string;
  readonly messages: RawMessage[];
}

export interface RawBroker {
  fetch(request: {
    replicaId: number;
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: Array<{ topic: string; partitions: Array<{ partition: number; fetchOffset: string; maxBytes: number }> }>;
  }): Promise<{ responses: Array<{ topicName: string; partitions: RawPartitionData[] }> }>;
}

/** A request as kafkajs' connection sends it: it writes the header v1 (size, api key and version, correlation and client id) before `encode`'s bytes, and hands `decode` what follows the response's correlation id. */
export interface RawProtocolRequest<T> {
  readonly request: { apiKey: number; apiVersion: number; apiName: string; encode(): Promise<unknown> };
  readonly response: { decode(payload: Buffer): Promise<T>; parse(decoded: T): Promise<T> };
}

/** A broker as kafkajs' cluster hands it out, connected, for requests kafkajs has no method for. */
export interface RawRequestBroker {
  /** The API versions kafkajs' cluster learnt from its seed broker (ApiVersions), by api key. */
  readonly versions: Record<number, { minVersion: number; maxVersion: number } | undefined> | null;
  readonly connectionPool: { send<T>(protocolRequest: RawProtocolRequest<T>): Promise<T> };
  disconnect(): Promise<void>;
}

export interface RawCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  refreshMetadata(): Promise<void>;
  refreshMetadataIfNecessary(): Promise<void>;
  findTopicPartitionMetadata(topic: string): Array<{ partitionId: number }>;
  /** Asks FindCoordinator anew on each call (kafkajs caches no coordinator here). */
  findGroupCoordinator(request: { groupId: string }): Promise<RawRequestBroker>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(node: { nodeId: string }): Promise<RawBroker>;
  fetchTopicsOffset(
    topics: Array<{ topic: string; partitions: Array<{ partition: number }>; fromBeginning: boolean }>,
  ): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>;
}

export interface RawBatch {
  /** Records a consumer would see (no control records, no aborted ones). */
  readonly messages: RawMessage[];
  /** Everything fetched at or after the fetch offset, control and aborted records included. */
  readonly messagesWithinOffset: RawMessage[];
}

type ClusterConstructor = new (options: Record<string, unknown>) => RawCluster;
type BatchConstructor = new (topic: string, fetchedOffset: string, partitionData: RawPartitionData) => RawBatch;

const Cluster = require('kafkajs/src/cluster/index.js') as ClusterConstructor;
const Batch = require('kafkajs/src/consumer/batch.js') as BatchConstructor;
const Encoder = require('kafkajs/src/protocol/encoder.js') as new () => { writeBuffer(buffer: Buffer): unknown };
const { createErrorFromCode } = require('kafkajs/src/protocol/error.js') as { createErrorFromCode(code: number): Error };
const { createLogger, LEVELS } = require('kafkajs/src/loggers/index.js') as {
  createLogger(options: { level: number; logCreator: unknown }): unknown;
  LEVELS: Record<string, number>;
};

export const ISOLATION = { READ_UNCOMMITTED: 0, READ_COMMITTED: 1 } as const;

/** A kafkajs cluster connection outside any consumer group, configured as the kafkajs client would be. */
export function createRawCluster(options: {
  brokers: string[];
  clientId: string;
  isolationLevel: number;
  connection: ConnectionSettings;
  socketFactory: ISocketFactory;
  logCreator: logCreator;
}): RawCluster {
  const { connection } = options;
  return new Cluster({
    logger: createLogger({ level: LEVELS.NOTHING ?? 0, logCreator: options.logCreator }),
    retry: connection.retry,
    offsets: new Map(),
    socketFactory: options.socketFactory,
    brokers: options.brokers,
    ssl: connection.ssl,
    sasl: connection.sasl,
    clientId: options.clientId,
    connectionTimeout: connection.connectionTimeout ?? 3000,
    authenticationTimeout: connection.authenticationTimeout,
    reauthenticationThreshold: connection.reauthenticationThreshold,
    requestTimeout: connection.requestTimeout ?? 30_000,
    enforceRequestTimeout: connection.enforceRequestTimeout ?? true,
    metadataMaxAge: 300_000,
    instrumentationEmitter: null,
    allowAutoTopicCreation: false,
    maxInFlightRequests: null,
    isolationLevel: options.isolationLevel,
  });
}

export function toBatch(topic: string, fetchedOffset: string, partitionData: RawPartitionData): RawBatch {
  return new Batch(topic, fetchedOffset, partitionData);
}

/** A request of our own encoding, as kafkajs' connection sends it: `body` goes after kafkajs' header v1. */
export function rawRequest<T>(
  request: { apiKey: number; apiVersion: number; apiName: string; body: Buffer },
  decode: (payload: Buffer) => T,
): RawProtocolRequest<T> {
  const { apiKey, apiVersion, apiName, body } = request;
  return {
    request: { apiKey, apiVersion, apiName, encode: async () => new Encoder().writeBuffer(body) },
    response: { decode: async (payload) => decode(payload), parse: async (decoded) => decoded },
  };
}

/** kafkajs' error for a broker's error code (a KafkaJSProtocolError with its `type`, e.g. NOT_COORDINATOR). */
export function protocolError(code: number): Error {
  return createErrorFromCode(code);
}
