import type { Admin, TopicMetadata, TopicToCreate } from '../client/admin.js';
import { isClientError } from '../client/client-error.js';

import type { Topology } from '../processor/topology.js';
import { changelogTopicConfig } from '../processor/store-definition.js';
import { StreamsRuntimeError } from '../errors/errors.js';
import type { Logger } from '../logging/logger.js';
import { userTopics, userTopicsToCreate } from './user-topics.js';
import type { UserTopicSettings } from '../config/user-topic-settings.js';
import { NO_TIMESTAMP_LIMIT } from './topic-write-limits.js';
import { resolvePartitionCounts, type TopologyMetadata } from './partition-counts.js';

export type { TopologyMetadata } from './partition-counts.js';

/** Metadata of those of `topics` that exist (fetching the metadata of a missing topic would fail). */
async function existingTopicMetadata(admin: Admin, topics: readonly string[]): Promise<TopicMetadata[]> {
  if (topics.length === 0) return [];
  const existing = new Set(await admin.listTopics());
  const present = topics.filter((t) => existing.has(t));
  if (present.length === 0) return [];
  return (await admin.fetchTopicMetadata({ topics: present })).topics;
}

/** Partition counts of those of `topics` that exist. */
export async function partitionCounts(admin: Admin, topics: readonly string[]): Promise<Map<string, number>> {
  return new Map((await existingTopicMetadata(admin, topics)).map((t) => [t.name, t.partitions.length]));
}

/**
 * Creates topics and waits until every partition has a leader in the metadata the broker serves.
 * kafkajs' own `waitForLeaders` gives up on the first UNKNOWN_TOPIC_OR_PARTITION, which a broker answers
 * for a moment after creating a topic (its metadata cache is updated asynchronously): CI saw that.
 * A topic another instance created at the same moment counts as created.
 */
