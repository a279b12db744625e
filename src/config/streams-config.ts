import type { RecordErrorHandler } from './record-error-handler.js';
import type { ProductionExceptionHandler } from './production-exception-handler.js';
import { lateRecordsSettings, type LateRecordsSettings } from './late-records.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionSettings } from '../client/connection-settings.js';
import { ConfigError } from '../errors/errors.js';
import type { UserTopicSettings } from './user-topic-settings.js';
import type { QueryServerOptions, ResolvedQueryServerOptions } from './query-server-options.js';
import { resolveEventTime, type EventTimeConfig, type ResolvedEventTimeConfig } from './event-time-config.js';
import { isLogLevel, pinoLogger, type Logger, type LogLevel } from '../logging/logger.js';

/** At-least-once (a crash may process some records twice) or exactly-once (transactions; Kafka Streams' v2). */
export type ProcessingGuarantee = 'at_least_once' | 'exactly_once_v2';

/** Settings of a KafkaStreams instance; names and defaults follow Kafka Streams where it has them. */
export interface StreamsConfig {
  /** Consumer group id, prefix of internal topics and of the state folder. Must match the topology's. */
  applicationId: string;
  /** Brokers to connect to first, as `host:port` (e.g. `['127.0.0.1:9092']`); one answering is enough. */
  bootstrapServers: string[];
  /** Default: `<applicationId>-<pid>-<random>`; appears in broker logs and metrics. */
  clientId?: string;
  /** Default: `<os tmpdir>/kstreams-ts`; state lives under `<stateDir>/<applicationId>/<taskId>/<store>`. */
  stateDir?: string;
  /** Default 'at_least_once'. */
  processingGuarantee?: ProcessingGuarantee;
  /** Default 30 000 ms under at-least-once, 100 ms under exactly-once (Kafka Streams' defaults). */
  commitIntervalMs?: number;
  /** Default 0. */
  numStandbyReplicas?: number;
  /** Write-cache budget of the instance, split over its stores; default 10 MiB. */
  cacheMaxBytes?: number;
  /** The largest slice of a fetched batch processed before offsets, caches and back-pressure are checked; default 1000. */
  maxPollRecords?: number;
  /** Records waiting for the producer beyond which processing pauses; default 50 000. */
  maxBufferedRecords?: number;
  /**
   * Fetched records buffered per input partition beyond which fetching it pauses (it resumes once the
   * buffer is below again); default 1000, as Kafka Streams' `buffered.records.per.partition`. One fetch may
   * add up to `maxPartitionFetchBytes` of records on top.
   */
  bufferedRecordsPerPartition?: number;
  /**
   * The most record bytes one fetch returns per partition (Kafka's `max.partition.fetch.bytes`); default
   * 256 KiB. Fetched records are decoded into objects at once, several times their size on the broker, and
   * stay in memory until processed: with 1 MiB, a catch-up held about 100 000 decoded records (half the
   * live heap) for a few thousand small ones; a larger record is still fetched whole.
   */
  maxPartitionFetchBytes?: number;
  /** The most record bytes one fetch returns over all its partitions (Kafka's `fetch.max.bytes`); default 4 MiB. */
  fetchMaxBytes?: number;
  /**
   * How long a task that reads several partitions waits for an empty one that is caught up before it
   * processes the others (Kafka Streams' `max.task.idle.ms`); default 0. A partition with records known to
   * be on the broker is always waited for, until they are fetched; -1 never waits.
   */
  maxTaskIdleMs?: number;
  /**
   * How far out of event-time order this instance's records may reach a repartition topic; default 60 000.
   * Each task has its own producer, so requests of different tasks land in any order: the tasks that feed
   * a repartition topic wait for each other's acknowledgements to stay within this skew. Keep it below the
   * grace of the windows downstream, or replayed backlogs lose records as late there. -1 turns it off.
   */
  maxRepartitionSkewMs?: number;
  /**
   * The event-time mode, our extension (off when unset): progress markers across instances and idle advance.
   * See EventTimeConfig and the README's "Event time across instances".
   */
  eventTime?: EventTimeConfig;
  /** Changelog records per restore batch (one LevelDB write each); default 10 000. */
  restoreBatchRecords?: number;
  /** Default 30 000 ms (kafkajs' default). */
  sessionTimeoutMs?: number;
  /**
   * Static membership, as Kafka's `group.instance.id`: unique per instance and the same across its
   * restarts. A restart within `sessionTimeoutMs` takes the same tasks back without a rebalance; a closed
   * instance stays in the group until its session times out (its tasks wait until then). Default: none.
   */
  groupInstanceId?: string;
  /** Default 3 000 ms. */
  heartbeatIntervalMs?: number;
  /** Partitions processed side by side; default 64 (kafkajs' partitionsConsumedConcurrently). */
  partitionsConsumedConcurrently?: number;
  /**
   * Development: create the source and sink topics the topology names when they are missing, at start
   * (default false: a missing one stops the start, naming it). `true` uses the broker's default partition
   * count and replication; an object sets them. In production create topics deliberately
   * (`kstreams topics create --topology <file>` shows what the topology needs).
   */
  createTopics?:
    | boolean
    | {
        /** Partitions of each created topic; default -1, the broker's `num.partitions`. */
        partitions?: number;
        /** Default -1, the broker's `default.replication.factor`. */
        replicationFactor?: number;
        /** Topic configs, e.g. `{ 'retention.ms': '86400000' }`. */
        configs?: Record<string, string>;
      };
  /** Replication factor of internal topics; default -1, the broker's default. */
  replicationFactor?: number;
  /**
   * How much longer than its store a window or session changelog keeps records (`retention.ms` = store
   * retention + this), as Kafka Streams' `windowstore.changelog.additional.retention.ms`; default one day.
   * A store's own `changelogConfig['retention.ms']` wins over it.
   */
  windowStoreChangelogAdditionalRetentionMs?: number;
  /** How long a new owner waits for the previous owner to hand a task over; default 30 000 ms. */
  handoverTimeoutMs?: number;
  /**
   * How long the instance rides out a broker it cannot reach (connection refused, coordinator or leader
   * unavailable) before it fails; default 300 000 ms, as Kafka Streams' `task.timeout.ms`. Meanwhile it is
   * REBALANCING, its tasks are suspended (nothing after their last commit is kept), and it logs
   * "broker unavailable" once; when the broker answers again the tasks are re-created from their last
   * commit and processing resumes by itself. 0 fails at the first such error.
   */
  brokerUnavailableTimeoutMs?: number;
  /** A record that cannot be deserialized: fail (default), skip, or send to a dead-letter topic. */
  deserializationExceptionHandler?: RecordErrorHandler;
  /** A record whose processing throws (a user function): fail (default), skip, or dead-letter it. */
  processingExceptionHandler?: RecordErrorHandler;
  /**
   * An output record that cannot be serialized, or that its topic would refuse (size, timestamp range, no key
   * on a compacted topic): 'fail' (default), 'continue' (drop, count and log), or dead-letter it.
   */
  productionExceptionHandler?: ProductionExceptionHandler;
  /** The broker's `message.max.bytes`, to check output records against (besides each topic's own `max.message.bytes`); default 1 048 588. */
  maxRecordBytes?: number;
  /**
   * Records late for their window or session go to this topic with their original bytes and headers naming
   * the window they missed, instead of being dropped (our extension; see LateRecordsSettings). Default:
   * none, dropped and counted (droppedLateTotal) as Kafka Streams does.
   */
  lateRecords?: LateRecordsSettings;
  /** `host:port` where this instance answers interactive queries; other instances learn it from the group. */
  applicationServer?: string;
  /**
   * Serve queries of the stores and the status page over HTTP on `applicationServer`'s port (`true`: with the
   * defaults of QueryServerOptions); default: no server. Needs `applicationServer`.
   */
  queryServer?: boolean | QueryServerOptions;
  /** Serve `/metrics` (Prometheus) and `/health` on this port (0: any free port); default: no server. */
  metricsPort?: number;
  /** Interface of the metrics server; default '127.0.0.1' (this machine only): set '0.0.0.0' to expose it. */
  metricsHost?: string;
  /** How often committed repartition records are deleted; default 30 000 ms (Kafka Streams' default). */
  repartitionPurgeIntervalMs?: number;
  /**
   * Level of the default logger; default: the `KSTREAMS_LOG_LEVEL` environment variable, else 'info'
   * (the project's tests set it to 'silent').
   */
  logLevel?: LogLevel;
  /** A logger of your own (pino or console shaped); overrides logLevel. */
  logger?: Logger;
  /** How the clients reach the brokers beyond `bootstrapServers`: TLS, SASL, timeouts, retries. */
  kafka?: ConnectionSettings;
}

