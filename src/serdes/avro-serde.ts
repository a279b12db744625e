import avro from 'avsc';
import { asError } from '../errors/as-error.js';
import { SchemaEvolutionError } from '../errors/errors.js';
import { rabinFingerprint } from './rabin-fingerprint.js';
import type { Serde } from './serde.js';

/** An Avro schema as JSON (an object, or a JSON string). */
export type AvroSchema = Record<string, unknown> | string;

/** Avro single-object encoding: marker 0xC3 0x01, then the writer schema's 8-byte Rabin fingerprint. */
const MARKER_0 = 0xc3;
const MARKER_1 = 0x01;
const HEADER_LENGTH = 10;

/**
 * A serde whose values carry their writer schema's identity, so that values written by an older version of
 * the application can be read by a newer one. The runtime records the writer schemas it meets (in each
 * store's LevelDB metadata, and in its changelog as one schema record per partition rather than per value)
 * and teaches them to the serde before it reads those values.
 */
export interface SchemaEvolvingSerde {
  /** The schema this version writes, in Parsing Canonical Form. */
  readonly writerSchema: string;
  /**
   * Makes an older writer schema readable. Throws SchemaEvolutionError when the current schema cannot read
   * values written with it.
   */
  learnWriterSchema(schema: string, storeName: string): void;
}

/** True for a serde that can read values written with older schemas (an Avro serde). */
export function isSchemaEvolving(serde: unknown): serde is SchemaEvolvingSerde {
  return typeof (serde as Partial<SchemaEvolvingSerde> | undefined)?.learnWriterSchema === 'function';
}

interface Writer {
  readonly schema: string;
  readonly resolver: avro.Resolver | undefined;
}

/**
 * Avro values through avsc, in Avro's single-object encoding (readable by any Avro library's
 * `BinaryMessageDecoder`). A value written with an older schema is read through `createResolver` into the
 * current one: added fields take their defaults, removed fields are skipped, promoted types widen.
 */
export class AvroSerde<T> implements Serde<T>, SchemaEvolvingSerde {
  readonly name: string;
  readonly writerSchema: string;
  private readonly type: avro.Type;
  private readonly header: Buffer;
  /** Where `serialize` encodes (the header, then the value) before copying out; grown when a value needs more. */
  private scratch: Buffer;
  private readonly writers = new Map<string, Writer>();

  constructor(schema: AvroSchema) {
    const definition = typeof schema === 'string' ? (JSON.parse(schema) as Record<string, unknown>) : schema;
    this.type = avro.Type.forSchema(definition as avro.Schema);
    this.name = `Avro<${this.type.name ?? this.type.typeName}>`;
    this.writerSchema = JSON.stringify(this.type.schema());
    const fingerprint = rabinFingerprint(this.writerSchema);
    this.header = Buffer.concat([Buffer.from([MARKER_0, MARKER_1]), fingerprint]);
    this.scratch = this.scratchOf(1024);
    this.writers.set(fingerprint.toString('hex'), { schema: this.writerSchema, resolver: undefined });
  }

  /** Avro single-object encoding: the marker, the schema's fingerprint, then the binary value. */
  serialize(value: T): Buffer {
    // Encoded in place after the header, then copied once (avsc's toBuffer allocates a zeroed buffer per value).
    let end = this.type.encode(value, this.scratch, HEADER_LENGTH);
    if (end < 0) {
      // avsc returns minus the bytes missing.
      this.scratch = this.scratchOf(this.scratch.length - end);
      end = this.type.encode(value, this.scratch, HEADER_LENGTH);
    }
    const out = Buffer.allocUnsafe(end);
    this.scratch.copy(out, 0, 0, end);
    return out;
  }

  private scratchOf(minLength: number): Buffer {
    const scratch = Buffer.allocUnsafeSlow(Math.max(minLength, 2 * (this.scratch?.length ?? 0)));
    this.header.copy(scratch, 0);
    return scratch;
  }

  /** Reads a value written with this schema, or with a writer schema it has learned and can resolve. */
  deserialize(bytes: Buffer): T {
    if (bytes.length < HEADER_LENGTH || bytes[0] !== MARKER_0 || bytes[1] !== MARKER_1) {
      throw new Error(`not Avro single-object encoded (no 0xC301 marker; ${bytes.length} bytes)`);
    }
    // The common case, the current schema, without allocating.
    if (bytes.compare(this.header, 2, HEADER_LENGTH, 2, HEADER_LENGTH) === 0) {
      return this.type.fromBuffer(bytes.subarray(HEADER_LENGTH)) as T;
    }
    const writer = this.writers.get(bytes.toString('hex', 2, HEADER_LENGTH));
    if (writer === undefined) {
      throw new Error(
        `written with an unknown schema (fingerprint ${bytes.toString('hex', 2, HEADER_LENGTH)}); ` +
          'its schema reaches the serde through the store metadata or changelog headers',
      );
    }
    return this.type.fromBuffer(bytes.subarray(HEADER_LENGTH), writer.resolver) as T;
  }

  learnWriterSchema(schema: string, storeName: string): void {
    const writerType = avro.Type.forSchema(JSON.parse(schema) as avro.Schema);
    const canonical = JSON.stringify(writerType.schema());
    const key = rabinFingerprint(canonical).toString('hex');
    if (this.writers.has(key)) return;
    let resolver: avro.Resolver;
    try {
      resolver = this.type.createResolver(writerType);
    } catch (err) {
      throw new SchemaEvolutionError(storeName, canonical, this.writerSchema, asError(err).message);
    }
    this.writers.set(key, { schema: canonical, resolver });
  }

  /** Every writer schema this serde can read, current one included. */
  knownWriterSchemas(): string[] {
    return [...this.writers.values()].map((w) => w.schema);
  }
}

/** Avro values with schema evolution; see {@link AvroSerde}. */
export function avroSerde<T>(schema: AvroSchema): AvroSerde<T> {
  return new AvroSerde<T>(schema);
}
