import { asError } from '../../errors/as-error.js';
import avro from 'avsc';
import type { AvroSchema } from '../avro-serde.js';
import type { RegisteredSchema } from './registry-client.js';
import type { SchemaFormat } from './schema-format.js';
import { HEADER_LENGTH, writeHeader } from './wire-format.js';

function typeOf(schema: AvroSchema): avro.Type {
  return avro.Type.forSchema((typeof schema === 'string' ? JSON.parse(schema) : schema) as avro.Schema);
}

/**
 * Avro bodies through avsc. A body written with another registered schema is read through avsc's
 * `createResolver` into the reader schema: added fields take their defaults, removed fields are skipped,
 * promoted types widen. Without a reader schema (and no writer schema) values are read as written.
 */
export class AvroFormat<T> implements SchemaFormat<T> {
  readonly schemaType = 'AVRO';
  readonly name: string;
  readonly writerSchema: string | undefined;
  readonly recordName: string | undefined;
  private readonly writerType: avro.Type | undefined;
  private readonly readerType: avro.Type | undefined;
  /** The reader schema's canonical JSON: a writer schema equal to it needs no resolver. */
  private readonly readerCanonical: string | undefined;
  /** Where `encode` writes (header, then body) before copying out; grown when a value needs more. */
  private scratch = Buffer.allocUnsafeSlow(1024);

  constructor(schema: AvroSchema | undefined, readerSchema: AvroSchema | undefined) {
    this.writerType = schema === undefined ? undefined : typeOf(schema);
    this.writerSchema = schema === undefined ? undefined : typeof schema === 'string' ? schema : JSON.stringify(schema);
    this.readerType = readerSchema === undefined ? this.writerType : typeOf(readerSchema);
    this.readerCanonical = this.readerType === undefined ? undefined : JSON.stringify(this.readerType.schema());
    const named = this.readerType ?? this.writerType;
    this.recordName = this.writerType?.name ?? named?.name;
    this.name = `RegistryAvro<${named?.name ?? named?.typeName ?? 'any'}>`;
  }

  encode(value: T, id: number): Buffer {
    const type = this.writerType!;
    // Encoded in place after the header, then copied once (avsc's toBuffer allocates a zeroed buffer per value).
    let end = type.encode(value, this.scratch, HEADER_LENGTH);
    if (end < 0) {
      // avsc returns minus the bytes missing.
      this.scratch = Buffer.allocUnsafeSlow(Math.max(this.scratch.length - end, 2 * this.scratch.length));
      end = type.encode(value, this.scratch, HEADER_LENGTH);
    }
    const out = Buffer.allocUnsafe(end);
    this.scratch.copy(out, HEADER_LENGTH, HEADER_LENGTH, end);
    writeHeader(out, id);
    return out;
  }

  readerFor(writer: RegisteredSchema): (body: Buffer) => T {
    if (writer.schemaType !== undefined && writer.schemaType !== 'AVRO') {
      throw new Error(`schema id ${writer.id} is a ${writer.schemaType} schema, not Avro`);
    }
    const writerType = typeOf(writer.schema);
    const reader = this.readerType;
    if (reader === undefined || JSON.stringify(writerType.schema()) === this.readerCanonical) {
      const type = reader ?? writerType;
      return (body) => type.fromBuffer(body) as T;
    }
    let resolver: avro.Resolver;
    try {
      resolver = reader.createResolver(writerType);
    } catch (err) {
      throw new Error(
        `values written with schema id ${writer.id} cannot be read with the reader schema ${this.readerCanonical}: ${asError(err).message}`,
        { cause: err },
      );
    }
    return (body) => reader.fromBuffer(body, resolver) as T;
  }
}