export interface ResolvedStreamsConfig {
  readonly applicationId: string;
  readonly bootstrapServers: string[];
  readonly clientId: string;
  readonly stateDir: string;
  readonly processingGuarantee: ProcessingGuarantee;
  readonly commitIntervalMs: number;
  readonly numStandbyReplicas: number;
  readonly cacheMaxBytes: number;
  readonly maxPollRecords: number;
  readonly maxBufferedRecords: number;
  readonly bufferedRecordsPerPartition: number;
  readonly maxPartitionFetchBytes: number;
  readonly fetchMaxBytes: number;
  readonly maxTaskIdleMs: number;
  readonly maxRepartitionSkewMs: number;
  /** Undefined: the event-time mode is off. */
  readonly eventTime: ResolvedEventTimeConfig | undefined;
  readonly restoreBatchRecords: number;
  readonly sessionTimeoutMs: number;
  readonly groupInstanceId: string | undefined;
  readonly heartbeatIntervalMs: number;
  readonly partitionsConsumedConcurrently: number;
  readonly replicationFactor: number;
  readonly windowStoreChangelogAdditionalRetentionMs: number;
  /** Undefined: missing source and sink topics stop the start. */
  readonly createTopics: UserTopicSettings | undefined;
  readonly handoverTimeoutMs: number;
  readonly brokerUnavailableTimeoutMs: number;
  readonly repartitionPurgeIntervalMs: number;
  readonly metricsPort: number | undefined;
  readonly applicationServer: string | undefined;
  readonly queryServer: ResolvedQueryServerOptions | undefined;
  readonly metricsHost: string;
  readonly deserializationExceptionHandler: RecordErrorHandler;
  readonly processingExceptionHandler: RecordErrorHandler;
  readonly productionExceptionHandler: ProductionExceptionHandler;
  readonly maxRecordBytes: number;
  /** Undefined: late records are dropped and counted. */
  readonly lateRecords: LateRecordsSettings | undefined;
  readonly logger: Logger;
  readonly kafka: ConnectionSettings;
}

