/**
 * `npm run example`: runs the sessionization example end to end and prints what it found.
 * `npx tsx examples/run.ts sessionize-registry`: the same with a Schema Registry: the page views are written
 * by a Confluent-format producer (Confluent's own serializer), the topology reads and writes with registry
 * serdes, and the output is read back with Confluent's deserializer.
 *
 * Uses KAFKA_BROKERS when set; otherwise starts the project's local Kafka broker (Java 17 + Maven) and stops
 * it afterwards. Likewise SCHEMA_REGISTRY_URL (a Confluent-compatible API) or the local registry
 * (scripts/local-schema-registry.ts). EXAMPLE_EVENTS sets the number of generated page views (default 50 000).
 */
// First: kstreams-ts must load before kafkajs (it patches kafkajs' producer grouping).
import { KafkaStreams, consoleLogger, consumerLag, createTopics } from '../src/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { startLocalKafka, type LocalKafka } from '../scripts/local-kafka.js';
import { startLocalSchemaRegistry, type LocalSchemaRegistry } from '../scripts/local-schema-registry.js';
import { generatePageViews, oracleSessions } from './sessionize/generator.js';
import { finalSessions, produceEvents, readTopic } from './sessionize/kafka-io.js';
import { buildSessionizeTopology } from './sessionize/topology.js';

const example = process.argv[2] ?? 'sessionize';
if (example !== 'sessionize' && example !== 'sessionize-registry') {
  console.error(`unknown example '${example}'; available: sessionize, sessionize-registry`);
  process.exit(2);
}
const withRegistry = example === 'sessionize-registry';

const events = Number(process.env.EXAMPLE_EVENTS ?? 50_000);
const partitions = 6;
let local: LocalKafka | undefined;
let brokers = process.env.KAFKA_BROKERS?.split(',').map((b) => b.trim()).filter(Boolean) ?? [];
if (brokers.length === 0) {
  console.log('KAFKA_BROKERS is not set: starting the local Kafka broker (first run resolves it with Maven)...');
  local = await startLocalKafka({ log: (line) => console.log(`  ${line}`) });
  brokers = [local.bootstrap];
}
let localRegistry: LocalSchemaRegistry | undefined;
let registryUrl = process.env.SCHEMA_REGISTRY_URL ?? '';
if (withRegistry && registryUrl === '') {
  console.log('SCHEMA_REGISTRY_URL is not set: starting the local schema registry (first run builds it with Maven)...');
  localRegistry = await startLocalSchemaRegistry({ log: (line) => console.log(`  ${line}`) });
  registryUrl = localRegistry.url;
}
// Loaded only for the registry variant: @confluentinc/schemaregistry is an optional dependency.
const confluentIo = withRegistry ? await import('./sessionize/confluent-io.js') : undefined;
const confluent = confluentIo?.confluentClient(registryUrl);

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
  await localRegistry?.stop();
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
  if (confluentIo !== undefined && confluent !== undefined) {
    // Another team's service writes the topic: the schema is registered under its subject, and its
    // producer serializes with Confluent's serializer.
    const id = await confluentIo.registerPageViewSchema(confluent, input);
    console.log(`registered the PageView schema under ${input}-value at ${registryUrl} (id ${id}); writing with Confluent's AvroSerializer`);
    await confluentIo.produceConfluentEvents(producer, confluent, input, generated, 5000, partitions);
  } else {
    await produceEvents(producer, input, generated, 5000, undefined, partitions);
  }
  await producer.disconnect();

  const serdes = confluentIo?.registrySerdes(registryUrl);
  const topology = buildSessionizeTopology({ applicationId, inputTopic: input, outputTopic: output, graceMs: 5 * 60_000, ...serdes });
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

  const written = await readTopic(brokers, output, partitions, false);
  const statsOf = confluentIo !== undefined && confluent !== undefined ? await confluentIo.confluentStatsReader(confluent, output, written) : undefined;
  const { sessions, updates } = finalSessions(written, statsOf);
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
