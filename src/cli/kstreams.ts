#!/usr/bin/env node
/**
 * `kstreams`: the operator's command line. `kstreams <command> --help` explains each command.
 *
 *   describe <module> [--mermaid]      print a topology's description
 *   reset --application-id ... (--to-earliest | --to-latest | --to-offset N | --to-datetime ISO | --by-duration PT1H)
 *   lag --application-id ...           committed offset, end offset and lag per partition
 *   diff <old> <new>                   what an upgrade keeps, renames or drops
 *   topics create --topology <module>  the source, sink and dead-letter topics an application needs (--execute creates them)
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createKafkajsClient } from '../client/kafkajs/kafkajs-client.js';
import { asError } from '../errors/as-error.js';
import { Topology } from '../processor/topology.js';
import { CLI_BROKER_CHECK, checkBootstrapServers } from '../client/broker-probe.js';
import { consumerLag } from '../runtime/consumer-lag.js';
import { formatResetReport, resetApplication, type ResetTarget } from '../tools/application-reset.js';
import { diffTopologies, formatTopologyDiff } from '../tools/topology-diff.js';
import { deadLetterTopicsOf, formatTopicPlan, lateRecordsTopicsOf, setUpTopics, type DeadLetterSettings } from '../tools/topic-setup.js';
import { parseIsoDuration } from './iso-duration.js';

const HELP: Record<string, string> = {
  main: `kstreams <command> [options]

Commands:
  describe <module>   print the topology a module exports (text, or --mermaid)
  reset               rewind an application: move input offsets, delete internal topics, wipe local state
  lag                 committed offset, end offset and lag of an application per partition
  diff <old> <new>    which stores and internal topics an upgrade keeps, renames or drops
  topics create       the source, sink, dead-letter and late-records topics an application needs: what is missing (--execute creates it)

Modules may be .js, or .ts (loaded with tsx, which must be installed: npm install --save-dev tsx).
Run 'kstreams <command> --help' for a command's options; 'kstreams --version' prints the version.`,
  topics: `kstreams topics create --topology <module> [--bootstrap-servers HOST:PORT[,...]]
              [--partitions N] [--replication-factor N] [--config NAME=VALUE ...]
              [--dead-letter-topic NAME ...] [--late-records-topic NAME] [--execute]

Lists the topics the topology reads (sources) and writes by name (sinks), and the dead-letter topics of its
configuration: those the module's 'config' export (the StreamsConfig, or a function returning it) names
in deserializationExceptionHandler / processingExceptionHandler, and each --dead-letter-topic; and its
late-records topic (lateRecords.topic in 'config', or --late-records-topic). With a broker
(--bootstrap-servers or KAFKA_BROKERS) it says which of them are missing. A dry run by default: --execute creates
the missing ones, each with --partitions (default: the broker's num.partitions), --replication-factor
(default: the broker's) and the --config entries, and waits until every partition has a leader.
Internal topics (changelogs, repartition topics) are not listed here: the application creates them.`,
  describe: `kstreams describe <module> [--mermaid]

Loads <module> (a .js file, or .ts when run through tsx) and prints the topology it exports: its default
export or an export named 'topology', either a Topology or a function that returns one (called without
arguments).`,
  reset: `kstreams reset --application-id ID --bootstrap-servers HOST:PORT[,...] --input-topics A[,B...]
              (--to-earliest | --to-latest | --to-offset N | --to-datetime ISO-8601 | --by-duration PnDTnHnMnS)
              [--state-dir DIR] [--dry-run]

Rewinds an application after a bad deploy, as Kafka's kafka-streams-application-reset does:
  - refuses while any instance of the application is running (the consumer group has members);
  - moves the group's committed offsets of the input topics to the chosen position
    (--to-datetime: the first record at or after that time; --by-duration: that long before now);
  - deletes the application's internal topics (<id>-...-repartition, <id>-...-changelog);
  - with --state-dir, deletes this machine's local state <state-dir>/<id> (run it on every machine, or
    start instances on empty state folders).
--dry-run prints what would change and changes nothing, also while instances run (saying that the reset
would refuse then). Restart the application afterwards.`,
  diff: `kstreams diff <old-module> <new-module>

Compares the topologies two modules export (as 'describe' loads them): which state stores and internal
topics the new version keeps, adds, drops or (with generated names) likely renames. Exit code 0 when all
state is kept, 3 when the upgrade would lose state.`,
  lag: `kstreams lag --application-id ID --bootstrap-servers HOST:PORT[,...] [--topics A,B]

Prints, for each partition the application's group has committed (or for --topics), the committed offset,
the end offset and the lag.`,
};

class UsageError extends Error {}

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/** The brokers, checked to answer as Kafka: a wrong address fails at once, naming it, not after kafkajs' retries. */
async function brokersOf(value: string | undefined): Promise<string[]> {
  const brokers = list(value ?? process.env.KAFKA_BROKERS);
  if (brokers.length === 0) throw new UsageError('--bootstrap-servers is required (or set KAFKA_BROKERS)');
  await checkBootstrapServers(brokers, { timeoutMs: 3000, check: CLI_BROKER_CHECK });
  return brokers;
}