function errorHandler(name: string, value: RecordErrorHandler | undefined): RecordErrorHandler {
  if (value === undefined) return 'fail';
  if (value === 'fail' || value === 'logAndContinue') return value;
  if (typeof value === 'object' && value !== null && typeof value.deadLetterTopic === 'string' && value.deadLetterTopic !== '') return value;
  throw new ConfigError(`${name} must be 'fail', 'logAndContinue' or { deadLetterTopic: '<topic>' }, got ${JSON.stringify(value)}`);
}

function productionHandler(value: ProductionExceptionHandler | undefined): ProductionExceptionHandler {
  if (value === undefined) return 'fail';
  if (value === 'fail' || value === 'continue') return value;
  if (typeof value === 'object' && value !== null && typeof value.deadLetterTopic === 'string' && value.deadLetterTopic !== '') return value;
  throw new ConfigError(`productionExceptionHandler must be 'fail', 'continue' or { deadLetterTopic: '<topic>' }, got ${JSON.stringify(value)}`);
}

function hostPort(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[^:\s]+:\d{1,5}$/.test(value)) throw new ConfigError(`${name} must be 'host:port', got '${value}'`);
  return value;
}

function queryServerOptions(value: StreamsConfig['queryServer'], applicationServer: string | undefined): ResolvedQueryServerOptions | undefined {
  if (value === undefined || value === false) return undefined;
  if (applicationServer === undefined) throw new ConfigError("queryServer needs applicationServer ('host:port'): the server listens on its port");
  const options = value === true ? {} : value;
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token.length === 0)) throw new ConfigError('queryServer.token must be a non-empty string');
  return {
    host: options.host ?? '127.0.0.1',
    port: Number(applicationServer.slice(applicationServer.lastIndexOf(':') + 1)),
    token: options.token,
    authorize: options.authorize,
    maxLimit: integer('queryServer.maxLimit', options.maxLimit, 1000, 1),
    forwardTimeoutMs: integer('queryServer.forwardTimeoutMs', options.forwardTimeoutMs, 5000, 1),
    retryAfterSeconds: integer('queryServer.retryAfterSeconds', options.retryAfterSeconds, 1, 0),
    statusPage: options.statusPage ?? true,
  };
}

