import { createRequire } from 'node:module';
import { Kafka, logLevel, type ISocketFactory, type logCreator } from 'kafkajs';
import type { Logger } from '../../logging/logger.js';
import type { Admin } from '../admin.js';
import { registerClientErrorClassifier } from '../client-error.js';
import type { ConnectionSettings } from '../connection-settings.js';
import type { GroupConsumer, GroupConsumerListener, GroupConsumerOptions } from '../group-consumer.js';
import type { KafkaClient } from '../kafka-client.js';
import type { PartitionReader } from '../partition-reader.js';
import type { Producer, TransactionalProducer } from '../producer.js';
import { installAbortedTransactionFilter } from './aborted-transaction-filter.js';
import { markedSocketFactory, type ClientMark } from './client-marks.js';
import { KafkajsAdmin } from './kafkajs-admin.js';
import { isKafkajsErrorOfKind } from './kafkajs-errors.js';
import { KafkajsGroupConsumer } from './kafkajs-group-consumer.js';
import { ISOLATION, createRawCluster } from './kafkajs-internals.js';
import { kafkajsLogCreator } from './kafkajs-log.js';
import { KafkajsPartitionReader } from './kafkajs-partition-reader.js';
import { linearGroupingActive } from './kafkajs-preload.js';
import { PartitionKeyPartitioner } from './partition-key-partitioner.js';
import { fastProduceEncodingActive } from './produce-request-v3.js';
import { quickConcurrentTransactionRetryActive } from './transaction-retry.js';
import { fastRecordDecodingActive } from './record-decoder.js';
import { StableOffsetFetch } from './stable-offset-fetch.js';
import { installStaticMembership } from './static-membership.js';

// The runtime asks what an error means through client-error.ts; kafkajs' errors read as kafkajs-errors.ts says.
registerClientErrorClassifier(isKafkajsErrorOfKind);

const require = createRequire(import.meta.url);
const defaultSocketFactory = require('kafkajs/src/network/socketFactory.js') as () => ISocketFactory;

export interface KafkajsClientOptions {
  readonly brokers: string[];
  readonly clientId: string;
  readonly connection: ConnectionSettings;
  /** Where kafkajs' own log lines go (retriable ones at debug level); none: kafkajs logs nothing. */
  readonly logger?: Logger;
}

/**
 * The one {@link KafkaClient} implementation, on kafkajs 2.2.4. Its clients filter aborted transactions
 * correctly under read_committed (see aborted-transaction-filter.ts); kafkajs clients created elsewhere in
 * the process are left as they are.
 */
export function createKafkajsClient(options: KafkajsClientOptions): KafkaClient {
  installAbortedTransactionFilter();
  const { logger, connection } = options;
  if (logger !== undefined && (!linearGroupingActive() || !fastProduceEncodingActive() || !fastRecordDecodingActive() || !quickConcurrentTransactionRetryActive())) {
    logger.warn(
      "kafkajs was loaded before kstreams-ts, so its producer groups records per partition in quadratic time and " +
        "encodes produce requests record by record, and its consumer decodes timestamps through its Long class " +
        "(together about a fifth of the CPU at high throughput), and under exactly-once the first send after " +
        "each commit can wait kafkajs' 300 ms retry: " +
        "import 'kstreams-ts' before anything that imports kafkajs",
    );
  }
  const logs: logCreator = logger === undefined ? () => () => {} : kafkajsLogCreator(logger);
  const kafkaOf = (socketFactory: ISocketFactory): Kafka =>
    new Kafka({
      ...connection,
      clientId: options.clientId,
      brokers: options.brokers,
      socketFactory,
      logLevel: logger === undefined ? logLevel.NOTHING : logLevel.WARN,
      logCreator: logs,
    });
  const mark = (clientMark?: ClientMark): ISocketFactory => markedSocketFactory(defaultSocketFactory(), clientMark);
  const socketFactory = mark();
  const kafka = kafkaOf(socketFactory);
  let warnedUnstable = false;
  const warnUnsupported = (message: string): void => {
    if (warnedUnstable) return;
    warnedUnstable = true;
    logger?.warn(message);
  };
  return {
    admin: (): Admin => {
      const admin = kafka.admin();
      const stableOffsets = new StableOffsetFetch({
        cluster: () =>
          createRawCluster({
            brokers: options.brokers,
            clientId: `${options.clientId}-offsets`,
            isolationLevel: ISOLATION.READ_COMMITTED,
            connection,
            socketFactory,
            logCreator: () => () => {},
          }),
        fallback: (request) => admin.fetchOffsets(request),
        warnUnsupported,
        warnStillUnstable: (message) => logger?.warn(message),
      });
      return new KafkajsAdmin(admin, stableOffsets);
    },
    producer: (): Producer =>
      kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: PartitionKeyPartitioner }),
    transactionalProducer: (transactionalId: string): TransactionalProducer =>
      kafka.producer({
        transactionalId,
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: PartitionKeyPartitioner,
      }),
    groupConsumer: (consumerOptions: GroupConsumerOptions, listener: GroupConsumerListener): GroupConsumer => {
      const { groupInstanceId } = consumerOptions;
      if (groupInstanceId === undefined) return new KafkajsGroupConsumer(kafka, consumerOptions, listener);
      // A static member's requests carry its instance id: its consumer gets a client of its own, so marked.
      installStaticMembership();
      return new KafkajsGroupConsumer(kafkaOf(mark({ groupInstanceId })), consumerOptions, listener);
    },
    partitionReader: (readCommitted: boolean): PartitionReader =>
      new KafkajsPartitionReader(
        createRawCluster({
          brokers: options.brokers,
          clientId: `${options.clientId}-restore`,
          isolationLevel: readCommitted ? ISOLATION.READ_COMMITTED : ISOLATION.READ_UNCOMMITTED,
          connection,
          socketFactory,
          logCreator: () => () => {},
        }),
        readCommitted,
      ),
  };
}
