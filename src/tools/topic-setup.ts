import type { TopicToCreate } from '../client/admin.js';
import type { ConnectionSettings } from '../client/connection-settings.js';
import { createKafkajsClient } from '../client/kafkajs/kafkajs-client.js';
import { StreamsError } from '../errors/errors.js';
import type { UserTopicSettings } from '../config/user-topic-settings.js';
import type { RecordErrorHandler } from '../config/record-error-handler.js';
import { lateRecordsSettings, type LateRecordsSettings } from '../config/late-records.js';
import type { Topology } from '../processor/topology.js';
import { CLI_BROKER_CHECK, checkBootstrapServers } from '../client/broker-probe.js';
import { createTopicsAndWait, partitionCounts } from '../runtime/internal-topic-manager.js';
import { userTopics, userTopicsToCreate } from '../runtime/user-topics.js';

/** One source, sink, dead-letter or late-records topic of an application and what `kstreams topics create` does about it. */
export interface TopicPlanEntry {
  readonly topic: string;
  /**
   * 'dead-letter': named by the configuration's exception handlers, which need it to exist before start;
   * 'late-records': named by its `lateRecords` setting, likewise.
   */
  readonly role: 'source' | 'sink' | 'dead-letter' | 'late-records';
  /** Its partition count when it exists; undefined when it is to be created, or when no broker was asked. */
  readonly existingPartitions: number | undefined;
  readonly create: boolean;
}

export interface TopicPlan {
  readonly applicationId: string;
  readonly entries: readonly TopicPlanEntry[];
  readonly settings: UserTopicSettings;
  /** Internal topics (changelogs, repartition topics): the application creates them itself at start. */
  readonly internalTopics: readonly string[];
  /** False when no broker was asked: every topic is listed as to create. */
  readonly checkedBroker: boolean;
  readonly executed: boolean;
}

/** The exception handler settings of a configuration (StreamsConfig's), which may name dead-letter topics. */
export interface DeadLetterSettings {
  readonly deserializationExceptionHandler?: RecordErrorHandler;
  readonly processingExceptionHandler?: RecordErrorHandler;
  /** The late-records topic (StreamsConfig `lateRecords`), which must exist before start too. */
  readonly lateRecords?: LateRecordsSettings;
}

/** The late-records topic a configuration names, if any (see StreamsConfig `lateRecords`). */
export function lateRecordsTopicsOf(config: DeadLetterSettings): string[] {
  const settings = lateRecordsSettings(config.lateRecords);
  return settings === undefined ? [] : [settings.topic];
}

/** The dead-letter topics a configuration names, sorted, each once. */
export function deadLetterTopicsOf(config: DeadLetterSettings): string[] {
  const named = [config.deserializationExceptionHandler, config.processingExceptionHandler].flatMap((handler) =>
    typeof handler === 'object' && handler !== null && typeof handler.deadLetterTopic === 'string' ? [handler.deadLetterTopic] : [],
  );
  return [...new Set(named)].sort();
}

/**
 * Works out which source, sink, dead-letter and late-records topics an application needs that do not exist,
 * and with `execute` creates them (waiting until each partition has a leader). Without `bootstrapServers` it
 * lists them all. `deadLetterTopics`, `lateRecordsTopics`: those the configuration names (see
 * deadLetterTopicsOf, lateRecordsTopicsOf).
 */