function topicCreation(value: StreamsConfig['createTopics']): UserTopicSettings | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { partitions: -1, replicationFactor: -1, configs: {} };
  if (typeof value !== 'object' || value === null) throw new ConfigError(`createTopics must be a boolean or { partitions, replicationFactor, configs }, got ${JSON.stringify(value)}`);
  const partitions = integer('createTopics.partitions', value.partitions, -1, -1);
  const replicationFactor = integer('createTopics.replicationFactor', value.replicationFactor, -1, -1);
  if (partitions === 0 || replicationFactor === 0) throw new ConfigError('createTopics.partitions and .replicationFactor must be at least 1 (or -1, the broker default)');
  return { partitions, replicationFactor, configs: { ...(value.configs ?? {}) } };
}

/** The logger of an application that sets none: KafkaStreams' and the TopologyTestDriver's alike. */
export function defaultLogger(applicationId: string, level?: LogLevel): Logger {
  return pinoLogger(level ?? levelFromEnvironment() ?? 'info', { applicationId });
}

function levelFromEnvironment(): LogLevel | undefined {
  const value = process.env.KSTREAMS_LOG_LEVEL;
  if (value === undefined || value === '') return undefined;
  if (!isLogLevel(value)) throw new ConfigError(`KSTREAMS_LOG_LEVEL must be one of debug, info, warn, error, silent, got '${value}'`);
  return value;
}

function integer(name: string, value: number | undefined, fallback: number, min: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min) throw new ConfigError(`${name} must be an integer >= ${min}, got ${String(value)}`);
  return v;
}

/** Fills in defaults and rejects wrong values with a message that names the setting. */
function groupInstanceIdOf(id: unknown): string | undefined {
  if (id === undefined) return undefined;
  if (typeof id !== 'string' || id.trim() === '' || id.length > 249) {
    throw new ConfigError(`groupInstanceId must be a non-empty string (at most 249 characters), got ${JSON.stringify(id)}`);
  }
  return id;
}