export async function createTopicsAndWait(admin: Admin, topics: TopicToCreate[], timeoutMs = 30_000): Promise<void> {
  if (topics.length === 0) return;
  let createError: unknown;
  try {
    await admin.createTopics({ topics });
  } catch (err) {
    createError = err;
  }
  const names = topics.map((t) => t.topic);
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = createError;
  for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
    try {
      if (await allHaveLeaders(admin, names)) return;
    } catch (err) {
      lastError = err; // retriable while the broker catches up; reported if it never does
    }
    if (createError !== undefined && !mayStillAppear(createError)) break; // e.g. not authorized: say so now
    if (Date.now() + delay > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
  const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
  throw new StreamsRuntimeError(
    `Could not create topics ${names.join(', ')}, or they had no partition leader within ${timeoutMs} ms${reason}. ` +
      'Check that the broker accepts topic creation (auto-create is not needed) and that the principal may create topics.',
    lastError === undefined ? undefined : { cause: lastError },
  );
}

/** True when a createTopics error leaves the topics possibly created (by us or by another instance). */
function mayStillAppear(err: unknown): boolean {
  const errors = (err as { errors?: unknown }).errors; // an AggregateError: one error per topic
  if (Array.isArray(errors)) return errors.every(mayStillAppear);
  return isClientError(err, 'retriable') || isClientError(err, 'already-exists') || isClientError(err, 'timed-out');
}

async function allHaveLeaders(admin: Admin, topics: string[]): Promise<boolean> {
  const metadata = await existingTopicMetadata(admin, topics);
  return metadata.length === topics.length && metadata.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
}

/**
 * Checks the topics a topology needs before it runs, and creates the internal ones, as Kafka Streams'
 * InternalTopicManager does:
 *  - every source topic and every sink topic named in the topology must exist (created only when
 *    `createUserTopics` says how: the `createTopics` setting, for development);
 *  - topics read by one sub-topology must have equal partition counts (co-partitioning);
 *  - a repartition topic gets the partition count of the sub-topology that writes it (or its explicit count);
 *  - a changelog gets one partition per task of its sub-topology;
 *  - an existing internal topic with another partition count or cleanup policy stops the start, except a
 *    windowed store's changelog that is `compact` where `compact,delete` is wanted (see policyProblem).
 */
export async function ensureTopics(
  admin: Admin,
  topology: Topology,
  replicationFactor: number,
  logger: Logger,
  windowChangelogAdditionalRetentionMs?: number,
  createUserTopics?: UserTopicSettings,
): Promise<TopologyMetadata> {
  const configOf = (internal: Topology['internalTopics'][number]): Record<string, string> => {
    const store = internal.kind === 'changelog' && internal.storeName !== undefined ? topology.stores.get(internal.storeName) : undefined;
    return store === undefined ? internal.config : changelogTopicConfig(store, windowChangelogAdditionalRetentionMs);
  };
  const user = userTopics(topology);
  const external = topology.externalSourceTopics();
  const sinkTopics = [...new Set(topology.subtopologies.flatMap((s) => s.sinkTopics))];
  const internalNames = topology.internalTopics.map((t) => t.name);
  const wanted = [...new Set([...external, ...sinkTopics, ...internalNames])];
  let counts = await partitionCounts(admin, wanted);

  // A missing sink would otherwise fail the first produce, seconds after start, naming no topic.
  const userCreations = userTopicsToCreate(user, new Set(counts.keys()), createUserTopics ?? { partitions: -1, replicationFactor: -1, configs: {} });
  if (userCreations.length > 0 && createUserTopics !== undefined) {
    await createTopicsAndWait(admin, userCreations);
    logger.info(`created topics (createTopics): ${userCreations.map((t) => t.topic).join(', ')}`);
    counts = await partitionCounts(admin, wanted);
  } else if (userCreations.length > 0) {
    const missingSources = user.sources.filter((t) => !counts.has(t));
    const missingSinks = user.sinks.filter((t) => !counts.has(t));
    const what = [
      missingSources.length > 0 ? `source topic(s) ${missingSources.join(', ')}` : '',
      missingSinks.length > 0 ? `sink (output) topic(s) ${missingSinks.join(', ')}` : '',
    ].filter(Boolean).join(' and ');
    throw new StreamsRuntimeError(
      `The ${what} do not exist. Create them before starting the application: 'kstreams topics create ` +
        `--topology <file> --execute', or kafka-topics.sh --create --topic ${userCreations[0]!.topic} --partitions 6; ` +
        'during development, the createTopics setting creates them at start.',
    );
  }

  // Throws where a sub-topology reads topics that are not co-partitioned (Kafka Streams' check, same text).
  const metadata = resolvePartitionCounts(topology, counts);

  const toCreate: TopicToCreate[] = [];
  const problems: string[] = [];
  for (const internal of topology.internalTopics) {
    const expected = metadata.partitionsByTopic.get(internal.name)!;
    const actual = counts.get(internal.name);
    if (actual === undefined) {
      toCreate.push({
        topic: internal.name,
        numPartitions: expected,
        replicationFactor,
        configEntries: Object.entries(configOf(internal)).map(([name, value]) => ({ name, value })),
      });
    } else if (actual !== expected) {
      problems.push(`${internal.name} has ${actual} partitions, the application needs ${expected}`);
    }
  }
  const existingInternal = topology.internalTopics.filter((t) => counts.has(t.name));
  if (existingInternal.length > 0) {
    const described = await admin.topicConfigs(
      existingInternal.map((t) => t.name),
      ['cleanup.policy'],
    );
    for (const [name, configs] of described) {
      const internal = existingInternal.find((t) => t.name === name)!;
      const actual = configs.get('cleanup.policy') ?? 'delete';
      const problem = policyProblem(internal.name, actual, configOf(internal), logger);
      if (problem !== undefined) problems.push(problem);
    }
  }
  if (problems.length > 0) {
    throw new StreamsRuntimeError(
      `Internal topics do not match the topology:\n - ${problems.join('\n - ')}\n` +
        'If the topology changed on purpose, reset the application (kstreams reset) to recreate them.',
    );
  }
  if (toCreate.length > 0) {
    await acceptAnyEventTime(admin, toCreate, [...counts.keys()]);
    await createTopicsAndWait(admin, toCreate);
    logger.info(`created internal topics: ${toCreate.map((t) => `${t.topic} (${t.numPartitions})`).join(', ')}`);
  }
  return metadata;
}

/** The topic configs that bound how far a record's timestamp may be from the broker's clock (Kafka ≥ 3.6). */
const TIMESTAMP_BOUNDS = ['message.timestamp.after.max.ms', 'message.timestamp.before.max.ms'];

/**
 * Internal topics carry event time, not wall-clock time: a late or replayed record, or one stamped ahead,
 * must never make the application's own repartition or changelog topic refuse its own record (Kafka 4
 * refuses records more than an hour ahead by default). So they are created with both bounds at Long.MAX
 * (no limit), where the broker knows those configs (asked through an existing topic's configs; an older
 * broker would refuse the unknown names), unless the topology's config for the topic sets them. Kafka
 * Streams (InternalTopicConfig, RepartitionTopicConfig) sets only message.timestamp.type=CreateTime and
 * leaves these to the broker's defaults; we differ on purpose. Existing topics are not altered: a record
 * one of them would refuse stops the task, naming the setting (see refusingChangelogSink, ProductionExceptionPolicy).
 */
export async function acceptAnyEventTime(admin: Admin, toCreate: TopicToCreate[], existingTopics: readonly string[]): Promise<void> {
  const probe = existingTopics[0];
  if (probe === undefined) return;
  const known = (await admin.topicConfigs([probe], TIMESTAMP_BOUNDS)).get(probe);
  const names = TIMESTAMP_BOUNDS.filter((name) => known?.has(name) === true);
  for (let i = 0; i < toCreate.length; i++) {
    const topic = toCreate[i]!;
    const entries = topic.configEntries ?? [];
    const added = names.filter((name) => !entries.some((e) => e.name === name)).map((name) => ({ name, value: NO_TIMESTAMP_LIMIT }));
    if (added.length > 0) toCreate[i] = { ...topic, configEntries: [...entries, ...added] };
  }
}

/**
 * Whether an existing internal topic's cleanup policy can serve. Policies compare as sets. A windowed store's
 * changelog created by an earlier version as `compact` where `compact,delete` is wanted is accepted with a
 * WARN: it loses nothing (it only keeps expired windows longer), and we do not alter a topic's configs
 * behind the operator's back; the WARN gives the command that bounds it.
 */
export function policyProblem(topic: string, actual: string, wanted: Readonly<Record<string, string>>, logger: Logger): string | undefined {
  const normalize = (p: string) => p.split(',').map((s) => s.trim()).sort().join(',');
  const wantedPolicy = wanted['cleanup.policy'] ?? 'delete';
  if (normalize(actual) === normalize(wantedPolicy)) return undefined;
  if (normalize(actual) === 'compact' && normalize(wantedPolicy) === 'compact,delete') {
    const retention = wanted['retention.ms'];
    logger.warn(
      `${topic} has cleanup.policy=compact, this version wants compact,delete${retention === undefined ? '' : ` with retention.ms=${retention}`}: ` +
        'accepted, but the changelog keeps expired windows until you run: kafka-configs.sh --alter --entity-type topics ' +
        `--entity-name ${topic} --add-config cleanup.policy=[compact,delete]${retention === undefined ? '' : `,retention.ms=${retention}`}`,
    );
    return undefined;
  }
  return `${topic} has cleanup.policy=${actual}, the application needs ${wantedPolicy}`;
}
