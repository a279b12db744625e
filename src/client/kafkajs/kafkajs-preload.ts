/**
 * A faster kafkajs 2.2.4 producer step, installed before kafkajs loads.
 *
 * kafkajs groups a batch's messages by partition with `[...current, message]` for every message, which is
 * quadratic in the records per partition: with the large batches this runtime sends (thousands of records
 * per partition and request) it cost 7% of all CPU in a profile of the sessionization benchmark. This
 * module puts a linear version with the same result into Node's module cache under kafkajs' own path, so
 * kafkajs' `require` finds it. It must run before kafkajs is first loaded (the package entry imports it
 * first); if kafkajs was loaded earlier, it changes nothing. It also installs the one-pass Produce request
 * encoder (produce-request-v3.ts) the same way.
 */
import { createRequire, Module } from 'node:module';
import { installFastProduceEncoding } from './produce-request-v3.js';

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

const require = createRequire(import.meta.url);
const MODULE = 'kafkajs/src/producer/groupMessagesPerPartition.js';
try {
  const path = require.resolve(MODULE);
  const cache = require.cache as Record<string, unknown>;
  if (cache[path] === undefined) {
    const mod = new Module(path) as Module & { filename: string; loaded: boolean; exports: unknown };
    mod.filename = path;
    mod.loaded = true;
    mod.exports = groupMessagesPerPartition;
    cache[path] = mod;
  }
} catch {
  // Another kafkajs layout: keep its own implementation (linearGroupingActive() says so).
}
installFastProduceEncoding();

/**
 * True when kafkajs' producer uses the linear grouping above. False when kafkajs was loaded before this
 * module (something imported kafkajs before kstreams-ts) or its layout changed: KafkaStreams warns at start.
 */
export function linearGroupingActive(): boolean {
  try {
    return require(MODULE) === groupMessagesPerPartition;
  } catch {
    return false;
  }
}
