/**
 * The two kafkajs internals we rely on, typed here and nowhere else. kafkajs (2.2.4, pinned) has no
 * manually assigned consumer, which restoration needs: read partition P of a changelog from offset A to B,
 * with no consumer group. Its `Cluster` and `Broker.fetch` do exactly that, and its `Batch` drops control
 * records and records of aborted transactions (read_committed). Upgrading kafkajs means re-checking this file.
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

export interface RawCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  refreshMetadata(): Promise<void>;
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
