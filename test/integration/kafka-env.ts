/** Shared helpers for integration tests: clients for the provided broker and collision-free names. */
// First: kstreams-ts must load before kafkajs for its producer patch (see kafkajs-preload.ts).
import '../../src/index.js';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Admin, type ITopicConfig } from 'kafkajs';
import { inject } from 'vitest';
import { KafkajsAdmin } from '../../src/client/kafkajs/kafkajs-admin.js';
import { consumerLag, type PartitionLag } from '../../src/runtime/consumer-lag.js';
import { createTopicsAndWait } from '../../src/runtime/internal-topic-manager.js';

let brokersOverride: string[] | undefined;

export function brokers(): string[] {
  return brokersOverride ?? inject('kafkaBrokers').split(',').map((b) => b.trim());
}

/** Points every helper of this file (and the harness) at another cluster, e.g. a broker a test restarts; undefined resets. */
export function useBrokers(list: string[] | undefined): void {
  brokersOverride = list === undefined ? undefined : [...list];
}

export function kafkaClient(clientId = 'test'): Kafka {
  return new Kafka({ clientId, brokers: brokers(), logLevel: logLevel.NOTHING });
}

/** A name no other test (or earlier run against the same cluster) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export async function withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafkaClient('test-admin').admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/**
 * A group's lag on topics, read through the runtime's admin (whose offset lookups ride out leadership still
 * moving after a topic was created: Kafka 4 brokers answer NOT_LEADER for a while where 3.9 did not).
 */
export function groupLag(groupId: string, topics: readonly string[]): Promise<PartitionLag[]> {
  return withAdmin((admin) => consumerLag(new KafkajsAdmin(admin), groupId, topics));
}

export async function createTopics(topics: ITopicConfig[]): Promise<void> {
  await withAdmin(async (admin) => {
    await createTopicsAndWait(new KafkajsAdmin(admin), topics);
  });
}