/** Lets Node import .ts files through tsx, unless a TypeScript loader already runs this file. */
async function registerTypeScript(file: string): Promise<void> {
  if (!/\.[cm]?ts$/.test(file) || import.meta.url.endsWith('.ts')) return;
  try {
    const { register } = await import('tsx/esm/api');
    register();
  } catch (err) {
    throw new UsageError(
      `loading ${file} needs tsx (${asError(err).message.split('\n')[0]}): npm install --save-dev tsx, or pass the compiled .js file`,
    );
  }
}

async function loadModule(file: string): Promise<Record<string, unknown>> {
  await registerTypeScript(file);
  return (await import(pathToFileURL(resolve(file)).href)) as Record<string, unknown>;
}

/** The exception handlers of the configuration a topology module exports as 'config' (none: {}). */
async function loadDeadLetterSettings(file: string): Promise<DeadLetterSettings> {
  let config = (await loadModule(file)).config;
  if (typeof config === 'function') config = (config as () => unknown)();
  if (config === undefined) return {};
  if (typeof config !== 'object' || config === null) throw new UsageError(`${file} exports a 'config' that is no object: export the StreamsConfig (or a function returning it)`);
  return config;
}

async function loadTopology(file: string): Promise<Topology> {
  const module = await loadModule(file);
  let exported = module.default ?? module.topology;
  if (typeof exported === 'function') exported = (exported as () => unknown)();
  // A module that imports another copy of kstreams-ts (sources under tsx, a second install) has its own class.
  const looksLikeTopology = (v: unknown): v is Topology =>
    typeof v === 'object' && v !== null && Array.isArray((v as Topology).subtopologies) && Array.isArray((v as Topology).internalTopics) && typeof (v as Topology).describe === 'function';
  if (!(exported instanceof Topology) && !looksLikeTopology(exported)) {
    throw new UsageError(`${file} exports no topology: export a Topology (or a function returning one) as default or as 'topology'`);
  }
  return exported;
}

async function describe(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { mermaid: { type: 'boolean' }, help: { type: 'boolean' } } });
  if (values.help === true) return void console.log(HELP.describe);
  const file = positionals[0];
  if (file === undefined) throw new UsageError('describe needs a module path');
  const topology = await loadTopology(file);
  console.log(values.mermaid === true ? topology.describe().toMermaid() : topology.describe().toString());
}

async function diff(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { help: { type: 'boolean' } } });
  if (values.help === true) return void console.log(HELP.diff);
  const [previous, next] = positionals;
  if (previous === undefined || next === undefined) throw new UsageError('diff needs two module paths: the running version and the new one');
  const result = diffTopologies(await loadTopology(previous), await loadTopology(next));
  console.log(formatTopologyDiff(result));
  if (!result.keepsAllState) process.exitCode = 3;
}

