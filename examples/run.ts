/**
 * `npm run example`: runs the sessionization example end to end and prints what it found.
 *
 * Uses KAFKA_BROKERS when set; otherwise starts the project's local Kafka broker (Java 17 + Maven) and stops
 * it afterwards. EXAMPLE_EVENTS sets the number of generated page views (default 50 000).
 */
// First: kstreams-ts must load before kafkajs (it patches kafkajs' producer grouping).
import { KafkaStreams, consoleLogger, consumerLag, createTopics } from '../src/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { startLocalKafka, type LocalKafka } from '../scripts/local-kafka.js';
import { generatePageViews, oracleSessions } from './sessionize/generator.js';
import { finalSessions, produceEvents, readTopic } from './sessionize/kafka-io.js';
import { buildSessionizeTopology } from './sessionize/topology.js';

const example = process.argv[2] ?? 'sessionize';
if (example !== 'sessionize') {
  console.error(`unknown example '${example}'; available: sessionize`);
  process.exit(2);
}

const events = Number(process.env.EXAMPLE_EVENTS ?? 50_000);
const partitions = 6;
let local: LocalKafka | undefined;
let brokers = process.env.KAFKA_BROKERS?.split(',').map((b) => b.trim()).filter(Boolean) ?? [];
if (brokers.length === 0) {
  console.log('KAFKA_BROKERS is not set: starting the local Kafka broker (first run resolves it with Maven)...');
  local = await startLocalKafka({ log: (line) => console.log(`  ${line}`) });
  brokers = [local.bootstrap];
}

const run = Date.now().toString(36);
const applicationId = `sessionize-example-${run}`;
const input = `page-views-${run}`;
const output = `session-stats-${run}`;
const deadLetters = `page-views-dead-letters-${run}`;
const stateDir = mkdtempSync(join(tmpdir(), 'kstreams-example-'));
const kafka = new Kafka({ clientId: 'sessionize-example', brokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin();
let app: KafkaStreams | undefined;

async function shutdown(code: number): Promise<never> {
  await app?.close({ timeoutMs: 30_000 });
  await admin.disconnect().catch(() => {});
  rmSync(stateDir, { recursive: true, force: true });
  await local?.stop();
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(130));
process.on('SIGTERM', () => void shutdown(143));

try {
  await admin.connect();
  // Waits until every partition has a leader (kafkajs' waitForLeaders gives up on a fresh topic's metadata lag).
  await createTopics(brokers, [
    { topic: input, numPartitions: partitions },
    { topic: output, numPartitions: partitions },
    { topic: deadLetters, numPartitions: 1 },
  ]);

  console.log(`generating ${events} page views (some out of order, some malformed) into ${input}...`);
  const generated = generatePageViews({ events, seed: 1 });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  // As web servers log them: one user's views are spread over all partitions, and the repartition by user
  // brings them together again. Catching up, the runtime keeps its tasks close in event time, so a grace of
  // 5 min loses nothing of a backlog that spans hours.
  await produceEvents(producer, input, generated, 5000, undefined, partitions);
  await producer.disconnect();

  const topology = buildSessionizeTopology({ applicationId, inputTopic: input, outputTopic: output, graceMs: 5 * 60_000 });
  console.log(topology.describe().toString());
  app = new KafkaStreams(topology, {
    applicationId,
    bootstrapServers: brokers,
    stateDir,
    commitIntervalMs: 1000,
    logger: consoleLogger('warn', applicationId),   // human-readable here; the default logger writes JSON (pino)
    // Malformed views go to a topic of their own, with headers naming where each came from.
    deserializationExceptionHandler: { deadLetterTopic: deadLetters },
  });
  const started = Date.now();
  await app.start();
  const topics = [input, `${applicationId}-session-stats-repartition`];
  for (;;) {
    const lag = await consumerLag(admin, applicationId, topics);
    const remaining = lag.reduce((n, p) => n + p.lag, 0n);
    if (remaining === 0n && lag.every((p) => p.committed >= 0n || p.end === 0n)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const seconds = (Date.now() - started) / 1000;
  const metrics = app.metrics();
  await app.close();

  const { sessions, updates } = finalSessions(await readTopic(brokers, output, partitions, false));
  const expected = oracleSessions(generated);
  const top = [...sessions.values()].sort((a, b) => b.end - b.start - (a.end - a.start)).slice(0, 5);
  console.log(`\nprocessed ${events} page views in ${seconds.toFixed(1)} s (${Math.round(events / seconds)} events/s end to end)`);
  console.log(`sent ${metrics.deadLetterRecordsTotal} malformed records to ${deadLetters}; dropped ${metrics.droppedLateTotal} late ones (grace 5 min)`);
  if (metrics.droppedLateTotal > 0) {
    const byTask = metrics.tasks.filter((t) => t.droppedLateTotal > 0).map((t) => `${t.taskId}: ${t.droppedLateTotal}`);
    console.log(`  late records per task: ${byTask.join(', ')} (each task also logged them as WARN lines)`);
  }
  console.log(`${sessions.size} sessions (the offline oracle finds ${expected.size}); ${updates} intermediate updates in ${output}`);
  console.log('longest sessions:');
  for (const s of top) {
    const minutes = ((s.end - s.start) / 60_000).toFixed(1);
    console.log(`  ${s.userId.padEnd(12)} ${new Date(s.start).toISOString()}  ${minutes.padStart(6)} min  ${String(s.count).padStart(3)} views  ${s.pages.length} pages  ${s.bytes} bytes`);
  }
  const agree = sessions.size === expected.size && [...expected.keys()].every((k) => sessions.has(k));
  console.log(agree ? '\nresults agree with the oracle.' : '\nresults DIFFER from the oracle.');
  await shutdown(agree ? 0 : 1);
} catch (err) {
  console.error(err);
  await shutdown(1);
}
