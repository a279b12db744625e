import type { AvroSchema } from '../avro-serde.js';
import { AvroFormat } from './avro-format.js';
import { JsonSchemaFormat, type JsonSchema } from './json-schema-format.js';
import { schemaRegistryClient, type SchemaRegistryClient, type SchemaRegistryClientOptions } from './registry-client.js';
import { RegistrySerde } from './registry-serde.js';
import type { SubjectNameStrategy } from './subject-name-strategy.js';

/** Options shared by every Schema Registry serde. */
export interface SchemaRegistrySerdeOptions {
  /** The registry: its URL, client options, or a client from {@link schemaRegistryClient} (shared caches). */
  readonly url?: string;
  /** The registry as client options or a client, instead of `url`. */
  readonly client?: SchemaRegistryClient | SchemaRegistryClientOptions;
  /** How subjects are named; default `TopicNameStrategy` (`<topic>-key` / `<topic>-value`). */
  readonly subjectNameStrategy?: SubjectNameStrategy;
  /**
   * Registers the writer schema under its subjects at start (the registry checks its compatibility).
   * Default false: the schema must already be registered there, and start() fails with the subject's name
   * otherwise.
   */
  readonly autoRegister?: boolean;
  /** A key serde (subjects `<topic>-key`) rather than a value serde; default false. */
  readonly isKey?: boolean;
}

export interface AvroRegistrySerdeOptions extends SchemaRegistrySerdeOptions {
  /** The schema values are written with; without it the serde only reads. */
  readonly schema?: AvroSchema;
  /**
   * The schema values are read into (default `schema`): values written with any other registered schema
   * are resolved into it by Avro's rules. Without both, values are read as their writer schema says.
   */
  readonly readerSchema?: AvroSchema;
}

export interface JsonSchemaRegistrySerdeOptions extends SchemaRegistrySerdeOptions {
  /** The JSON Schema values are written with (its `title` is the record name); without it the serde only reads. */
  readonly schema?: JsonSchema;
}

function clientOf(options: SchemaRegistrySerdeOptions): SchemaRegistryClient {
  const { client, url } = options;
  if (client !== undefined && 'schemaById' in client) return client;
  if (client !== undefined) return schemaRegistryClient(client);
  if (url === undefined) throw new Error('A Schema Registry serde needs the registry: give url or client');
  return schemaRegistryClient(url);
}

function settingsOf(options: SchemaRegistrySerdeOptions) {
  return {
    subjectNameStrategy: options.subjectNameStrategy ?? 'TopicNameStrategy',
    autoRegister: options.autoRegister ?? false,
    isKey: options.isKey ?? false,
  } as const;
}

/**
 * Serdes in Confluent Schema Registry's wire format (magic byte 0, 4-byte schema id, body), readable and
 * writable by every Confluent-compatible producer and consumer. They stay synchronous on the hot path:
 * `KafkaStreams.start()` initializes them (writer schema ids, and every schema registered under their
 * subjects), each fetched input batch fetches the schema ids it brings before its records are read, and a
 * value with an id that could not be fetched fails its deserialization (the deserialization exception
 * handler decides). With the TopologyTestDriver, `await initializeSerdes(topology)` first.
 *
 * Protobuf (whose framing adds message indexes) is not supported.
 */
export const SchemaRegistrySerdes = {
  /** Avro values: see {@link AvroRegistrySerdeOptions}. */
  avro<T>(options: AvroRegistrySerdeOptions): RegistrySerde<T> {
    return new RegistrySerde<T>(new AvroFormat<T>(options.schema, options.readerSchema), clientOf(options), settingsOf(options));
  },
  /** JSON values with a JSON Schema: see {@link JsonSchemaRegistrySerdeOptions}. */
  jsonSchema<T>(options: JsonSchemaRegistrySerdeOptions): RegistrySerde<T> {
    return new RegistrySerde<T>(new JsonSchemaFormat<T>(options.schema), clientOf(options), settingsOf(options));
  },
};
