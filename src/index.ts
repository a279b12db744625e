/**
 * kstreams-ts: Kafka Streams for TypeScript. Declare a topology with {@link StreamsBuilder}, test it with
 * {@link TopologyTestDriver}, run it on Kafka with `KafkaStreams`.
 */
// First: it must run before kafkajs loads (see the module).
import './client/kafkajs/kafkajs-preload.js';
export { StreamsBuilder, type StreamsBuilderOptions } from './dsl/streams-builder.js';
export {
  InvalidTimestampError,
  TimestampExtractors,
  type ConsumedRecord,
  type TimestampExtractor,
} from './processor/timestamp-extractor.js';
export { KStream } from './dsl/kstream.js';
export { BranchedKStream } from './dsl/branched-kstream.js';
export { KGroupedStream } from './dsl/kgrouped-stream.js';
export { CogroupedKStream } from './dsl/cogrouped-kstream.js';
export { SessionWindowedCogroupedKStream, TimeWindowedCogroupedKStream } from './dsl/windowed-cogrouped-kstream.js';
export { SessionWindowedKStream } from './dsl/session-windowed-kstream.js';
export { TimeWindowedKStream } from './dsl/time-windowed-kstream.js';
export { KTable } from './dsl/ktable.js';
export { GlobalKTable } from './dsl/global-ktable.js';
export { KGroupedTable } from './dsl/kgrouped-table.js';
export { Topology, type TopologyConfig, type TopologyOptimization, type Subtopology, type InternalTopic } from './processor/topology.js';
export { TopologyDescription } from './processor/topology-description.js';
export { SessionWindows, TimeWindows } from './dsl/windows.js';
export { JoinWindows } from './dsl/join-windows.js';
export { SlidingWindows } from './dsl/sliding-windows.js';
export { EmitStrategy } from './dsl/emit-strategy.js';
export type { Window, Windowed } from './processor/windowed.js';
export type { Headers, KeyValue, RecordMetadata, StreamRecord } from './processor/record.js';
export {
  Branched,
  Consumed,
  Grouped,
  Joined,
  Materialized,
  Named,
  Produced,
  Repartitioned,
  StreamJoined,
  Suppressed,
  type StreamPartitioner,
  type TopicNameExtractor,
} from './dsl/options.js';
export { BufferConfig, EagerBufferConfig, StrictBufferConfig, type BufferFullStrategy } from './dsl/buffer-config.js';
export type {
  Aggregator,
  ForeachAction,
  Initializer,
  KeyValueMapper,
  Merger,
  Predicate,
  Reducer,
  ValueJoiner,
  ValueMapper,
} from './dsl/internals/processors/functions.js';
export { valueJoinerWithKey, type ValueJoinerWithKey } from './dsl/value-joiner-with-key.js';
export { TableJoined } from './dsl/table-joined.js';
export type { ValueTransformerWithKey, ValueTransformerWithKeySupplier } from './dsl/internals/processors/ktable-transform-values.js';
export type {
  Cancellable,
  Processor,
  ProcessorContext,
  ProcessorSupplier,
  PunctuationType,
  Punctuator,
} from './processor/processor-api.js';

export type { Serde } from './serdes/serde.js';
export { Serdes } from './serdes/serdes.js';
export { AvroSerde, avroSerde, isSchemaEvolving, type AvroSchema, type SchemaEvolvingSerde } from './serdes/avro-serde.js';
export { WindowedSerdes, type WindowedSerde } from './serdes/windowed-serdes.js';
export { hasLifecycle, type SerdeLifecycle, type SerdeUsage, type RawRecord } from './serdes/serde-lifecycle.js';
export {
  SchemaRegistrySerdes,
  type SchemaRegistrySerdeOptions,
  type AvroRegistrySerdeOptions,
  type JsonSchemaRegistrySerdeOptions,
} from './serdes/schema-registry/schema-registry-serdes.js';
export { RegistrySerde } from './serdes/schema-registry/registry-serde.js';
export {
  schemaRegistryClient,
  SchemaRegistryError,
  type SchemaRegistryClient,
  type SchemaRegistryClientOptions,
  type RegisteredSchema,
} from './serdes/schema-registry/registry-client.js';
export type { SubjectNameStrategy } from './serdes/schema-registry/subject-name-strategy.js';
export type { JsonSchema } from './serdes/schema-registry/json-schema-format.js';
export { initializeSerdes } from './runtime/serde-initializer.js';

