/** The broker a benchmark runs on, its clients, and the data set every contender reads. */
import { dirname, join } from 'node:path';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { startLocalKafka, type LocalKafka } from '../../scripts/local-kafka.js';
import { generatePageViews, type GeneratedEvent } from '../../examples/sessionize/generator.js';
import { produceEvents } from '../../examples/sessionize/kafka-io.js';
import type { PageView } from '../../examples/sessionize/topology.js';
import { createTopics, Serdes, type Serde } from '../../src/index.js';

export const PARTITIONS = 6;

export interface BenchBroker {
  readonly brokers: string[];
  readonly kafka: Kafka;
  /** The broker's log folder (one folder per topic partition) when it is the bench's own local broker. */
  readonly logDir?: string;
  stop(): Promise<void>;
}

/** KAFKA_BROKERS when set, else the project's local broker (started here and stopped by `stop`). */
export async function benchBroker(): Promise<BenchBroker> {
  let local: LocalKafka | undefined;
  let brokers = process.env.KAFKA_BROKERS?.split(',').map((b) => b.trim()).filter(Boolean) ?? [];
  if (brokers.length === 0) {
    local = await startLocalKafka({ log: (line) => console.log(`  ${line}`) });
    brokers = [local.bootstrap];
  }
  const kafka = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.NOTHING });
  // scripts/local-kafka.ts keeps its server.log beside the `data` folder it gives the broker as log.dirs.
  const logDir = local === undefined ? undefined : join(dirname(local.logFile), 'data');
  return { brokers, kafka, ...(logDir === undefined ? {} : { logDir }), stop: async () => local?.stop() };
}

/** The value format of the benchmark's input: Avro (default) or JSON (`BENCH_FORMAT=json`). */
export type ViewFormat = 'avro' | 'json';

export function viewSerdeFor(format: ViewFormat): Serde<PageView> | undefined {
  return format === 'json' ? Serdes.Json<PageView>() : undefined;
}

export interface FillOptions {
  /** Deterministic data for a seed; default 1. */
  readonly seed?: number;
  readonly format?: ViewFormat;
  /**
   * Written as web servers log them (one user's views on every partition, see produceEvents), and without
   * malformed records, so that every record a contender drops was dropped as late.
   */
  readonly byServer?: boolean;
  /**
   * How many users report views; default one per 20 events, so that more events mean more users over the
   * same hours of event time. A fixed number makes more events span more hours instead, as a backlog after
   * a longer downtime does.
   */
  readonly users?: number;
}

/** The benchmark's user population for a data set of `events`: one user per 20 events. */
export function usersFor(events: number): number {
  return Math.max(20, Math.round(events / 20));
}

/** A fresh input topic holding `events` page views, produced in chunks. */
export async function fillInputTopic(broker: Pick<BenchBroker, 'kafka' | 'brokers'>, topic: string, events: number, options: FillOptions = {}): Promise<GeneratedEvent[]> {
  const { seed = 1, format = 'avro', byServer = false, users = usersFor(events) } = options;
  await createTopic(broker.brokers, topic);
  const producer = broker.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    const generated = generatePageViews({ events, seed, users, ...(byServer ? { malformedRate: 0 } : {}) });
    await produceEvents(producer, topic, generated, 5000, viewSerdeFor(format), byServer ? PARTITIONS : undefined);
    return generated;
  } finally {
    await producer.disconnect();
  }
}

export async function createTopic(brokers: readonly string[], topic: string, partitions = PARTITIONS): Promise<void> {
  await createTopics(brokers, [{ topic, numPartitions: partitions }]);
}
