/**
 * Mistakes a new user makes stop `start()` at once with a message that names the culprit and says what to
 * check: a missing output topic, an address where nothing listens, a port that is not Kafka, a KRaft
 * controller's port. And the
 * development setting that creates missing topics instead.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { Consumed, KafkaStreams, Produced, Serdes, StreamsBuilder, StreamsError, type Logger, type StreamsConfig } from '../../src/index.js';
// After kstreams-ts, which must load before kafkajs (the script imports it).
import { freePort } from '../../scripts/local-kafka.js';
import { brokers, createTopics, uniqueName, withAdmin } from './kafka-env.js';

const stateDir = mkdtempSync(join(tmpdir(), 'kstreams-fail-fast-'));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

let app: KafkaStreams | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** Every line the instance (and kafkajs through it) logs at warn or above. */
function capturingLogger(lines: string[]): Logger {
  const keep = (message: string): void => void lines.push(message);
  return { debug() {}, info() {}, warn: keep, error: keep };
}

function pipeApp(source: string, sink: string, config: Partial<StreamsConfig> = {}): KafkaStreams {
  const applicationId = uniqueName('fail-fast');
  const builder = new StreamsBuilder();
  builder.stream(source, Consumed.with(Serdes.String(), Serdes.String())).mapValues((v) => v.toUpperCase()).to(sink, Produced.with(Serdes.String(), Serdes.String()));
  app = new KafkaStreams(builder.build({ applicationId }), { applicationId, bootstrapServers: brokers(), stateDir, logLevel: 'silent', ...config });
  return app;
}

/** Rejects with the error start() throws, and how long it took. */
async function failedStart(streams: KafkaStreams): Promise<{ error: Error; ms: number }> {
  const began = Date.now();
  const error = await streams.start().then(
    () => new Error('start() succeeded'),
    (err: unknown) => err as Error,
  );
  return { error, ms: Date.now() - began };
}

const CONNECTION_TIMEOUT_MS = 3000;

describe('start() fails fast', () => {
  it('names a missing dead-letter topic, and a missing late-records topic beside it', async () => {
    const source = uniqueName('ff-in');
    const sink = uniqueName('ff-out');
    const deadLetters = uniqueName('ff-dlq');
    await createTopics([{ topic: source, numPartitions: 2 }, { topic: sink, numPartitions: 2 }]);
    const { error } = await failedStart(pipeApp(source, sink, { deserializationExceptionHandler: { deadLetterTopic: deadLetters } }));
    expect(error.message).toContain(`The dead-letter topic(s) ${deadLetters} do not exist: create them`);
    await app!.close();
    // With the dead-letter topic there, the late-records topic is checked against the same listing.
    await createTopics([{ topic: deadLetters, numPartitions: 1 }]);
    const late = uniqueName('ff-late');
    const second = await failedStart(pipeApp(source, sink, { deserializationExceptionHandler: { deadLetterTopic: deadLetters }, lateRecords: { topic: late } }));
    expect(second.error.message).toContain(`The late-records topic ${late} (lateRecords.topic) does not exist: create it`);
  });

  it('names a missing sink (output) topic', async () => {
    const source = uniqueName('ff-in');
    const sink = uniqueName('ff-out');
    await createTopics([{ topic: source, numPartitions: 2 }]);
    const { error, ms } = await failedStart(pipeApp(source, sink));
    expect(error).toBeInstanceOf(StreamsError);
    expect(error.message).toContain(`sink (output) topic(s) ${sink} do not exist`);
    expect(error.message).toContain('kstreams topics create');
    expect(ms).toBeLessThan(CONNECTION_TIMEOUT_MS + 10_000);
    expect(app!.state).toBe('ERROR');
  });

  it('names an address where nothing listens, without kafkajs retry logs', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const lines: string[] = [];
    const streams = pipeApp('in', 'out', { bootstrapServers: [address], logger: capturingLogger(lines) });
    const { error, ms } = await failedStart(streams);
    expect(error).toBeInstanceOf(StreamsError);
    expect(error.message).toContain(address);
    expect(error.message).toContain('nothing listens there');
    expect(error.message).toContain('Check bootstrapServers');
    expect(ms).toBeLessThan(CONNECTION_TIMEOUT_MS + 5000);
    expect(lines.filter((l) => l.startsWith('kafkajs'))).toEqual([]);
  });

  it('says that a port answering HTTP is not a Kafka broker', async () => {
    const http: Server = createServer((_req, res) => res.end('hello'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    try {
      const address = `127.0.0.1:${(http.address() as AddressInfo).port}`;
      const lines: string[] = [];
      const { error, ms } = await failedStart(pipeApp('in', 'out', { bootstrapServers: [address], logger: capturingLogger(lines) }));
      expect(error).toBeInstanceOf(StreamsError);
      expect(error.message).toContain(address);
      expect(error.message).toMatch(/not as a Kafka broker: it looks like an HTTP server/);
      expect(ms).toBeLessThan(2 * CONNECTION_TIMEOUT_MS + 5000);
      expect(lines.filter((l) => l.startsWith('kafkajs'))).toEqual([]);
    } finally {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  });

  // The local broker's controller listener; another cluster's is not known.
  it.skipIf(inject('kafkaController') === '')('says that a KRaft controller port answers Kafka but is no broker listener', async () => {
    const address = inject('kafkaController');
    const lines: string[] = [];
    const { error, ms } = await failedStart(pipeApp('in', 'out', { bootstrapServers: [address], logger: capturingLogger(lines) }));
    expect(error).toBeInstanceOf(StreamsError);
    expect(error.message).toContain(
      `${address}: it answers Kafka's protocol but not as a broker: a KRaft controller listener? Use the broker's listener (advertised.listeners)`,
    );
    expect(error.message).not.toContain('KafkaJS');
    expect(ms).toBeLessThan(CONNECTION_TIMEOUT_MS + 5000);
    expect(lines.filter((l) => l.startsWith('kafkajs'))).toEqual([]);
  });

  it('says that a silent port is not answering, within the connection timeout', async () => {
    const accepted: Socket[] = [];
    const silent = createTcpServer((socket) => void accepted.push(socket)); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const address = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const { error, ms } = await failedStart(pipeApp('in', 'out', { bootstrapServers: [address], kafka: { connectionTimeout: 1000 } }));
      expect(error.message).toContain(`${address}: connected, but no Kafka answer within 1000 ms`);
      expect(ms).toBeLessThan(2 * 1000 + 5000);
    } finally {
      for (const socket of accepted) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('createTopics (development)', () => {
  it('creates the missing source and sink topics with the partitions asked for, then runs', async () => {
    const source = uniqueName('ff-created-in');
    const sink = uniqueName('ff-created-out');
    const streams = pipeApp(source, sink, { createTopics: { partitions: 3 } });
    await streams.start();
    const { topics } = await withAdmin((admin) => admin.fetchTopicMetadata({ topics: [source, sink] }));
    expect(topics.map((t) => [t.name, t.partitions.length]).sort()).toEqual([[source, 3], [sink, 3]].sort());
  });
});