export type { KeyValueStore, SessionStore, StateStore, WindowStore, VersionedKeyValueStore, VersionedRecord } from './stores/state-store.js';
export { PUT_RETURN_CODE_NOT_PUT, PUT_RETURN_CODE_VALID_TO_UNDEFINED } from './stores/state-store.js';
export { Stores, type StoreOptions, type VersionedBytesStoreSupplier } from './stores/stores.js';
export type { StoreDefinition, StoreType } from './processor/store-definition.js';

export {
  ConfigError,
  DamagedStoreError,
  DeserializationError,
  ProcessingError,
  ProductionError,
  SchemaEvolutionError,
  StateStoreError,
  StreamsError,
  StreamsRuntimeError,
  SuppressionBufferFullError,
  TopologyError,
  type RecordOrigin,
} from './errors/errors.js';

export {
  TopologyTestDriver,
  TestInputTopic,
  TestOutputTopic,
  type TestDriverMetrics,
  type TestRecord,
  type TopologyTestDriverOptions,
} from './testing/topology-test-driver.js';
export { PartitionedTopologyTestDriver, type PartitionedTopologyTestDriverOptions } from './testing/partitioned-topology-test-driver.js';
export { consoleLogger, pinoLogger, type Logger, type LogLevel } from './logging/logger.js';

export { KafkaStreams } from './runtime/kafka-streams.js';
export type { KafkaStreamsState, StateListener, StreamThreadExceptionResponse } from './runtime/kafka-streams-state.js';
export type { StreamsMetrics, TaskMetrics } from './runtime/streams-metrics.js';
export type { RecordMetrics } from './runtime/record-accounting.js';
export type { KeyQueryMetadata, StreamsClientMetadata } from './runtime/streams-metadata.js';
export {
  QueryableStoreTypes,
  InvalidStateStoreError,
  type QueryableStoreType,
  type ReadOnlySessionStore,
  type ReadOnlyKeyValueStore,
  type ReadOnlyWindowStore,
  type ReadOnlyVersionedKeyValueStore,
} from './runtime/queryable-stores.js';
export { installShutdownHooks, type ShutdownHookOptions } from './runtime/shutdown-hooks.js';
export type { QueryServerOptions, QueryRequestInfo } from './config/query-server-options.js';
export {
  QueryClient,
  QueryClientError,
  type QueryClientOptions,
  type ReadOptions,
  type RangeOptions,
  type AnswerSource,
  type KeyAnswer,
  type SessionsAnswer,
  type WindowsAnswer,
  type RangePage,
  type SessionJson,
  type WindowJson,
  type EntryJson,
} from './runtime/query/query-client.js';
export type { StreamsConfig, ProcessingGuarantee } from './config/streams-config.js';
export type { EventTimeConfig } from './config/event-time-config.js';
export type { ConnectionSettings, SaslSettings, PasswordSasl, OAuthBearerSasl, OAuthBearerToken, RetrySettings } from './client/connection-settings.js';
export type { OffsetsAdmin, GroupOffsets, CommittedOffset, PartitionOffsets } from './client/admin.js';
export type { StateRestoreListener, RestoringPartition } from './runtime/state-restore-listener.js';
export { consumerLag, type PartitionLag } from './runtime/consumer-lag.js';
export { DEAD_LETTER_HEADERS } from './runtime/record-error-policy.js';
export { PRODUCTION_DEAD_LETTER_HEADERS } from './runtime/production-exception-policy.js';
export type { RecordErrorHandler } from './config/record-error-handler.js';
export { LATE_RECORD_HEADERS } from './runtime/late-records.js';
export { isChangelogSchemaRecord } from './stores/changelog-schemas.js';
export type { LateRecordsSettings } from './config/late-records.js';
export {
  resetApplication,
  formatResetReport,
  ResetError,
  type ResetOptions,
  type ResetReport,
  type ResetTarget,
  type OffsetMove,
} from './tools/application-reset.js';
export { diffTopologies, formatTopologyDiff, type TopologyDiff } from './tools/topology-diff.js';
export { createTopics } from './tools/topic-setup.js';
export type { TopicToCreate, TopicConfigEntry } from './client/admin.js';
export type { ProductionExceptionHandler } from './config/production-exception-handler.js';
