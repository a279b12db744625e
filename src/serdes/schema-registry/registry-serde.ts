import type { Serde } from '../serde.js';
import type { SchemaRegistrySerdes } from './schema-registry-serdes.js';
import type { RawRecord, SerdeLifecycle, SerdeUsage } from '../serde-lifecycle.js';
import { SchemaRegistryError, type RegisteredSchema, type SchemaRegistryClient } from './registry-client.js';
import type { SchemaFormat } from './schema-format.js';
import { subjectName, type SubjectNameStrategy } from './subject-name-strategy.js';
import { HEADER_LENGTH, MAGIC_BYTE } from './wire-format.js';
import { asError } from '../../errors/as-error.js';

/** How a registry serde names subjects and whether it registers its writer schema. */
export interface RegistrySerdeSettings {
  readonly subjectNameStrategy: SubjectNameStrategy;
  readonly autoRegister: boolean;
  readonly isKey: boolean;
}

/** What is known of a schema id: how to read its bodies, or why it cannot be read. */
type Reader<T> = { readonly read: (body: Buffer) => T } | { readonly failure: string };

/**
 * A serde in Confluent's wire format over a schema registry, synchronous on the hot path: every registry
 * call happens in `initialize` (writer schema ids, and every schema registered under the serde's subjects)
 * or in `prefetch` (ids met in a fetched batch that are not known yet). `serialize` and `deserialize` only
 * read caches; a value whose schema id is not cached fails with an error that says so, never waits.
 *
 * Contract: single-threaded, as every serde. `initialize` and `prefetch` may run while the serde is used:
 * they only add entries to its caches.
 */
export class RegistrySerde<T> implements Serde<T>, SerdeLifecycle {
  readonly name: string;
  /** The writer schema's id per topic; the entry for `undefined` serves values written without a topic (stores). */
  private readonly writerIds = new Map<string | undefined, number>();
  private readonly readers = new Map<number, Reader<T>>();
  /** Ids being fetched, so that concurrent prefetches of the same id share one request. */
  private readonly fetching = new Map<number, Promise<void>>();
  /** Why the latest fetch failed, for the error of the values it concerns. */
  private failedFetch: string | undefined;

  /** @internal Made by {@link SchemaRegistrySerdes}. */
  constructor(
    private readonly format: SchemaFormat<T>,
    /** The registry this serde reads its schemas from. */
    readonly client: SchemaRegistryClient,
    private readonly settings: RegistrySerdeSettings,
  ) {
    this.name = format.name;
  }

  /** The subject of `topic` under this serde's strategy. */
  subjectOf(topic: string): string {
    return subjectName(this.settings.subjectNameStrategy, topic, this.settings.isKey, this.format.recordName);
  }

  /**
   * For each topic: resolves the writer schema's id under the topic's subject where the serde writes
   * (registering it when `autoRegister`, or when the topic is the application's own), and learns every schema registered under that subject, so that values written by
   * earlier versions of the application (in its stores and changelogs) are readable at once.
   */
  async initialize(usage?: SerdeUsage): Promise<void> {
    const topics = usage?.topics ?? [];
    const internal = new Set(usage?.internalTopics ?? []);
    const written = new Set(usage?.writtenTopics ?? topics);
    await Promise.all(topics.map((topic) => this.initializeTopic(topic, written.has(topic), internal.has(topic))));
  }

  /**
   * An internal topic's subject is registered even without `autoRegister` when it is the topic's own
   * (named after it: the topic and topic-record strategies): the application is its only writer.
   */
  private async initializeTopic(topic: string, writes: boolean, internal: boolean): Promise<void> {
    const subject = this.subjectOf(topic);
    const writer = this.format.writerSchema;
    if (writer !== undefined && writes && !this.writerIds.has(topic)) {
      const register = this.settings.autoRegister || (internal && subject.startsWith(topic));
      const id = await this.client.idOf(subject, writer, this.format.schemaType, register);
      this.writerIds.set(topic, id);
      if (!this.writerIds.has(undefined)) this.writerIds.set(undefined, id);
      if (!this.readers.has(id)) this.learn({ id, schema: writer, schemaType: this.format.schemaType });
    }
    for (const schema of await this.client.versionsOf(subject)) {
      if (!this.readers.has(schema.id)) this.learn(schema);
    }
  }

