/**
 * Our Produce request encoder must put on the wire exactly the bytes kafkajs' own encoder does: a property
 * test over random requests (topics, partitions, keys and values as bytes, text or null, headers with
 * several values, timestamps in any order, transactional or not), compared byte for byte.
 */
import fc from 'fast-check';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import '../../src/index.js';
import {
  PRODUCE_V3_MODULE,
  fastProduceEncodingActive,
  fastProduceRequestV3,
  kafkajsProduceRequestV3,
  type ProduceRequestArgs,
} from '../../src/client/kafkajs/produce-request-v3.js';

const require = createRequire(import.meta.url);
const Long = require('kafkajs/src/utils/long.js') as { fromValue(v: unknown): unknown; fromString(v: string): unknown };

const kafkajs = kafkajsProduceRequestV3();
const ours = fastProduceRequestV3(kafkajs);

const bytesOrText = fc.oneof(
  fc.constant(null),
  fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
);
const headers = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 8 }),
  fc.oneof(fc.uint8Array({ maxLength: 12 }).map((a) => Buffer.from(a)), fc.string({ maxLength: 8 }), fc.array(fc.string({ maxLength: 4 }), { minLength: 1, maxLength: 3 })),
  { maxKeys: 3 },
);
// Epoch-ms timestamps as kafkajs receives them (decimal strings), a few hours either side, any order.
const timestamp = fc.integer({ min: 1_700_000_000_000, max: 1_700_020_000_000 }).map(String);
const message = fc.record({ key: bytesOrText, value: bytesOrText, timestamp, headers });
const partition = fc.record({
  partition: fc.nat(11),
  firstSequence: fc.nat(1_000_000),
  messages: fc.array(message, { minLength: 1, maxLength: 30 }),
});
const request = fc.record({
  acks: fc.constantFrom(-1, 1, 0),
  timeout: fc.nat(60_000),
  transactionalId: fc.oneof(fc.constant(null), fc.string({ minLength: 1, maxLength: 12 })),
  producerId: fc.oneof(fc.constant('-1'), fc.bigInt({ min: 0n, max: 2n ** 62n }).map(String)),
  producerEpoch: fc.nat(32_000),
  topicData: fc.array(
    fc.record({ topic: fc.string({ minLength: 1, maxLength: 30 }), partitions: fc.array(partition, { minLength: 1, maxLength: 3 }) }),
    { minLength: 1, maxLength: 3 },
  ),
});

describe('Produce request encoding', () => {
  it('writes the bytes kafkajs writes, for any uncompressed request', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const args: ProduceRequestArgs = { ...r, producerId: Long.fromString(r.producerId), compression: 0 };
        const expected = await kafkajs(args).encode();
        const actual = await ours(args).encode();
        expect(actual.buffer.equals(expected.buffer)).toBe(true);
        const [a, b] = [ours(args), kafkajs(args)];
        expect([a.apiKey, a.apiVersion, a.apiName, a.expectResponse()]).toEqual([b.apiKey, b.apiVersion, b.apiName, b.expectResponse()]);
      }),
      { numRuns: 400 },
    );
  });

  it('hands compressed requests to kafkajs', async () => {
    const args: ProduceRequestArgs = {
      acks: -1,
      timeout: 1000,
      compression: 1, // gzip
      topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [{ key: 'k', value: 'v', timestamp: '1700000000000' }] }] }],
    };
    // gzip output embeds no clock, so both encodings are equal only if ours delegated.
    expect((await ours(args).encode()).buffer.equals((await kafkajs(args).encode()).buffer)).toBe(true);
  });

  it('is the encoder kafkajs uses once kstreams-ts is loaded first', () => {
    expect(fastProduceEncodingActive()).toBe(true);
    const v7 = require('kafkajs/src/protocol/requests/produce/v7/request.js') as (args: ProduceRequestArgs) => { apiVersion: number };
    expect(v7({ acks: -1, timeout: 1, topicData: [] }).apiVersion).toBe(7);
    expect(require.resolve(PRODUCE_V3_MODULE)).toContain('produce/v3/request.js');
  });
});
