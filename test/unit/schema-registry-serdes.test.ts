/**
 * Schema Registry serdes, what needs no registry: subject names, the wire format's checks, the errors of a
 * serde that was not initialized or meets an unknown schema id, and a registry that does not answer (a
 * closed port on 127.0.0.1: no HTTP server, real or mocked, is involved).
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  Consumed,
  DeserializationError,
  Grouped,
  initializeSerdes,
  Materialized,
  Produced,
  SchemaRegistryError,
  SchemaRegistrySerdes,
  Serdes,
  StreamsBuilder,
  TopologyTestDriver,
  type Serde,
  type SerdeLifecycle,
  type SerdeUsage,
} from '../../src/index.js';
import { withSchemaPrefetch } from '../../src/runtime/serde-initializer.js';
import { subjectName } from '../../src/serdes/schema-registry/subject-name-strategy.js';
import { schemaIdOf } from '../../src/serdes/schema-registry/wire-format.js';

const PAGE_VIEW = {
  type: 'record',
  name: 'PageView',
  namespace: 'example',
  fields: [{ name: 'url', type: 'string' }],
};

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('subject name strategies', () => {
  it('name subjects as Confluent serializers do', () => {
    expect(subjectName('TopicNameStrategy', 'views', false, 'example.PageView')).toBe('views-value');
    expect(subjectName('TopicNameStrategy', 'views', true, 'example.PageView')).toBe('views-key');
    expect(subjectName('RecordNameStrategy', 'views', false, 'example.PageView')).toBe('example.PageView');
    expect(subjectName('TopicRecordNameStrategy', 'views', false, 'example.PageView')).toBe('views-example.PageView');
    expect(subjectName((topic, isKey) => `${topic}.${isKey}`, 'views', true, undefined)).toBe('views.true');
    expect(() => subjectName('RecordNameStrategy', 'views', false, undefined)).toThrow(/needs a record name/);
  });

  it('a serde takes the record name from its schema (Avro full name, JSON Schema title) and isKey', () => {
    const url = 'http://127.0.0.1:1';
    expect(SchemaRegistrySerdes.avro({ url, schema: PAGE_VIEW, subjectNameStrategy: 'TopicRecordNameStrategy' }).subjectOf('t')).toBe('t-example.PageView');
    expect(SchemaRegistrySerdes.avro({ url, schema: PAGE_VIEW, isKey: true }).subjectOf('t')).toBe('t-key');
    expect(SchemaRegistrySerdes.jsonSchema({ url, schema: { title: 'Order', type: 'object' }, subjectNameStrategy: 'RecordNameStrategy' }).subjectOf('t')).toBe('Order');
  });
});

describe('Schema Registry serdes without a registry', () => {
  it('reads the schema id of wire-format bytes only', () => {
    expect(schemaIdOf(Buffer.from([0, 0, 0, 1, 2, 9]))).toBe(258);
    expect(schemaIdOf(Buffer.from([1, 0, 0, 1, 2, 9]))).toBeUndefined();
    expect(schemaIdOf(Buffer.from([0, 0, 0]))).toBeUndefined();
  });

  it('serialize before initialize says which subject is missing and how to initialize', () => {
    const serde = SchemaRegistrySerdes.avro({ url: 'http://127.0.0.1:1', schema: PAGE_VIEW });
    expect(() => serde.serialize({ url: '/' }, 'views')).toThrow(/views-value.*initializeSerdes\(topology\)/s);
  });

  it('bytes not in the wire format fail to deserialize with a clear message', () => {
    const serde = SchemaRegistrySerdes.avro({ url: 'http://127.0.0.1:1', schema: PAGE_VIEW });
    expect(() => serde.deserialize(Buffer.from([0xc3, 1, 2, 3, 4, 5]))).toThrow(/not in the schema registry wire format/);
  });

  it('an unknown schema id is a DeserializationError naming the id and topic, handled like any other', () => {
    const serde = SchemaRegistrySerdes.avro<{ url: string }>({ url: 'http://127.0.0.1:1', schema: PAGE_VIEW });
    const builder = new StreamsBuilder();
    builder.stream('views', Consumed.with(Serdes.String(), serde)).to('out', Produced.with(Serdes.String(), serde));
    const driver = new TopologyTestDriver(builder.build({ applicationId: 'unknown-id' }));
    const bytes = Buffer.from([0, 0, 0, 0, 42, 2, 0x2f]);
    let caught: unknown;
    try {
      driver.createInputTopic('views', Serdes.String(), Serdes.Buffer()).pipeInput('k', bytes);
    } catch (err) {
      caught = err;
    }
    driver.close();
    expect(caught).toBeInstanceOf(DeserializationError);
    expect((caught as Error).message).toMatch(/schema id 42 in views is unknown to RegistryAvro<example.PageView>/);
    expect((caught as Error).message).toMatch(/http:\/\/127\.0\.0\.1:1/);
  });

  it('a registry that does not answer fails initialize naming its URL', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const serde = SchemaRegistrySerdes.avro({ client: { url, maxRetries: 0 }, schema: PAGE_VIEW, autoRegister: true });
    await expect(serde.initialize({ topics: ['views'] })).rejects.toThrow(SchemaRegistryError);
    await expect(serde.initialize({ topics: ['views'] })).rejects.toThrow(new RegExp(`schema registry at ${url} did not answer`));
  });

  it('a fetch that fails is remembered for the error, never thrown from prefetch', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const serde = SchemaRegistrySerdes.avro({ client: { url, maxRetries: 0 }, schema: PAGE_VIEW });
    const bytes = Buffer.from([0, 0, 0, 0, 7, 2, 0x2f]);
    await serde.prefetch([{ key: null, value: bytes }], 'value');
    expect(() => serde.deserialize(bytes, 'views')).toThrow(/schema id 7 in views is unknown.*the last fetch failed: The schema registry at/s);
  });

  it('initializeSerdes tells each serde the topics it reads, those it writes, and the application\'s own', async () => {
    const usages = new Map<string, SerdeUsage>();
    /** A string serde with a lifecycle that keeps what it was told. */
    const recording = (name: string): Serde<string> & SerdeLifecycle => ({
      ...Serdes.String(),
      name,
      initialize: (usage?: SerdeUsage) => {
        usages.set(name, usage!);
        return Promise.resolve();
      },
    });
    const [views, stats] = [recording('views'), recording('stats')];
    const builder = new StreamsBuilder();
    builder
      .stream('page-views', Consumed.with(Serdes.String(), views))
      .selectKey((_k, v) => v)
      .groupByKey(Grouped.with(Serdes.String(), views))
      .aggregate(() => '', (_k, v, agg) => agg + v, Materialized.as<string, string>('totals').withValueSerde(stats))
      .toStream()
      .to('totals-out', Produced.with(Serdes.String(), stats));
    const topology = builder.build({ applicationId: 'app' });
    await initializeSerdes(topology);
    const repartition = topology.internalTopics.find((t) => t.kind === 'repartition')!.name;
    const sorted = (u: SerdeUsage | undefined) => ({
      topics: [...(u?.topics ?? [])].sort(),
      writtenTopics: [...(u?.writtenTopics ?? [])].sort(),
      internalTopics: [...(u?.internalTopics ?? [])].sort(),
    });
    expect(sorted(usages.get('views'))).toEqual({ topics: ['page-views', repartition].sort(), writtenTopics: [repartition], internalTopics: [repartition] });
    expect(sorted(usages.get('stats'))).toEqual({
      topics: ['app-totals-changelog', 'totals-out'],
      writtenTopics: ['app-totals-changelog', 'totals-out'],
      internalTopics: ['app-totals-changelog'],
    });
  });

  it('topologies without registry serdes: initializeSerdes does nothing, the batch handler stays as it is', async () => {
    const builder = new StreamsBuilder();
    builder.stream('in', Consumed.with(Serdes.String(), Serdes.String())).to('out');
    const topology = builder.build({ applicationId: 'plain' });
    await initializeSerdes(topology);
    const handler = async (): Promise<void> => {};
    expect(withSchemaPrefetch(topology, handler)).toBe(handler);
  });
});
