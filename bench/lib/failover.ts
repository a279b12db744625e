/**
 * Failover time with and without a standby replica: two instances of the sessionization worker share a
 * store of about `sessions` sessions; one is SIGKILLed; the clock runs from the kill until the output shows
 * a probe event sent to a task the killed instance owned (session timeout, rebalance, restoration and the
 * first processing included).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Partitioners, type Kafka } from 'kafkajs';
import { consumerLag } from '../../src/index.js';
import { ChangelogReader } from '../../src/runtime/changelog-reader.js';
import { createKafkajsClient } from '../../src/client/kafkajs/kafkajs-client.js';
import { partitionForKey } from '../../src/runtime/murmur2.js';
import { generatePageViews } from '../../examples/sessionize/generator.js';
import { produceEvents } from '../../examples/sessionize/kafka-io.js';
import { sessionKeySerde } from '../../examples/sessionize/topology.js';
import { Worker, lastTasks } from '../../examples/sessionize/worker-process.js';
import { PARTITIONS, createTopic } from './bench-env.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface FailoverFigures {
  standbys: number;
  failoverSeconds: number;
  restoredRecords: number;
  changelogRecords: number;
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * `kafkaStreams`: the classpath of the Kafka Streams peer (bench/lib/kafka-streams-peer.ts), run as the two
 * instances instead of our workers, with one stream thread each and the same session timeout (6 s).
 */
export async function failover(kafka: Kafka, brokers: string[], sessions: number, standbys: number, label: string, kafkaStreams?: string): Promise<FailoverFigures> {
  const app = `bench-failover-${label}-${Date.now().toString(36)}`;
  const input = `${app}-in`;
  const output = `${app}-out`;
  await createTopic(brokers, input);
  await createTopic(brokers, output);
  // Many users with one view each: about one session per event.
  const events = generatePageViews({ events: sessions, users: sessions * 3, seed: 77, malformedRate: 0 });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await produceEvents(producer, input, events);
  const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'kstreams-failover-')));
  const env = {
    KAFKA_BROKERS: brokers.join(','),
    APP_ID: app,
    INPUT_TOPIC: input,
    OUTPUT_TOPIC: output,
    GUARANTEE: 'at_least_once',
    GRACE_MS: String(30 * 24 * 3600_000),
    COMMIT_INTERVAL_MS: '1000',
    NUM_STANDBY_REPLICAS: String(standbys),
    LOG_LEVEL: 'warn',
  };
  const command: [string, string[]] | undefined = kafkaStreams === undefined ? undefined : ['java', ['-Xms256m', '-Xmx1g', '-cp', kafkaStreams, 'bench.SessionizeBench']];
  const peerEnv = kafkaStreams === undefined ? env : { ...env, THREADS: '1', SESSION_TIMEOUT_MS: '6000' };
  const workers = dirs.map((dir, i) => new Worker(peerEnv, dir, join(tmpdir(), `${app}-${i}.log`), command)) as [Worker, Worker];
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const w of workers) w.start();
    for (const w of workers) if (!(await w.waitFor('started', 60_000))) throw new Error('a worker did not start');
    const topics = [input, `${app}-session-stats-repartition`];
    await until(async () => {
      const lag = await consumerLag(admin, app, topics).catch(() => []);
      return lag.length === 2 * PARTITIONS && lag.every((p) => p.lag === 0n && p.committed >= 0n);
    }, 600_000, 'the store to fill');
    const [victim, survivor] = workers;
    if (standbys > 0) {
      await until(() => (lastTasks(survivor)?.standby.length ?? 0) > 0, 60_000, 'standby replicas');
      await sleep(3000); // a few catch-up rounds after the last commit
    }
    const moved = lastTasks(victim)!.active.filter((t) => t.startsWith('1_')).map((t) => Number(t.split('_')[1]));
    let probeUser = '';
    for (let i = 0; probeUser === ''; i++) if (moved.includes(partitionForKey(Buffer.from(`probe-${i}`), PARTITIONS))) probeUser = `probe-${i}`;
    const ends = await admin.fetchTopicOffsets(output);
    const changelogOffsets = await admin.fetchTopicOffsets(`${app}-session-stats-changelog`);
    const changelogRecords = changelogOffsets.reduce((n, p) => n + Number(p.high), 0);

    const restoredBefore = survivor.events.length;
    const killedAt = Date.now();
    await victim.kill();
    const last = events[events.length - 1]!.view;
    await produceEvents(producer, input, [{ view: { ...last, userId: probeUser, status: 200, timestamp: last.timestamp + 1000 }, malformed: false }]);

    // Watch the output (from where it ended before the kill) for the probe's session.
    const reader = new ChangelogReader(createKafkajsClient({ brokers, clientId: `${app}-watch`, connection: {} }).partitionReader(false));
    const from = new Map(ends.map((e) => [e.partition, BigInt(e.offset)]));
    let seenAt = 0;
    try {
      await until(async () => {
        for (const [partition, offset] of from) {
          const end = await reader.endOffset(output, partition);
          if (end <= offset) continue;
          await reader.read(output, partition, offset, end, 4 * 1024 * 1024, async (records) => {
            for (const [key] of records) if (seenAt === 0 && sessionKeySerde.deserialize(key).key === probeUser) seenAt = Date.now();
          });
          from.set(partition, end);
        }
        return seenAt > 0;
      }, 300_000, 'the probe in the output');
    } finally {
      await reader.close();
    }
    const restoredRecords = survivor.events
      .slice(restoredBefore)
      .filter((e) => e.event === 'restore-end')
      .reduce((n, e) => n + Number(e.count), 0);
    return { standbys, failoverSeconds: (seenAt - killedAt) / 1000, restoredRecords, changelogRecords };
  } finally {
    await Promise.all(workers.map((w) => w.kill()));
    await producer.disconnect();
    await admin.disconnect();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}
