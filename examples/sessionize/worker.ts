/**
 * One instance of the sessionization app as its own process, configured by environment variables, for
 * running several instances side by side (and killing them: see test/integration/crash.test.ts).
 *
 *   KAFKA_BROKERS, APP_ID, INPUT_TOPIC, OUTPUT_TOPIC, STATE_DIR      required
 *   GUARANTEE (at_least_once | exactly_once_v2), GRACE_MS, COMMIT_INTERVAL_MS, RESTORE_BATCH_RECORDS, LOG_LEVEL, CACHE_MAX_BYTES,
 *   NUM_STANDBY_REPLICAS, GROUP_INSTANCE_ID (static membership), SESSION_TIMEOUT_MS (default 6000),
 *   QUERY_PORT (serve queries and the status page on 127.0.0.1:<port>, its applicationServer)
 *   EVENT_TIME (the event-time mode's settings as JSON, e.g. '{"progressMarkers":true}')
 *
 * Prints one JSON line per event on stdout (`{"event":"restore-start",...}`); SIGTERM closes it cleanly.
 */
import { KafkaStreams, type EventTimeConfig, type ProcessingGuarantee } from '../../src/index.js';
import { buildSessionizeTopology } from './topology.js';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    console.error(`${name} is required`);
    process.exit(2);
  }
  return value;
}

const emit = (event: string, fields: Record<string, unknown> = {}): void => {
  process.stdout.write(`${JSON.stringify({ event, pid: process.pid, ...fields })}\n`);
};

const applicationId = required('APP_ID');
const topology = buildSessionizeTopology({
  applicationId,
  inputTopic: required('INPUT_TOPIC'),
  outputTopic: required('OUTPUT_TOPIC'),
  graceMs: process.env.GRACE_MS === undefined ? undefined : Number(process.env.GRACE_MS),
});
const app = new KafkaStreams(topology, {
  applicationId,
  bootstrapServers: required('KAFKA_BROKERS').split(','),
  stateDir: required('STATE_DIR'),
  processingGuarantee: (process.env.GUARANTEE ?? 'at_least_once') as ProcessingGuarantee,
  commitIntervalMs: process.env.COMMIT_INTERVAL_MS === undefined ? undefined : Number(process.env.COMMIT_INTERVAL_MS),
  restoreBatchRecords: process.env.RESTORE_BATCH_RECORDS === undefined ? undefined : Number(process.env.RESTORE_BATCH_RECORDS),
  cacheMaxBytes: process.env.CACHE_MAX_BYTES === undefined ? undefined : Number(process.env.CACHE_MAX_BYTES),
  numStandbyReplicas: process.env.NUM_STANDBY_REPLICAS === undefined ? undefined : Number(process.env.NUM_STANDBY_REPLICAS),
  sessionTimeoutMs: process.env.SESSION_TIMEOUT_MS === undefined ? 6000 : Number(process.env.SESSION_TIMEOUT_MS),
  groupInstanceId: process.env.GROUP_INSTANCE_ID,
  heartbeatIntervalMs: 1000,
  logLevel: (process.env.LOG_LEVEL ?? 'warn') as 'debug' | 'info' | 'warn' | 'error',
  deserializationExceptionHandler: 'logAndContinue',
  ...(process.env.QUERY_PORT === undefined ? {} : { applicationServer: `127.0.0.1:${process.env.QUERY_PORT}`, queryServer: true }),
  eventTime: process.env.EVENT_TIME === undefined ? undefined : (JSON.parse(process.env.EVENT_TIME) as EventTimeConfig),
});
app.on('stateChange', (next) => emit('state', { state: next }));
app.setGlobalStateRestoreListener({
  onRestoreStart: (p, from, to) => emit('restore-start', { task: p.taskId, store: p.storeName, from: String(from), to: String(to) }),
  onRestoreEnd: (p, count) => emit('restore-end', { task: p.taskId, store: p.storeName, count }),
});
process.on('SIGTERM', () => {
  void app.close().then(() => {
    emit('closed', { metrics: app.metrics() });
    process.exit(0);
  });
});
await app.start();
emit('started');
// What the instance runs, once a second: for tests and for a human watching.
setInterval(() => {
  const m = app.metrics();
  emit('tasks', { state: m.state, active: m.activeTasks, standby: m.standbyTasks, standbyRecords: m.standbyRecordsTotal, droppedLate: m.droppedLateTotal, upstreamWaitsExpired: m.tasks.reduce((n, t) => n + t.upstreamWaitsExpiredTotal, 0) });
}, 1000).unref();
