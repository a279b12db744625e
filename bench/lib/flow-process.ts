/**
 * The other TypeScript contender: @kafkats/flow (pinned in package.json), with the sessionization topology
 * the other contenders run, from offset 0 of INPUT_TOPIC until its group's lag is zero. Prints one JSON line.
 *
 *   KAFKA_BROKERS, APP_ID, INPUT_TOPIC, OUTPUT_TOPIC, GUARANTEE (at_least_once | exactly_once_v2),
 *   COMMIT_INTERVAL_MS, FORMAT=avro|json
 *
 * Its fair configuration, read from its 0.12.0 sources and types:
 *  - windowed `aggregate()` ignores SessionWindows (it builds a fixed-window node), so the session aggregate
 *    is a `reduce()` over a per-view stats value; merging two stats is the same merge Kafka Streams'
 *    session merger does, so the results are the same sessions with the same count, bytes, pages and times;
 *  - it has no grace period (a record older than 24 gaps with no session to merge into is dropped), takes
 *    the Kafka record timestamp as event time (our generator stamps event time there), and does not
 *    repartition after `selectKey` (the compare data set is keyed by user, so one user is on one partition);
 *  - its default state store is in memory (the one its README shows); changelogs are on.
 * The output value is the Java peer's text format `count|bytes|first|last|pages`, so one decoder checks both.
 */
import { KafkaClient } from '@kafkats/client';
import { buffer, flow, SessionWindows, string, type Codec } from '@kafkats/flow';
import { Kafka, logLevel } from 'kafkajs';
import { consumerLag } from '../../src/index.js';
import { pageViewSerde, sessionKeySerde, type PageView } from '../../examples/sessionize/topology.js';
import { viewSerdeFor, type ViewFormat } from './bench-env.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};

interface Stats {
  count: number;
  bytes: number;
  firstSeen: number;
  lastSeen: number;
  pages: string[];
}

const applicationId = env('APP_ID');
const brokers = env('KAFKA_BROKERS').split(',');
const guarantee = env('GUARANTEE');
const viewSerde = viewSerdeFor((process.env.FORMAT ?? 'avro') as ViewFormat) ?? pageViewSerde;

// Malformed input records decode to null and are filtered out, as the other contenders skip them.
const views: Codec<PageView | null> = {
  encode: (v) => (v === null ? Buffer.alloc(0) : viewSerde.serialize(v)),
  decode: (b) => {
    try {
      return viewSerde.deserialize(b);
    } catch {
      return null;
    }
  },
};
const statsCodec: Codec<Stats> = {
  encode: (s) => Buffer.from(JSON.stringify(s)),
  decode: (b) => JSON.parse(b.toString()) as Stats,
};
const outputValue: Codec<Stats> = {
  encode: (s) => Buffer.from(`${s.count}|${s.bytes}|${s.firstSeen}|${s.lastSeen}|${s.pages.join(',')}`),
  decode: () => {
    throw new Error('not read back');
  },
};
const outputKey: Codec<{ key: string; window: { start: number; end: number } }> = {
  encode: (w) => sessionKeySerde.serialize(w),
  decode: (b) => sessionKeySerde.deserialize(b),
};
const mergePages = (a: string[], b: string[]): string[] => [...new Set([...a, ...b])].sort();

const commitIntervalMs = Number(process.env.COMMIT_INTERVAL_MS ?? (guarantee === 'exactly_once_v2' ? 100 : 1000));
const client = new KafkaClient({ brokers, clientId: `${applicationId}-flow`, logLevel: 'error' });
const app = flow({
  applicationId,
  client,
  processingGuarantee: guarantee === 'exactly_once_v2' ? 'exactly_once' : 'at_least_once',
  commitIntervalMs,
  // One partition in flight per input partition (as our tasks and Kafka Streams' tasks), and offsets
  // committed as often as ours under at-least-once: its defaults are 1 partition and 5 s.
  runEach: { partitionConcurrency: 6, autoCommitIntervalMs: commitIntervalMs },
});
app
  .stream(env('INPUT_TOPIC'), { key: buffer(), value: views, offsetReset: 'earliest' })
  .filter((_k, v) => v !== null && v.status < 500)
  .selectKey((v) => v!.userId)
  .mapValues((v): Stats => ({ count: 1, bytes: v!.bytes, firstSeen: v!.timestamp, lastSeen: v!.timestamp, pages: [v!.page] }))
  .groupByKey({ key: string(), value: statsCodec })
  .windowedBy(SessionWindows.withInactivityGap('30m'))
  .reduce(
    (a, b) => ({
      count: a.count + b.count,
      bytes: a.bytes + b.bytes,
      firstSeen: Math.min(a.firstSeen, b.firstSeen),
      lastSeen: Math.max(a.lastSeen, b.lastSeen),
      pages: mergePages(a.pages, b.pages),
    }),
    { value: statsCodec },
  )
  .toStream()
  .to(env('OUTPUT_TOPIC'), { key: outputKey, value: outputValue });

const admin = new Kafka({ clientId: 'bench-lag', brokers, logLevel: logLevel.NOTHING }).admin();
await admin.connect();
const began = Date.now();
await app.start();
for (;;) {
  const lag = await consumerLag(admin, applicationId, [env('INPUT_TOPIC')]).catch(() => []);
  const pending = lag.reduce((n, p) => n + p.lag, 0n);
  if (lag.length === 6 && pending === 0n && lag.every((p) => p.end === 0n || p.committed >= 0n)) break;
  if (app.state() === 'ERROR') throw new Error('@kafkats/flow went into ERROR');
  await new Promise((r) => setTimeout(r, 100));
}
const seconds = (Date.now() - began) / 1000;
await app.close();
await admin.disconnect();
process.stdout.write(`${JSON.stringify({ seconds, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
process.exit(0);