export function resolveConfig(config: StreamsConfig): ResolvedStreamsConfig {
  if (config === null || typeof config !== 'object') throw new ConfigError('KafkaStreams needs a config object');
  if (typeof config.applicationId !== 'string' || config.applicationId === '') {
    throw new ConfigError('applicationId is required: it names the consumer group and the internal topics');
  }
  if (!Array.isArray(config.bootstrapServers) || config.bootstrapServers.length === 0) {
    throw new ConfigError('bootstrapServers must list at least one host:port, for example ["127.0.0.1:9092"]');
  }
  for (const server of config.bootstrapServers) {
    if (typeof server !== 'string' || !/^[^:\s]+:\d+$/.test(server)) {
      throw new ConfigError(`bootstrapServers entry ${JSON.stringify(server)} is not host:port`);
    }
  }
  const guarantee = config.processingGuarantee ?? 'at_least_once';
  if (guarantee !== 'at_least_once' && guarantee !== 'exactly_once_v2') {
    throw new ConfigError(`processingGuarantee must be 'at_least_once' or 'exactly_once_v2', got ${JSON.stringify(guarantee)}`);
  }
  const eos = guarantee === 'exactly_once_v2';
  const sessionTimeoutMs = integer('sessionTimeoutMs', config.sessionTimeoutMs, 30_000, 1000);
  const heartbeatIntervalMs = integer('heartbeatIntervalMs', config.heartbeatIntervalMs, 3000, 100);
  if (heartbeatIntervalMs >= sessionTimeoutMs) {
    throw new ConfigError(`heartbeatIntervalMs (${heartbeatIntervalMs}) must be below sessionTimeoutMs (${sessionTimeoutMs})`);
  }
  return {
    applicationId: config.applicationId,
    bootstrapServers: [...config.bootstrapServers],
    clientId: config.clientId ?? `${config.applicationId}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    stateDir: config.stateDir ?? join(tmpdir(), 'kstreams-ts'),
    processingGuarantee: guarantee,
    commitIntervalMs: integer('commitIntervalMs', config.commitIntervalMs, eos ? 100 : 30_000, 1),
    numStandbyReplicas: integer('numStandbyReplicas', config.numStandbyReplicas, 0, 0),
    cacheMaxBytes: integer('cacheMaxBytes', config.cacheMaxBytes, 10 * 1024 * 1024, 0),
    maxPollRecords: integer('maxPollRecords', config.maxPollRecords, 1000, 1),
    maxBufferedRecords: integer('maxBufferedRecords', config.maxBufferedRecords, 50_000, 1),
    bufferedRecordsPerPartition: integer('bufferedRecordsPerPartition', config.bufferedRecordsPerPartition, 1000, 1),
    maxPartitionFetchBytes: integer('maxPartitionFetchBytes', config.maxPartitionFetchBytes, 256 * 1024, 1024),
    fetchMaxBytes: integer('fetchMaxBytes', config.fetchMaxBytes, 4 * 1024 * 1024, 1024),
    maxTaskIdleMs: integer('maxTaskIdleMs', config.maxTaskIdleMs, 0, -1),
    maxRepartitionSkewMs: integer('maxRepartitionSkewMs', config.maxRepartitionSkewMs, 60_000, -1),
    eventTime: resolveEventTime(config.eventTime, integer('commitIntervalMs', config.commitIntervalMs, eos ? 100 : 30_000, 1)),
    restoreBatchRecords: integer('restoreBatchRecords', config.restoreBatchRecords, 10_000, 1),
    sessionTimeoutMs,
    groupInstanceId: groupInstanceIdOf(config.groupInstanceId),
    heartbeatIntervalMs,
    partitionsConsumedConcurrently: integer('partitionsConsumedConcurrently', config.partitionsConsumedConcurrently, 64, 1),
    replicationFactor: integer('replicationFactor', config.replicationFactor, -1, -1),
    windowStoreChangelogAdditionalRetentionMs: integer(
      'windowStoreChangelogAdditionalRetentionMs',
      config.windowStoreChangelogAdditionalRetentionMs,
      24 * 60 * 60 * 1000, // one day, as processor's CHANGELOG_ADDITIONAL_RETENTION_MS
      0,
    ),
    createTopics: topicCreation(config.createTopics),
    handoverTimeoutMs: integer('handoverTimeoutMs', config.handoverTimeoutMs, 30_000, 0),
    brokerUnavailableTimeoutMs: integer('brokerUnavailableTimeoutMs', config.brokerUnavailableTimeoutMs, 300_000, 0),
    deserializationExceptionHandler: errorHandler('deserializationExceptionHandler', config.deserializationExceptionHandler),
    processingExceptionHandler: errorHandler('processingExceptionHandler', config.processingExceptionHandler),
    productionExceptionHandler: productionHandler(config.productionExceptionHandler),
    maxRecordBytes: integer('maxRecordBytes', config.maxRecordBytes, 1_048_588, 1024),
    lateRecords: lateRecordsSettings(config.lateRecords),
    metricsPort: config.metricsPort === undefined ? undefined : integer('metricsPort', config.metricsPort, 0, 0),
    metricsHost: config.metricsHost ?? '127.0.0.1',
    applicationServer: hostPort('applicationServer', config.applicationServer),
    queryServer: queryServerOptions(config.queryServer, hostPort('applicationServer', config.applicationServer)),
    repartitionPurgeIntervalMs: integer('repartitionPurgeIntervalMs', config.repartitionPurgeIntervalMs, 30_000, 0),
    logger: config.logger ?? defaultLogger(config.applicationId, config.logLevel),
    kafka: { ...(config.kafka ?? {}) },
  };
}