  private learn(schema: RegisteredSchema): void {
    try {
      this.readers.set(schema.id, { read: this.format.readerFor(schema) });
    } catch (err) {
      this.readers.set(schema.id, { failure: asError(err).message });
    }
  }

  /** Fetches the schemas of ids in `records` that this serde has not met; undefined when there are none. */
  prefetch(records: readonly RawRecord[], part: 'key' | 'value'): Promise<void> | undefined {
    let missing: Set<number> | undefined;
    for (const record of records) {
      const bytes = part === 'key' ? record.key : record.value;
      if (bytes === null || bytes.length < HEADER_LENGTH || bytes[0] !== MAGIC_BYTE) continue;
      const id = bytes.readUInt32BE(1);
      if (!this.readers.has(id)) (missing ??= new Set()).add(id);
    }
    if (missing === undefined) return undefined;
    return Promise.all([...missing].map((id) => this.fetch(id))).then(() => undefined);
  }

  /** Learns the schema with this id; remembers a failure, which deserialize reports. Never rejects. */
  fetch(id: number): Promise<void> {
    let pending = this.fetching.get(id);
    if (pending === undefined) {
      pending = this.client
        .schemaById(id)
        .then(
          (schema) => this.learn(schema),
          (err: unknown) => {
            // Not cached: a later batch with this id asks again (the registry may have been away).
            this.failedFetch = asError(err).message;
          },
        )
        .finally(() => this.fetching.delete(id));
      this.fetching.set(id, pending);
    }
    return pending;
  }

  serialize(value: T, topic?: string): Buffer {
    const id = this.writerIds.get(topic) ?? this.writerIds.get(undefined);
    if (id === undefined) throw this.notInitialized(topic);
    return this.format.encode(value, id);
  }

  private notInitialized(topic: string | undefined): Error {
    if (this.format.writerSchema === undefined) {
      return new SchemaRegistryError(`${this.name} has no writer schema: give it a schema to write values`);
    }
    const where = topic === undefined ? 'any topic' : `the topic ${topic} (subject ${this.subjectOf(topic)})`;
    return new SchemaRegistryError(
      `${this.name} does not know its writer schema's id for ${where}: it was not initialized for it. ` +
        'KafkaStreams.start() initializes the serdes of its topology; with the TopologyTestDriver await ' +
        'initializeSerdes(topology) first, or await serde.initialize({ topics: [...] }) for a topic chosen at run time.',
    );
  }

  deserialize(bytes: Buffer, topic?: string): T {
    if (bytes.length < HEADER_LENGTH || bytes[0] !== MAGIC_BYTE) {
      throw new SchemaRegistryError(`not in the schema registry wire format (no magic byte 0 and schema id; ${bytes.length} bytes)`);
    }
    const id = bytes.readUInt32BE(1);
    const reader = this.readers.get(id);
    if (reader === undefined) throw this.unknownId(id, topic);
    if ('failure' in reader) throw new SchemaRegistryError(reader.failure);
    return reader.read(bytes.subarray(HEADER_LENGTH));
  }

  private unknownId(id: number, topic: string | undefined): Error {
    const where = topic === undefined ? '' : ` in ${topic}`;
    const why = this.failedFetch === undefined ? '' : ` (the last fetch failed: ${this.failedFetch})`;
    return new SchemaRegistryError(
      `schema id ${id}${where} is unknown to ${this.name}: it is not registered under its subjects and was not ` +
        `fetched from ${this.client.url}${why}. Check that the producer used this registry; input batches fetch ` +
        `their ids before they are read, other values need await serde.fetch(${id}) first.`,
    );
  }

  /** The ids whose schemas this serde can read (for tests and diagnostics). */
  knownSchemaIds(): number[] {
    return [...this.readers.keys()].filter((id) => !('failure' in this.readers.get(id)!));
  }
}
