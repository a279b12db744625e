import type { RegisteredSchema } from './registry-client.js';

/**
 * What differs between Avro and JSON Schema in a registry serde: the schema's type and name, how a value
 * becomes the body after the 5-byte header, and how a body written with some registered schema is read.
 */
export interface SchemaFormat<T> {
  /** The registry's schema type: `AVRO` or `JSON`. */
  readonly schemaType: 'AVRO' | 'JSON';
  /** The serde's name in messages, e.g. `RegistryAvro<example.PageView>`. */
  readonly name: string;
  /** The schema this serde writes, as sent to the registry; undefined for a serde that only reads. */
  readonly writerSchema: string | undefined;
  /** The record's full name, for the record-name subject strategies. */
  readonly recordName: string | undefined;
  /** The wire-format bytes of `value`: the header with `id`, then the body. */
  encode(value: T, id: number): Buffer;
  /** A function that reads bodies written with `writer`; throws when this serde cannot read them. */
  readerFor(writer: RegisteredSchema): (body: Buffer) => T;
}
