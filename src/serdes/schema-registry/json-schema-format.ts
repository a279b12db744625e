import type { RegisteredSchema } from './registry-client.js';
import type { SchemaFormat } from './schema-format.js';
import { HEADER_LENGTH, writeHeader } from './wire-format.js';

/** A JSON Schema, as an object or its JSON text. */
export type JsonSchema = Record<string, unknown> | string;

/**
 * JSON Schema bodies: the value as UTF-8 JSON text. Values are not validated against the schema here (the
 * registry checks the schema's compatibility; validate values in the topology if you need to).
 */
export class JsonSchemaFormat<T> implements SchemaFormat<T> {
  readonly schemaType = 'JSON';
  readonly name: string;
  readonly writerSchema: string | undefined;
  readonly recordName: string | undefined;

  constructor(schema: JsonSchema | undefined) {
    const definition = typeof schema === 'string' ? (JSON.parse(schema) as Record<string, unknown>) : schema;
    this.writerSchema = schema === undefined ? undefined : typeof schema === 'string' ? schema : JSON.stringify(schema);
    this.recordName = typeof definition?.title === 'string' ? definition.title : undefined;
    this.name = `RegistryJsonSchema<${this.recordName ?? 'any'}>`;
  }

  encode(value: T, id: number): Buffer {
    const text = JSON.stringify(value);
    const length = Buffer.byteLength(text, 'utf8');
    const out = Buffer.allocUnsafe(HEADER_LENGTH + length);
    writeHeader(out, id);
    out.write(text, HEADER_LENGTH, length, 'utf8');
    return out;
  }

  readerFor(writer: RegisteredSchema): (body: Buffer) => T {
    if (writer.schemaType !== 'JSON') {
      throw new Error(`schema id ${writer.id} is a ${writer.schemaType ?? 'AVRO'} schema, not a JSON Schema`);
    }
    return (body) => JSON.parse(body.toString('utf8')) as T;
  }
}
