import { describe, expect, it } from 'vitest';
import { SchemaEvolutionError, Serdes } from '../../src/index.js';
import { AvroSerde } from '../../src/serdes/avro-serde.js';
import { rabinFingerprint } from '../../src/serdes/rabin-fingerprint.js';

const v1 = {
  type: 'record',
  name: 'Stats',
  fields: [
    { name: 'count', type: 'int' },
    { name: 'pages', type: { type: 'array', items: 'string' } },
  ],
};
const v2 = {
  type: 'record',
  name: 'Stats',
  fields: [
    { name: 'count', type: 'long' }, // promoted
    { name: 'errors', type: 'long', default: 0 }, // added with a default
  ], // pages removed
};
const incompatible = { type: 'record', name: 'Stats', fields: [{ name: 'count', type: 'string' }] };

describe('Avro serdes with schema evolution', () => {
  it('computes Avro CRC-64 fingerprints as the specification does', () => {
    // Test vectors of the Avro specification's reference implementations.
    expect(rabinFingerprint('"int"').readBigUInt64LE()).toBe(0x7275d51a3f395c8fn);
    expect(rabinFingerprint('"string"').readBigUInt64LE()).toBe(0x8f014872634503c7n);
  });

  it('writes single-object encoding: marker, fingerprint, body', () => {
    const serde = new AvroSerde<{ count: number; pages: string[] }>(v1);
    const bytes = serde.serialize({ count: 3, pages: ['/'] });
    expect([...bytes.subarray(0, 2)]).toEqual([0xc3, 0x01]);
    expect(bytes.subarray(2, 10)).toEqual(rabinFingerprint(serde.writerSchema));
    expect(serde.deserialize(bytes)).toEqual({ count: 3, pages: ['/'] });
  });

  it('writes values of any size, small ones after large ones included, each its own bytes', () => {
    const serde = new AvroSerde<{ count: number; pages: string[] }>(v1);
    const values = [1, 0, 200, 5000, 3, 100_000, 2].map((n) => ({ count: n, pages: Array.from({ length: n }, (_, i) => `/p${i}`) }));
    const written = values.map((v) => serde.serialize(v));
    expect(written.map((b) => serde.deserialize(b))).toEqual(values);
    expect(written.every((b) => b[0] === 0xc3 && b[1] === 0x01)).toBe(true);
  });

  it('reads values of an older schema once it learned that schema: defaults, removals, promotions', () => {
    const old = new AvroSerde<unknown>(v1);
    const current = Serdes.Avro<{ count: number; errors: number }>(v2) as AvroSerde<{ count: number; errors: number }>;
    const written = old.serialize({ count: 7, pages: ['/a', '/b'] });
    expect(() => current.deserialize(written)).toThrow(/unknown schema/);
    current.learnWriterSchema(old.writerSchema, 'stats');
    expect(current.deserialize(written)).toEqual({ count: 7, errors: 0 });
    expect(current.knownWriterSchemas()).toHaveLength(2);
  });

  it('refuses a schema it cannot read, naming the store, both schemas and the incompatibility', () => {
    const current = new AvroSerde<unknown>(incompatible);
    const old = new AvroSerde<unknown>(v1);
    let error: unknown;
    try {
      current.learnWriterSchema(old.writerSchema, 'session-stats');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SchemaEvolutionError);
    const message = (error as Error).message;
    expect(message).toContain("Store 'session-stats'");
    expect(message).toContain(old.writerSchema);
    expect(message).toContain(current.writerSchema);
    expect(message).toMatch(/int|string/);
  });

  it('rejects bytes that are not single-object encoded', () => {
    expect(() => new AvroSerde(v1).deserialize(Buffer.from('GET / HTTP/1.1'))).toThrow(/single-object/);
  });
});
