/**
 * The ceiling contender: a plain kafkajs consumer that forwards every record of INPUT_TOPIC to OUTPUT_TOPIC
 * (no state, no deserialization), committing once a second: the most any kafkajs-based processor can do on
 * this broker and machine. Stops when the group's lag is zero; prints one JSON line.
 */
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { consumerLag } from '../../src/index.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};

const kafka = new Kafka({ clientId: 'bench-ceiling', brokers: env('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING });
const groupId = env('APP_ID');
const input = env('INPUT_TOPIC');
const output = env('OUTPUT_TOPIC');
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
const consumer = kafka.consumer({ groupId, maxBytesPerPartition: 1024 * 1024, maxBytes: 16 * 1024 * 1024, maxWaitTimeInMs: 100 });
const admin = kafka.admin();
await Promise.all([producer.connect(), consumer.connect(), admin.connect()]);
await consumer.subscribe({ topics: [input], fromBeginning: true });
const began = Date.now();
await consumer.run({
  autoCommitInterval: 1000,
  partitionsConsumedConcurrently: 6,
  eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
    const messages = batch.messages.map((m) => ({ key: m.key, value: m.value, timestamp: m.timestamp }));
    // A fetched batch can exceed the broker's record-batch limit once re-produced: send it in parts.
    for (let i = 0; i < messages.length; i += 2000) await producer.send({ topic: output, messages: messages.slice(i, i + 2000) });
    resolveOffset(batch.lastOffset());
    await heartbeat();
  },
});
for (;;) {
  const lag = await consumerLag(admin, groupId, [input]).catch(() => []);
  if (lag.length > 0 && lag.every((p) => p.lag === 0n && p.committed >= 0n)) break;
  await new Promise((r) => setTimeout(r, 100));
}
const seconds = (Date.now() - began) / 1000;
await consumer.disconnect();
await producer.disconnect();
await admin.disconnect();
process.stdout.write(`${JSON.stringify({ seconds, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
process.exit(0);
