/**
 * The sessionization example with a Schema Registry: page views written by a Confluent-format producer
 * (Confluent's own `@confluentinc/schemaregistry` serializer: magic byte 0, the schema id, the Avro body),
 * as most Kafka shops write Avro, and read by the same topology with registry serdes.
 */
import type { Producer } from 'kafkajs';
import { AvroDeserializer, AvroSerializer, SchemaRegistryClient, SerdeType } from '@confluentinc/schemaregistry';
import { SchemaRegistrySerdes, type Serde } from '../../src/index.js';
import type { GeneratedEvent } from './generator.js';
import { MALFORMED } from './kafka-io.js';
import { pageViewSchema, sessionStatsSchema, type PageView, type SessionStats, type SessionizeOptions } from './topology.js';

/** Confluent's client of the registry at `url`, as the other applications of a Kafka shop use it. */
export function confluentClient(url: string): SchemaRegistryClient {
  return new SchemaRegistryClient({ baseURLs: [url] });
}

/** Registers the page view schema under the input topic's subject, as the team owning the topic does; its id. */
export function registerPageViewSchema(client: SchemaRegistryClient, inputTopic: string): Promise<number> {
  return client.register(`${inputTopic}-value`, { schemaType: 'AVRO', schema: JSON.stringify(pageViewSchema) });
}

/**
 * Writes the events as `produceEvents` does (keyed by user, or by web server with `servers`), the values
 * serialized by Confluent's AvroSerializer with the subject's latest schema (no auto-registration);
 * malformed lines stay raw bytes.
 */
export async function produceConfluentEvents(
  producer: Producer,
  client: SchemaRegistryClient,
  topic: string,
  events: readonly GeneratedEvent[],
  batchSize = 5000,
  servers?: number,
): Promise<void> {
  const serializer = new AvroSerializer(client, SerdeType.VALUE, { useLatestVersion: true, autoRegisterSchemas: false });
  for (let i = 0; i < events.length; i += batchSize) {
    const batch = events.slice(i, i + batchSize);
    const values = await Promise.all(batch.map(({ view, malformed }) => (malformed ? Promise.resolve(MALFORMED) : serializer.serialize(topic, view))));
    const messages = batch.map(({ view }, j) => {
      const server = servers === undefined ? undefined : (i + j) % servers;
      return {
        key: server === undefined ? view.userId : `web-${server}`,
        value: values[j]!,
        timestamp: String(view.timestamp),
        partition: server,
      };
    });
    await producer.send({ topic, messages });
  }
}

/**
 * The topology's serdes in the registry's wire format: page views read with the registered schema (the
 * repartition topic's subject is registered by the application itself), session stats registered under
 * the output topic's and the store changelog's subjects at start.
 */
export function registrySerdes(url: string): Required<Pick<SessionizeOptions, 'viewSerde' | 'statsSerde'>> {
  const viewSerde: Serde<PageView> = SchemaRegistrySerdes.avro<PageView>({ url, schema: pageViewSchema });
  const statsSerde: Serde<SessionStats> = SchemaRegistrySerdes.avro<SessionStats>({ url, schema: sessionStatsSchema, autoRegister: true });
  return { viewSerde, statsSerde };
}

/**
 * Reads the output's values with Confluent's AvroDeserializer (another code path than the application's),
 * so a reader of `finalSessions` gets what any Confluent consumer would see.
 */
export async function confluentStatsReader(
  client: SchemaRegistryClient,
  topic: string,
  records: ReadonlyArray<[Buffer, Buffer | null]>,
): Promise<(bytes: Buffer) => SessionStats> {
  const deserializer = new AvroDeserializer(client, SerdeType.VALUE, {});
  const decoded = new Map<Buffer, SessionStats>();
  for (const [, value] of records) {
    if (value !== null) decoded.set(value, (await deserializer.deserialize(topic, value)) as SessionStats);
  }
  return (bytes) => decoded.get(bytes)!;
}
