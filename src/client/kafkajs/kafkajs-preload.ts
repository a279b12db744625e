/**
 * A faster kafkajs 2.2.4 producer step, installed before kafkajs loads.
 *
 * kafkajs groups a batch's messages by partition with `[...current, message]` for every message, which is
 * quadratic in the records per partition: with the large batches this runtime sends (thousands of records
 * per partition and request) it cost 7% of all CPU in a profile of the sessionization benchmark. This
 * module puts a linear version with the same result into Node's module cache under kafkajs' own path, so
 * kafkajs' `require` finds it. It must run before kafkajs is first loaded (the package entry imports it
 * first); if kafkajs was loaded earlier, it changes nothing. It also installs the one-pass Produce request
 * encoder (produce-request-v3.ts), the number-based record decoder (record-decoder.ts) and the quicker
 * AddPartitionsToTxn retry (transaction-retry.ts) the same way.
 */
import { kafkajsModuleIs, replaceKafkajsModule } from './module-cache.js';
import { installFastProduceEncoding } from './produce-request-v3.js';
import { installFastRecordDecoding } from './record-decoder.js';
import { installQuickConcurrentTransactionRetry } from './transaction-retry.js';

type Partitioner = (args: { topic: string; partitionMetadata: unknown[]; message: unknown }) => number;

function groupMessagesPerPartition({
  topic,
  partitionMetadata,
  messages,
  partitioner,
}: {
  topic: string;
  partitionMetadata: unknown[];
  messages: unknown[];
  partitioner: Partitioner;
}): Record<number, unknown[]> {
  const result: Record<number, unknown[]> = {};
  if (partitionMetadata.length === 0) return result;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (result[partition] ??= []).push(message);
  }
  return result;
}

const MODULE = 'kafkajs/src/producer/groupMessagesPerPartition.js';
replaceKafkajsModule(MODULE, () => groupMessagesPerPartition);
installFastProduceEncoding();
installFastRecordDecoding();
installQuickConcurrentTransactionRetry();

/**
 * True when kafkajs' producer uses the linear grouping above. False when kafkajs was loaded before this
 * module (something imported kafkajs before kstreams-ts) or its layout changed: KafkaStreams warns at start.
 */
export function linearGroupingActive(): boolean {
  return kafkajsModuleIs(MODULE, groupMessagesPerPartition);
}
