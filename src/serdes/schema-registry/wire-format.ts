/**
 * Confluent Schema Registry's wire format, written by every Confluent serializer (Java, librdkafka, the
 * Confluent JavaScript client): magic byte 0, the schema id as a 4-byte big-endian integer, then the body
 * (Avro binary, or JSON text for JSON Schema).
 */
export const MAGIC_BYTE = 0;
export const HEADER_LENGTH = 5;

/** The schema id of wire-format bytes, or undefined when they are not in the wire format. */
export function schemaIdOf(bytes: Buffer): number | undefined {
  return bytes.length >= HEADER_LENGTH && bytes[0] === MAGIC_BYTE ? bytes.readUInt32BE(1) : undefined;
}

/** Writes the magic byte and `id` at the start of `out`. */
export function writeHeader(out: Buffer, id: number): void {
  out[0] = MAGIC_BYTE;
  out.writeUInt32BE(id, 1);
}