export async function setUpTopics(
  topology: Topology,
  settings: UserTopicSettings,
  options: { bootstrapServers?: string[]; execute?: boolean; deadLetterTopics?: readonly string[]; lateRecordsTopics?: readonly string[] } = {},
): Promise<TopicPlan> {
  const { sources, sinks } = userTopics(topology);
  // A dead-letter topic the topology also reads or writes is listed once, in its role there.
  const deadLetters = [...new Set(options.deadLetterTopics ?? [])].filter((t) => !sources.includes(t) && !sinks.includes(t)).sort();
  const late = [...new Set(options.lateRecordsTopics ?? [])].filter((t) => !sources.includes(t) && !sinks.includes(t) && !deadLetters.includes(t)).sort();
  // Created as sinks are: the same settings, after them.
  const topics = { sources, sinks: [...sinks, ...deadLetters, ...late] };
  const servers = options.bootstrapServers ?? [];
  const existing = new Map<string, number>();
  let created = false;
  if (servers.length > 0) {
    await checkBootstrapServers(servers, { timeoutMs: 3000, check: CLI_BROKER_CHECK });
    const admin = createKafkajsClient({ clientId: 'kstreams-topics', brokers: servers, connection: {} }).admin();
    await admin.connect();
    try {
      for (const [topic, count] of await partitionCounts(admin, [...topics.sources, ...topics.sinks])) existing.set(topic, count);
      const toCreate = userTopicsToCreate(topics, new Set(existing.keys()), settings);
      if (options.execute === true && toCreate.length > 0) {
        await createTopicsAndWait(admin, toCreate);
        created = true;
      }
    } finally {
      await admin.disconnect();
    }
  } else if (options.execute === true) {
    throw new StreamsError('creating topics needs a broker: pass --bootstrap-servers or set KAFKA_BROKERS');
  }
  const entry = (role: TopicPlanEntry['role']) => (topic: string): TopicPlanEntry => ({
    topic,
    role,
    existingPartitions: existing.get(topic),
    create: !existing.has(topic),
  });
  return {
    applicationId: topology.applicationId,
    entries: [...sources.map(entry('source')), ...sinks.map(entry('sink')), ...deadLetters.map(entry('dead-letter')), ...late.map(entry('late-records'))],
    settings,
    internalTopics: topology.internalTopics.map((t) => t.name),
    checkedBroker: servers.length > 0,
    executed: created,
  };
}

/**
 * Creates topics and waits until every partition has a leader; topics that exist are left as they are.
 * For development set-ups, examples and tests (for the topics a topology needs, see `kstreams topics create`
 * and the `createTopics` setting).
 *
 * @example
 * await createTopics(['localhost:9092'], [{ topic: 'page-views', numPartitions: 6 }]);
 */
export async function createTopics(
  bootstrapServers: readonly string[],
  topics: readonly TopicToCreate[],
  connection: ConnectionSettings = {},
): Promise<void> {
  const admin = createKafkajsClient({ clientId: 'kstreams-topics', brokers: [...bootstrapServers], connection }).admin();
  await admin.connect();
  try {
    await createTopicsAndWait(admin, [...topics]);
  } finally {
    await admin.disconnect();
  }
}

/** The plan as `kstreams topics create` prints it. */
export function formatTopicPlan(plan: TopicPlan): string {
  const { partitions, replicationFactor, configs } = plan.settings;
  const settings = [
    `partitions ${partitions === -1 ? 'broker default' : partitions}`,
    `replication ${replicationFactor === -1 ? 'broker default' : replicationFactor}`,
    ...Object.entries(configs).map(([k, v]) => `${k}=${v}`),
  ].join(', ');
  const width = Math.max(...plan.entries.map((e) => e.topic.length), 5);
  const lines = plan.entries.map((e) => {
    const what = e.create
      ? `${plan.executed ? 'created' : plan.checkedBroker ? 'missing, would create' : 'would create'}: ${settings}`
      : `exists (${e.existingPartitions} partitions)`;
    return `  ${e.role.padEnd(12)}  ${e.topic.padEnd(width)}  ${what}`;
  });
  const toCreate = plan.entries.filter((e) => e.create).length;
  const head = plan.executed
    ? `Created ${toCreate} topic(s) of application '${plan.applicationId}':`
    : `Topics of application '${plan.applicationId}'` +
      (plan.checkedBroker ? '' : ' (no broker given: existing topics are not known)') +
      (toCreate > 0 ? '. Dry run: nothing created; add --execute to create them.' : ': all exist.');
  const internal = plan.internalTopics.length === 0 ? [] : [`Internal topics, created by the application itself at start: ${plan.internalTopics.join(', ')}`];
  return [head, ...lines, ...internal].join('\n');
}
