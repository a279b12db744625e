/**
 * Our record decoder must give exactly the record kafkajs' own decoder gives: a property test over random
 * records (timestamp deltas of any size and sign, offsets near and past 2^52, keys and values as bytes or
 * null, repeated and null header keys, log-append time), compared field by field.
 */
import fc from 'fast-check';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import '../../src/index.js';
import {
  RECORD_V0_MODULE,
  fastRecordDecoder,
  fastRecordDecodingActive,
  kafkajsRecordDecoder,
  type BatchContext,
  type KafkajsDecoder,
} from '../../src/client/kafkajs/record-decoder.js';

const require = createRequire(import.meta.url);
const Long = require('kafkajs/src/utils/long.js') as { fromString(v: string): unknown };
interface Encoder {
  writeInt8(v: number): Encoder;
  writeVarInt(v: number): Encoder;
  writeVarLong(v: unknown): Encoder;
  writeVarIntBytes(v: Buffer | null): Encoder;
  writeVarIntString(v: string | null): Encoder;
  readonly buffer: Buffer;
}
const Encoder = require('kafkajs/src/protocol/encoder.js') as new () => Encoder;
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => KafkajsDecoder;

const kafkajs = kafkajsRecordDecoder();
const ours = fastRecordDecoder(() => kafkajs);

const bytes = fc.oneof(fc.constant(null), fc.uint8Array({ maxLength: 30 }).map((a) => Buffer.from(a)));
const record = fc.record({
  attributes: fc.integer({ min: -128, max: 127 }),
  // Mostly small deltas; some past 7 varint bytes (2^48 and more), which only Long holds exactly.
  timestampDelta: fc.oneof(fc.integer({ min: -100_000, max: 100_000 }).map(BigInt), fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n })),
  offsetDelta: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  key: bytes,
  value: bytes,
  headers: fc.array(fc.tuple(fc.oneof(fc.constant(null), fc.constantFrom('a', 'b', '__proto__', 'kstreams.origin')), bytes), { maxLength: 4 }),
});
const context = fc.record({
  firstOffset: fc.oneof(fc.bigInt({ min: 0n, max: 10n ** 9n }), fc.bigInt({ min: 2n ** 52n - 10n, max: 2n ** 63n - 2n ** 32n })).map(String),
  firstTimestamp: fc.oneof(fc.constant(-1n), fc.bigInt({ min: 1_600_000_000_000n, max: 1_800_000_000_000n })).map(String),
  maxTimestamp: fc.bigInt({ min: 0n, max: 1_800_000_000_000n }).map(String),
  timestampType: fc.constantFrom(0, 1),
  isControlBatch: fc.boolean(),
  magicByte: fc.constant(2),
});

type Rec = typeof record extends fc.Arbitrary<infer T> ? T : never;

function encode(r: Rec): Buffer {
  const e = new Encoder()
    .writeInt8(r.attributes)
    .writeVarLong(Long.fromString(String(r.timestampDelta)))
    .writeVarInt(r.offsetDelta)
    .writeVarIntBytes(r.key)
    .writeVarIntBytes(r.value)
    .writeVarInt(r.headers.length);
  for (const [key, value] of r.headers) e.writeVarIntString(key).writeVarIntBytes(value);
  return e.buffer;
}

describe('record decoding', () => {
  it('is what kafkajs loads', () => {
    expect(fastRecordDecodingActive()).toBe(true);
    expect(require(RECORD_V0_MODULE)).not.toBe(kafkajs);
  });

  it('gives the record kafkajs gives, and leaves the decoder where kafkajs leaves it, for any record', () => {
    fc.assert(
      fc.property(context, fc.array(record, { minLength: 1, maxLength: 5 }), (batch, records) => {
        // One batch context for all records of a batch, as kafkajs' batch decoder passes it.
        const shared: BatchContext = { ...batch };
        for (const r of records) {
          const bytes = encode(r);
          const a = new Decoder(bytes);
          const b = new Decoder(bytes);
          const expected = kafkajs(a, shared);
          const actual = ours(b, shared);
          expect(actual).toEqual(expected);
          expect(Object.keys(actual)).toEqual(Object.keys(expected));
          expect(Object.keys(actual.headers)).toEqual(Object.keys(expected.headers));
          expect(b.offset).toBe(a.offset);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
