import avro from 'avsc';
import type { Serde } from './serde.js';

/** An Avro schema as JSON (an object, or a JSON string). */
export type AvroSchema = Record<string, unknown> | string;

/**
 * Avro binary values through avsc. The schema is parsed once; encoding and decoding are synchronous.
 * (Writer-schema headers and schema evolution for stores come with the schema-evolution work.)
 */
export function avroSerde<T>(schema: AvroSchema): Serde<T> {
  const definition = typeof schema === 'string' ? (JSON.parse(schema) as Record<string, unknown>) : schema;
  const type = avro.Type.forSchema(definition as avro.Schema);
  return {
    name: `Avro<${type.name ?? type.typeName}>`,
    serialize: (value) => type.toBuffer(value),
    deserialize: (bytes) => type.fromBuffer(bytes) as T,
  };
}
