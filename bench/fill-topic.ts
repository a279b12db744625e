/**
 * `tsx bench/fill-topic.ts <topic> <events> [seed] [users]`: a topic with the benchmark's data set, for profiling one
 * contender by hand (KAFKA_BROKERS must be set), e.g. with `node --cpu-prof --import tsx bench/lib/ours-process.ts`.
 */
import { Kafka, logLevel } from 'kafkajs';
import { createTopic, fillInputTopic } from './lib/bench-env.js';

const [topic, events, seed, users] = process.argv.slice(2);
const brokers = process.env.KAFKA_BROKERS?.split(',') ?? [];
if (topic === undefined || events === undefined || brokers.length === 0) {
  console.error('usage: KAFKA_BROKERS=host:port tsx bench/fill-topic.ts <topic> <events> [seed] [users]');
  process.exit(2);
}
const kafka = new Kafka({ clientId: 'bench-fill', brokers, logLevel: logLevel.NOTHING });
await fillInputTopic({ kafka, brokers }, topic, Number(events), { seed: Number(seed ?? 1), ...(users === undefined ? {} : { users: Number(users) }) });
await createTopic(brokers, `${topic}-out`);
console.log(`${topic}: ${events} events; ${topic}-out created`);
