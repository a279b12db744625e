/**
 * Gives every integration test a real Kafka broker, in this order of preference:
 *   1. KAFKA_BROKERS, an existing cluster (comma-separated host:port list);
 *   2. a testcontainers broker, when a Docker engine answers;
 *   3. the local JVM broker from scripts/local-kafka.ts (Java 17 + Maven, no Docker).
 * The tests are the same in all three cases; they read the address with `inject('kafkaBrokers')`.
 */
import type { TestProject } from 'vitest/node';
import { startLocalKafka } from '../../scripts/local-kafka.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    /** The local broker's KRaft controller listener; '' with another cluster. */
    kafkaController: string;
  }
}

/** The Confluent image matching the Apache Kafka version we test locally (CP 7.9 = AK 3.9). */
const CONTAINER_IMAGE = process.env.KAFKA_IMAGE ?? 'confluentinc/cp-kafka:7.9.1';

async function dockerAnswers(): Promise<boolean> {
  if (process.env.KSTREAMS_NO_DOCKER === '1') return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (line: string): void => console.error(`[kafka] ${line}`);
  const existing = process.env.KAFKA_BROKERS;
  if (existing !== undefined && existing.trim() !== '') {
    log(`using KAFKA_BROKERS=${existing}`);
    project.provide('kafkaBrokers', existing);
    project.provide('kafkaController', '');
    return async () => {};
  }
  if (await dockerAnswers()) {
    const { KafkaContainer } = await import('@testcontainers/kafka');
    log(`starting ${CONTAINER_IMAGE} with testcontainers`);
    const container = await new KafkaContainer(CONTAINER_IMAGE)
      .withKraft()
      .withEnvironment({
        KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      })
      .start();
    const brokers = `${container.getHost()}:${container.getMappedPort(9093)}`;
    log(`container broker at ${brokers}`);
    project.provide('kafkaBrokers', brokers);
    project.provide('kafkaController', '');
    return async () => {
      await container.stop();
    };
  }
  const kafka = await startLocalKafka({ log });
  project.provide('kafkaBrokers', kafka.bootstrap);
  project.provide('kafkaController', kafka.controllerBootstrap);
  return async () => {
    await kafka.stop();
    log('broker stopped');
  };
}
