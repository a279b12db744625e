/**
 * `npm run broker`: runs the local Kafka broker in the foreground until Ctrl-C, printing its bootstrap address.
 * Useful to poke at a broker by hand or to share one broker across several test runs (KAFKA_BROKERS=...).
 */
import { startLocalKafka } from './local-kafka.js';

const kafka = await startLocalKafka({ log: (line) => console.error(line) });
console.log(kafka.bootstrap);
console.error(`export KAFKA_BROKERS=${kafka.bootstrap}   # Ctrl-C stops the broker; log: ${kafka.logFile}`);
const shutdown = (): void => {
  void kafka.stop().then(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
setInterval(() => {}, 1 << 30);
