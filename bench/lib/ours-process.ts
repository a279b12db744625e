/**
 * One contender run in its own process (so that its peak RSS is its own): the sessionization topology on
 * our runtime, from offset 0 of INPUT_TOPIC until the group's lag is zero. Prints one JSON line.
 *
 *   KAFKA_BROKERS, APP_ID, INPUT_TOPIC, OUTPUT_TOPIC, STATE_DIR, GUARANTEE,
 *   COMMIT_INTERVAL_MS, CACHE_MAX_BYTES, MAX_BUFFERED_RECORDS, UNTIL=running, FORMAT=avro|json, GRACE_MS (optional)
 *   UNTIL=signal runs until SIGTERM (the latency suite), printing {"event":"running"} once the app runs.
 *   MEM_TRACE=1 prints a memory sample to stderr every 100 ms; LIVE_TRACE=1 runs a full GC every 3 s and prints
 *   the live heap (with --expose-gc): together they tell a growing live set from a heap V8 lets grow.
 */
import { KafkaStreams, consumerLag, type ProcessingGuarantee } from '../../src/index.js';
import { Kafka, logLevel } from 'kafkajs';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { buildSessionizeTopology } from '../../examples/sessionize/topology.js';
import { viewSerdeFor, type ViewFormat } from './bench-env.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};

const applicationId = env('APP_ID');
const brokers = env('KAFKA_BROKERS').split(',');
const guarantee = env('GUARANTEE') as ProcessingGuarantee;
const topology = buildSessionizeTopology({
  applicationId,
  inputTopic: env('INPUT_TOPIC'),
  outputTopic: env('OUTPUT_TOPIC'),
  // Default: a grace longer than the data set, so the result is exact whatever the order (the replay
  // suite passes 5 min to count what is dropped as late).
  graceMs: process.env.GRACE_MS === undefined ? 30 * 24 * 3600_000 : Number(process.env.GRACE_MS),
  viewSerde: viewSerdeFor((process.env.FORMAT ?? 'avro') as ViewFormat),
});
const app = new KafkaStreams(topology, {
  applicationId,
  bootstrapServers: brokers,
  stateDir: env('STATE_DIR'),
  processingGuarantee: guarantee,
  // 1 s under at-least-once (not Kafka Streams' 30 s): the run is over when the group's committed lag is zero.
  commitIntervalMs: Number(process.env.COMMIT_INTERVAL_MS ?? (guarantee === 'exactly_once_v2' ? 100 : 1000)),
  cacheMaxBytes: process.env.CACHE_MAX_BYTES === undefined ? undefined : Number(process.env.CACHE_MAX_BYTES),
  maxBufferedRecords: process.env.MAX_BUFFERED_RECORDS === undefined ? undefined : Number(process.env.MAX_BUFFERED_RECORDS),
  logLevel: 'warn',
  deserializationExceptionHandler: 'logAndContinue',
});
let restored = 0;
let restoreMs = 0;
let restoreBegan = 0;
app.setGlobalStateRestoreListener({
  onRestoreStart: () => {
    if (restoreBegan === 0) restoreBegan = Date.now();
  },
  onRestoreEnd: (_p, count) => {
    restored += count;
    restoreMs = Date.now() - restoreBegan;
  },
});