async function topics(args: string[]): Promise<void> {
  const [action, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      topology: { type: 'string' },
      'bootstrap-servers': { type: 'string' },
      partitions: { type: 'string' },
      'replication-factor': { type: 'string' },
      config: { type: 'string', multiple: true },
      'dead-letter-topic': { type: 'string', multiple: true },
      'late-records-topic': { type: 'string', multiple: true },
      execute: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help === true || action === '--help') return void console.log(HELP.topics);
  if (action !== 'create') throw new UsageError(`unknown topics action '${action ?? ''}' (known: create)`);
  if (values.topology === undefined) throw new UsageError('--topology <module> is required');
  const count = (name: string, value: string | undefined): number => {
    if (value === undefined) return -1;
    if (!/^[1-9]\d*$/.test(value)) throw new UsageError(`--${name} needs a positive integer, got '${value}'`);
    return Number(value);
  };
  const configs: Record<string, string> = {};
  for (const entry of values.config ?? []) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new UsageError(`--config needs NAME=VALUE, got '${entry}'`);
    configs[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  const settings = { partitions: count('partitions', values.partitions), replicationFactor: count('replication-factor', values['replication-factor']), configs };
  const servers = list(values['bootstrap-servers'] ?? process.env.KAFKA_BROKERS);
  const topology = await loadTopology(values.topology);
  const configured = await loadDeadLetterSettings(values.topology);
  const deadLetterTopics = [...deadLetterTopicsOf(configured), ...(values['dead-letter-topic'] ?? [])];
  const lateRecordsTopics = [...lateRecordsTopicsOf(configured), ...(values['late-records-topic'] ?? [])];
  const plan = await setUpTopics(topology, settings, { bootstrapServers: servers, execute: values.execute === true, deadLetterTopics, lateRecordsTopics });
  console.log(formatTopicPlan(plan));
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function resetTarget(values: Record<string, string | boolean | undefined>): ResetTarget {
  const chosen: ResetTarget[] = [];
  if (values['to-earliest'] === true) chosen.push({ kind: 'earliest' });
  if (values['to-latest'] === true) chosen.push({ kind: 'latest' });
  if (typeof values['to-offset'] === 'string') {
    if (!/^\d+$/.test(values['to-offset'])) throw new UsageError(`--to-offset needs a non-negative integer, got '${values['to-offset']}'`);
    chosen.push({ kind: 'offset', offset: BigInt(values['to-offset']) });
  }
  if (typeof values['to-datetime'] === 'string') {
    const ms = Date.parse(values['to-datetime']);
    if (Number.isNaN(ms)) throw new UsageError(`--to-datetime needs an ISO-8601 time such as 2026-11-24T08:00:00Z, got '${values['to-datetime']}'`);
    chosen.push({ kind: 'datetime', timestampMs: ms });
  }
  if (typeof values['by-duration'] === 'string') chosen.push({ kind: 'duration', durationMs: parseIsoDuration(values['by-duration']) });
  if (chosen.length !== 1) throw new UsageError('choose exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime, --by-duration');
  return chosen[0]!;
}

async function reset(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      'application-id': { type: 'string' },
      'bootstrap-servers': { type: 'string' },
      'input-topics': { type: 'string' },
      'to-earliest': { type: 'boolean' },
      'to-latest': { type: 'boolean' },
      'to-offset': { type: 'string' },
      'to-datetime': { type: 'string' },
      'by-duration': { type: 'string' },
      'state-dir': { type: 'string' },
      'dry-run': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help === true) return void console.log(HELP.reset);
  const applicationId = values['application-id'];
  if (applicationId === undefined) throw new UsageError('--application-id is required');
  const inputTopics = list(values['input-topics']);
  if (inputTopics.length === 0) throw new UsageError('--input-topics is required (the application\'s source topics)');
  const report = await resetApplication({
    applicationId,
    bootstrapServers: await brokersOf(values['bootstrap-servers']),
    inputTopics,
    target: resetTarget(values),
    stateDir: values['state-dir'],
    dryRun: values['dry-run'] === true,
  });
  console.log(formatResetReport(report));
}

async function lag(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { 'application-id': { type: 'string' }, 'bootstrap-servers': { type: 'string' }, topics: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help === true) return void console.log(HELP.lag);
  const groupId = values['application-id'];
  if (groupId === undefined) throw new UsageError('--application-id is required');
  const admin = createKafkajsClient({ clientId: 'kstreams-lag', brokers: await brokersOf(values['bootstrap-servers']), connection: {} }).admin();
  await admin.connect();
  try {
    let topics = list(values.topics);
    if (topics.length === 0) topics = (await admin.fetchOffsets({ groupId })).map((t) => t.topic);
    if (topics.length === 0) return void console.log(`group '${groupId}' has committed nothing`);
    const rows = await consumerLag(admin, groupId, topics);
    const width = Math.max(...rows.map((r) => `${r.topic}-${r.partition}`.length), 9);
    console.log(`${'PARTITION'.padEnd(width)}  ${'COMMITTED'.padStart(12)}  ${'END'.padStart(12)}  ${'LAG'.padStart(10)}`);
    for (const r of rows) {
      const committed = r.committed < 0n ? '-' : r.committed.toString();
      console.log(`${`${r.topic}-${r.partition}`.padEnd(width)}  ${committed.padStart(12)}  ${r.end.toString().padStart(12)}  ${r.lag.toString().padStart(10)}`);
    }
    console.log(`total lag ${rows.reduce((n, r) => n + r.lag, 0n)}`);
  } finally {
    await admin.disconnect();
  }
}

const [command, ...rest] = process.argv.slice(2);
const commands: Record<string, (args: string[]) => Promise<void>> = { describe, diff, reset, lag, topics };
try {
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(HELP.main);
  } else if (command === '--version' || command === '-v') {
    console.log(version());
  } else {
    const run = commands[command];
    if (run === undefined) throw new UsageError(`unknown command '${command}'`);
    await run(rest);
  }
} catch (err) {
  if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true) {
    console.error(`kstreams: ${asError(err).message}\n\n${HELP[command ?? 'main'] ?? HELP.main}`);
    process.exit(2);
  }
  console.error(`kstreams ${command}: ${asError(err).message}`);
  process.exit(1);
}
