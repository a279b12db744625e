/**
 * Schema Registry serdes against a real registry (Apicurio Registry's Confluent-compatible API, started by
 * scripts/local-schema-registry.ts unless SCHEMA_REGISTRY_URL names one) and a real broker. Records are
 * written and read by Confluent's own serializers (@confluentinc/schemaregistry), a code path other than
 * the serdes under test.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonDeserializer, JsonSerializer, AvroSerializer, SerdeType, type SchemaRegistryClient } from '@confluentinc/schemaregistry';
import { Consumed, KafkaStreams, Produced, SchemaRegistrySerdes, Serdes, StreamsBuilder, type AvroSchema, type Topology } from '../../src/index.js';
import { startLocalSchemaRegistry, type LocalSchemaRegistry } from '../../scripts/local-schema-registry.js';
import { oracleSessions } from '../../examples/sessionize/generator.js';
import { finalSessions, readTopic } from '../../examples/sessionize/kafka-io.js';
import { buildSessionizeTopology, type SessionizeOptions } from '../../examples/sessionize/topology.js';
import {
  confluentClient,
  confluentStatsReader,
  produceConfluentEvents,
  registerPageViewSchema,
  registrySerdes,
} from '../../examples/sessionize/confluent-io.js';
import { brokers, createTopics, kafkaClient, uniqueName } from './kafka-env.js';
import { appsUnderTest } from './apps-under-test.js';
import { PARTITIONS, SessionizeHarness, eventually, waitForState } from './sessionize-harness.js';

const S = Serdes.String();
const { apps, dirs } = appsUnderTest();
let registry: LocalSchemaRegistry | undefined;
let url = '';
let confluent: SchemaRegistryClient;

beforeAll(async () => {
  const given = process.env.SCHEMA_REGISTRY_URL;
  if (given !== undefined && given !== '') url = given;
  else {
    registry = await startLocalSchemaRegistry({ log: (line) => console.error(`[registry] ${line}`) });
    url = registry.url;
  }
  confluent = confluentClient(url);
  // The first run on a machine builds the registry with Maven.
}, 600_000);

afterAll(async () => {
  await registry?.stop();
});

function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kstreams-registry-test-'));
  dirs.push(dir);
  return dir;
}

async function startApp(topology: Topology, applicationId: string): Promise<KafkaStreams> {
  const app = new KafkaStreams(topology, { applicationId, bootstrapServers: brokers(), stateDir: stateDir(), commitIntervalMs: 200, logLevel: 'warn' });
  apps.push(app);
  await app.start();
  await waitForState(app, 'RUNNING');
  return app;
}

async function produce(topic: string, records: Array<[string, Buffer]>): Promise<void> {
  const producer = kafkaClient('registry-test-producer').producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic, messages: records.map(([key, value]) => ({ key, value })) });
  await producer.disconnect();
}

async function values(topic: string): Promise<string[]> {
  return (await readTopic(brokers(), topic, 1, false)).map(([, value]) => value?.toString() ?? 'null');
}

describe('Schema Registry serdes on a real registry', () => {
  it('aggregates page views a Confluent producer wrote, and the store survives a restore from its changelog', async () => {
    const h = new SessionizeHarness();
    await h.createTopics();
    await registerPageViewSchema(confluent, h.input);
    const events = SessionizeHarness.events(3000, 11, undefined, 0);
    const [first, rest] = [events.slice(0, 2000), events.slice(2000)];
    const producer = kafkaClient('confluent-producer').producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const build = (options: SessionizeOptions): Topology => buildSessionizeTopology({ ...options, ...registrySerdes(url) });
    const expectOracle = async (): Promise<void> => {
      const records = await readTopic(brokers(), h.output, PARTITIONS, true);
      const { sessions } = finalSessions(records, await confluentStatsReader(confluent, h.output, records));
      const expected = oracleSessions(h.produced);
      const missing = [...expected.keys()].filter((k) => !sessions.has(k));
      const extra = [...sessions.keys()].filter((k) => !expected.has(k));
      expect({ missing: missing.slice(0, 5), extra: extra.slice(0, 5) }).toEqual({ missing: [], extra: [] });
      for (const [id, session] of expected) expect(sessions.get(id), id).toEqual(session);
    };
    try {
      // By web server: every user's views are spread over all partitions and meet after the repartition.
      await produceConfluentEvents(producer, confluent, h.input, first, 1000, PARTITIONS);
      h.produced.push(...first);
      const one = await h.start(undefined, {}, build);
      await h.waitForLagZero();
      await expectOracle();
      await one.app.close();

      // A new instance with an empty state folder restores the sessions from the changelog, whose values are
      // in the wire format, and merges the rest of the views into them.
      await produceConfluentEvents(producer, confluent, h.input, rest, 1000, PARTITIONS);
      h.produced.push(...rest);
      const two = await h.start(undefined, {}, build);
      await h.waitForLagZero();
      expect(two.restoredTotal()).toBeGreaterThan(0);
      await expectOracle();

      // The application registered its own subjects: the repartition topic's (autoRegister off) and the
      // changelog's and output's (autoRegister on).
      const subjects = await confluent.getAllSubjects();
      expect(subjects).toEqual(
        expect.arrayContaining([
          `${h.input}-value`,
          `${h.applicationId}-session-stats-repartition-value`,
          `${h.applicationId}-session-stats-changelog-value`,
          `${h.output}-value`,
        ]),
      );
    } finally {
      await producer.disconnect();
      await h.cleanup();
    }
  }, 240_000);

  it('reads an evolved schema: a v1 reader reads v2 values, a v2 reader fills the new field of v1 values', async () => {
    const id = uniqueName('evolve');
    const [input, outV1, outV2] = [`${id}-in`, `${id}-out-v1`, `${id}-out-v2`];
    await createTopics([input, outV1, outV2].map((topic) => ({ topic, numPartitions: 1 })));
    const v1 = {
      type: 'record',
      name: 'Click',
      namespace: 'example.evolution',
      fields: [
        { name: 'user', type: 'string' },
        { name: 'page', type: 'string' },
      ],
    };
    const v2 = { ...v1, fields: [...v1.fields, { name: 'referrer', type: 'string', default: 'direct' }] };
    await confluent.register(`${input}-value`, { schemaType: 'AVRO', schema: JSON.stringify(v1) });
    const serializer = new AvroSerializer(confluent, SerdeType.VALUE, { useLatestVersion: true, autoRegisterSchemas: false });
    await produce(input, [['a', await serializer.serialize(input, { user: 'a', page: '/one' })]]);

    const reading = (readerSchema: AvroSchema, out: string, applicationId: string): Promise<KafkaStreams> => {
      const builder = new StreamsBuilder();
      builder
        .stream(input, Consumed.with(S, SchemaRegistrySerdes.avro<Record<string, string>>({ url, readerSchema })))
        .mapValues((click) => JSON.stringify(click))
        .to(out, Produced.with(S, S));
      return startApp(builder.build({ applicationId }), applicationId);
    };
    await reading(v1, outV1, `${id}-app-v1`);
    await reading(v2, outV2, `${id}-app-v2`);

    // v2 is registered after both applications started: its id reaches them with the batch that brings it.
    const v2Id = await confluent.register(`${input}-value`, { schemaType: 'AVRO', schema: JSON.stringify(v2) });
    // By id: the client caches the subject's latest version, which was v1 a moment ago.
    const withV2 = new AvroSerializer(confluent, SerdeType.VALUE, { useSchemaId: v2Id, autoRegisterSchemas: false });
    await produce(input, [['b', await withV2.serialize(input, { user: 'b', page: '/two', referrer: 'search' })]]);
    const ids = (await readTopic(brokers(), input, 1, false)).map(([, value]) => value!.readUInt32BE(1));
    expect(ids[1]).toBe(v2Id);
    expect(ids[0]).not.toBe(v2Id);

    await eventually(async () => (await values(outV1)).length === 2 && (await values(outV2)).length === 2, 'both readers wrote both clicks');
    expect(await values(outV1)).toEqual([JSON.stringify({ user: 'a', page: '/one' }), JSON.stringify({ user: 'b', page: '/two' })]);
    expect(await values(outV2)).toEqual([
      JSON.stringify({ user: 'a', page: '/one', referrer: 'direct' }),
      JSON.stringify({ user: 'b', page: '/two', referrer: 'search' }),
    ]);
  }, 120_000);

  it('round-trips JSON Schema values with Confluent JSON producers and consumers', async () => {
    const id = uniqueName('jsonschema');
    const [input, output] = [`${id}-orders`, `${id}-doubled`];
    await createTopics([input, output].map((topic) => ({ topic, numPartitions: 1 })));
    const orderSchema = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      title: 'Order',
      type: 'object',
      properties: { id: { type: 'string' }, amount: { type: 'number' } },
      required: ['id', 'amount'],
    };
    await confluent.register(`${input}-value`, { schemaType: 'JSON', schema: JSON.stringify(orderSchema) });
    const serializer = new JsonSerializer(confluent, SerdeType.VALUE, { useLatestVersion: true, autoRegisterSchemas: false });
    const orders = [
      { id: 'o1', amount: 2.5 },
      { id: 'o2', amount: 10 },
    ];
    await produce(input, await Promise.all(orders.map(async (o): Promise<[string, Buffer]> => [o.id, await serializer.serialize(input, o)])));

    type Order = { id: string; amount: number };
    const builder = new StreamsBuilder();
    builder
      .stream(input, Consumed.with(S, SchemaRegistrySerdes.jsonSchema<Order>({ url, schema: orderSchema })))
      .mapValues((order) => ({ ...order, amount: order.amount * 2 }))
      .to(output, Produced.with(S, SchemaRegistrySerdes.jsonSchema<Order>({ url, schema: orderSchema, autoRegister: true })));
    await startApp(builder.build({ applicationId: id }), id);

    await eventually(async () => (await readTopic(brokers(), output, 1, false)).length === 2, 'both orders doubled');
    const deserializer = new JsonDeserializer(confluent, SerdeType.VALUE, {});
    const written = await readTopic(brokers(), output, 1, false);
    const read = await Promise.all(written.map(([, value]) => deserializer.deserialize(output, value!) as Promise<Order>));
    expect(read).toEqual([
      { id: 'o1', amount: 5 },
      { id: 'o2', amount: 20 },
    ]);
    // Written with the id the registry gave the schema under the output topic's subject.
    const registered = await confluent.getLatestSchemaMetadata(`${output}-value`);
    expect(written.map(([, value]) => value!.readUInt32BE(1))).toEqual([registered.id, registered.id]);
    expect(registered.schemaType).toBe('JSON');
  }, 120_000);

  it('fails start() naming the subject when the writer schema is not registered and autoRegister is off', async () => {
    const id = uniqueName('unregistered');
    const [input, output] = [`${id}-in`, `${id}-out`];
    await createTopics([input, output].map((topic) => ({ topic, numPartitions: 1 })));
    const schema = { type: 'record', name: 'Nothing', fields: [{ name: 'n', type: 'int' }] };
    const builder = new StreamsBuilder();
    builder.stream(input, Consumed.with(S, S)).mapValues((v) => ({ n: v.length })).to(output, Produced.with(S, SchemaRegistrySerdes.avro({ url, schema })));
    const app = new KafkaStreams(builder.build({ applicationId: id }), { applicationId: id, bootstrapServers: brokers(), stateDir: stateDir(), logLevel: 'warn' });
    apps.push(app);
    const started = app.start();
    await expect(started).rejects.toThrow(`does not have the writer schema under the subject ${output}-value`);
    await expect(started).rejects.toThrow(/autoRegister is off: register the writer schema .* or create the serde with autoRegister: true/);
  }, 60_000);
});