const admin = new Kafka({ clientId: 'bench-lag', brokers, logLevel: logLevel.NOTHING }).admin();
await admin.connect();
const topics = [env('INPUT_TOPIC'), `${applicationId}-session-stats-repartition`];
// CPU time and GC pauses of this process: A/B figures that a busy shared machine disturbs less than events/s.
let gcMs = 0;
let gcCount = 0;
// Scavenges: each empties the young generation (16 MiB once grown), so their count tracks bytes allocated.
let scavenges = 0;
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcMs += entry.duration;
    gcCount++;
    if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
  }
});
gcObserver.observe({ entryTypes: ['gc'] });
const cpuBefore = process.cpuUsage();
const began = Date.now();
// CPU and time from the first RUNNING on (start-up not counted), as the Kafka Streams peer is measured.
let cpuAtRunning: NodeJS.CpuUsage | undefined;
let runningAt = 0;
app.on('stateChange', (next) => {
  if (next !== 'RUNNING' || cpuAtRunning !== undefined) return;
  cpuAtRunning = process.cpuUsage();
  runningAt = Date.now();
});
await app.start();
let peakHeap = 0;
let peakHeapTotal = 0;
let peakOffHeap = 0;
let peakArrayBuffers = 0;
let lastLiveSample = 0;
const mb = (bytes: number): string => (bytes / 1048576).toFixed(0);
// UNTIL=running: a restoration run, over as soon as every task restored and runs.
const untilRunning = process.env.UNTIL === 'running';
const untilSignal = process.env.UNTIL === 'signal';
let signalled = false;
let announced = false;
if (untilSignal) process.once('SIGTERM', () => (signalled = true));
for (;;) {
  const usage = process.memoryUsage();
  if (process.env.MEM_TRACE) {
    const { rss, heapTotal, heapUsed, arrayBuffers } = usage;
    process.stderr.write(`MEM ${((Date.now() - began) / 1000).toFixed(1)} s rss ${mb(rss)} heapTotal ${mb(heapTotal)} heapUsed ${mb(heapUsed)} ` +
      `arrayBuffers ${mb(arrayBuffers)} other ${mb(rss - heapTotal - arrayBuffers)}\n`);
  }
  if (process.env.LIVE_TRACE && Date.now() - lastLiveSample > 3000) {
    lastLiveSample = Date.now();
    (globalThis as { gc?: () => void }).gc?.();
    process.stderr.write(`LIVE ${((Date.now() - began) / 1000).toFixed(1)} s heap ${mb(process.memoryUsage().heapUsed)} MB after a full GC\n`);
  }
  peakHeap = Math.max(peakHeap, usage.heapUsed);
  peakHeapTotal = Math.max(peakHeapTotal, usage.heapTotal);
  // Off the JS heap: Buffers (fetched batches, produce requests) and what native code (LevelDB) allocates.
  peakOffHeap = Math.max(peakOffHeap, usage.rss - usage.heapTotal);
  peakArrayBuffers = Math.max(peakArrayBuffers, usage.arrayBuffers);
  if (untilSignal) {
    if (!announced && app.state === 'RUNNING') {
      announced = true;
      process.stdout.write('{"event":"running"}\n');
    }
    if (signalled) break;
    await new Promise((r) => setTimeout(r, 20));
    continue;
  }
  if (untilRunning) {
    if (app.state === 'RUNNING') break;
    await new Promise((r) => setTimeout(r, 20));
    continue;
  }
  const lag = await consumerLag(admin, applicationId, topics).catch(() => []);
  const pending = lag.reduce((n, p) => n + p.lag, 0n);
  if (lag.length === 2 * 6 && pending === 0n && lag.every((p) => p.end === 0n || p.committed >= 0n)) break;
  await new Promise((r) => setTimeout(r, 100));
}
const seconds = (Date.now() - began) / 1000;
const cpu = process.cpuUsage(cpuBefore);
const cpuRunning = cpuAtRunning === undefined ? undefined : process.cpuUsage(cpuAtRunning);
const runningSeconds = runningAt === 0 ? Number.NaN : (Date.now() - runningAt) / 1000;
gcObserver.disconnect();
// Live heap at the end (after a full collection when --expose-gc is given): tells growth from GC laziness.
(globalThis as { gc?: () => void }).gc?.();
const liveHeapMb = process.memoryUsage().heapUsed / 1024 / 1024;
const metrics = app.metrics();
await app.close();
await admin.disconnect();
process.stdout.write(
  `${JSON.stringify({
    seconds,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    peakHeapMb: peakHeap / 1024 / 1024,
    peakHeapTotalMb: peakHeapTotal / 1024 / 1024,
    peakOffHeapMb: peakOffHeap / 1024 / 1024,
    peakArrayBuffersMb: peakArrayBuffers / 1024 / 1024,
    liveHeapMb,
    restored,
    restoreSeconds: restoreMs / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    runningCpuSeconds: cpuRunning === undefined ? null : (cpuRunning.user + cpuRunning.system) / 1e6,
    runningSeconds,
    gcMs,
    gcCount,
    scavenges,
    metrics,
  })}\n`,
);
process.exit(0);
