/**
 * OffsetFetch v7 (KIP-447's require_stable), byte by byte as Kafka's OffsetFetchRequest.json /
 * OffsetFetchResponse.json lay it out (flexible: compact strings and arrays, tagged fields), and the stable
 * fetch's waiting: on UNSTABLE_OFFSET_COMMIT, on a moving coordinator, bounded, and a fallback for old brokers.
 */
import { describe, expect, it } from 'vitest';
import type { RawCluster, RawProtocolRequest, RawRequestBroker } from '../../src/client/kafkajs/kafkajs-internals.js';
import { decodeOffsetFetchV7Response, encodeOffsetFetchV7Request, type OffsetFetchV7Response } from '../../src/client/kafkajs/offset-fetch-v7.js';
import { StableOffsetFetch, StableOffsetsTimeoutError } from '../../src/client/kafkajs/stable-offset-fetch.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('OffsetFetch v7 request', () => {
  it('writes header v2 tagged fields, compact strings and arrays, require_stable and the tagged fields', () => {
    const bytes = encodeOffsetFetchV7Request({ groupId: 'g', topics: [{ topic: 't', partitions: [0, 2] }], requireStable: true });
    const expected = [
      '00', // request header v2: no tagged fields
      '02 67', // group_id "g" (length + 1)
      '02', // topics: 1 (+ 1)
      '02 74', // name "t"
      '03 00000000 00000002', // partition_indexes [0, 2]
      '00', // topic: no tagged fields
      '01', // require_stable
      '00', // no tagged fields
    ];
    expect(bytes.toString('hex')).toBe(hex(expected.join('')).toString('hex'));
  });

  it('writes lengths over 127 as two-byte varints, and require_stable false as 0', () => {
    const group = 'g'.repeat(200);
    const bytes = encodeOffsetFetchV7Request({ groupId: group, topics: [], requireStable: false });
    // 201 = 0b1_1001001: low seven bits with the continuation bit (0xc9), then 0x01.
    expect(bytes.subarray(0, 3).toString('hex')).toBe('00c901');
    expect(bytes.subarray(3, 203).toString()).toBe(group);
    expect(bytes.subarray(203).toString('hex')).toBe('010000');
  });
});

describe('OffsetFetch v7 response', () => {
  const response = Buffer.concat([
    hex('01 05 02 aabb'), // response header v1: one tagged field (tag 5, 2 bytes), skipped
    hex('00000007'), // throttle_time_ms
    hex('02'), // topics: 1
    hex('02 74'), // name "t"
    hex('03'), // partitions: 2
    hex('00000000 000000000000002a ffffffff 00 0000 00'), // 0: offset 42, epoch -1, metadata null, no error
    hex('00000002 ffffffffffffffff 00000003 03 7b7d 0058 01 00 01 ff'), // 2: -1, epoch 3, "{}", UNSTABLE (88), a tagged field
    hex('00'), // topic: no tagged fields
    hex('0010'), // error_code 16 (NOT_COORDINATOR)
    hex('00'), // no tagged fields
  ]);

  it('reads every field, skips tagged fields, and keeps a null metadata null', () => {
    expect(decodeOffsetFetchV7Response(response)).toEqual({
      throttleTimeMs: 7,
      topics: [
        {
          topic: 't',
          partitions: [
            { partition: 0, offset: '42', leaderEpoch: -1, metadata: null, errorCode: 0 },
            { partition: 2, offset: '-1', leaderEpoch: 3, metadata: '{}', errorCode: 88 },
          ],
        },
      ],
      errorCode: 16,
    });
  });

  it('refuses a truncated answer', () => {
    expect(() => decodeOffsetFetchV7Response(response.subarray(0, 30))).toThrow();
  });
});

/** A fake coordinator answering the given responses in turn, recording each request's bytes. */
function fakeCluster(answers: OffsetFetchV7Response[], maxVersion = 8): { cluster: RawCluster; sent: Buffer[]; lookups: number[] } {
  const sent: Buffer[] = [];
  const lookups: number[] = [];
  const coordinator: RawRequestBroker = {
    versions: { 9: { minVersion: 1, maxVersion } },
    connectionPool: {
      send: async <T>({ request, response }: RawProtocolRequest<T>): Promise<T> => {
        const encoded = (await request.encode()) as { buffer: Buffer };
        sent.push(encoded.buffer);
        const answer = answers.shift();
        if (answer === undefined) throw new Error('no more answers');
        return response.parse(answer as T);
      },
    },
    disconnect: async () => {},
  };
  const cluster = {
    connect: async () => {},
    disconnect: async () => {},
    addMultipleTargetTopics: async () => {},
    refreshMetadataIfNecessary: async () => {},
    findTopicPartitionMetadata: () => [{ partitionId: 0 }, { partitionId: 1 }],
    findGroupCoordinator: async () => {
      lookups.push(Date.now());
      return coordinator;
    },
  } as unknown as RawCluster;
  return { cluster, sent, lookups };
}

const answer = (errorCode: number, partitionErrors: [number, number] = [0, 0]): OffsetFetchV7Response => ({
  throttleTimeMs: 0,
  errorCode,
  topics: [
    {
      topic: 'in',
      partitions: [
        { partition: 0, offset: '5', leaderEpoch: -1, metadata: '', errorCode: partitionErrors[0] },
        { partition: 1, offset: '-1', leaderEpoch: -1, metadata: '{"st":1}', errorCode: partitionErrors[1] },
      ],
    },
  ],
});
const OFFSETS = [{ topic: 'in', partitions: [{ partition: 0, offset: '5', metadata: null }, { partition: 1, offset: '-1', metadata: '{"st":1}' }] }];

function fetcher(cluster: RawCluster, timeoutMs = 5_000, unstableTimeoutMs?: number): { fetch: StableOffsetFetch; warnings: string[]; fallbacks: number } {
  const state = { warnings: [] as string[], fallbacks: 0 };
  const fetch = new StableOffsetFetch({
    cluster: () => cluster,
    fallback: async () => {
      state.fallbacks++;
      return OFFSETS;
    },
    warnUnsupported: (m) => state.warnings.push(m),
    timeoutMs,
    unstableTimeoutMs,
  });
  return {
    fetch,
    warnings: state.warnings,
    get fallbacks() {
      return state.fallbacks;
    },
  };
}

describe('a stable offset fetch', () => {
  it('asks for every partition with require_stable and answers in the shape of fetchOffsets', async () => {
    const { cluster, sent } = fakeCluster([answer(0)]);
    await expect(fetcher(cluster).fetch.fetch('app', ['in'])).resolves.toEqual(OFFSETS);
    expect(sent[0]!.toString('hex')).toBe(
      encodeOffsetFetchV7Request({ groupId: 'app', topics: [{ topic: 'in', partitions: [0, 1] }], requireStable: true }).toString('hex'),
    );
  });

  it('asks again while offsets are unstable, from the same coordinator', async () => {
    const { cluster, sent, lookups } = fakeCluster([answer(0, [88, 0]), answer(0, [0, 88]), answer(0)]);
    await expect(fetcher(cluster).fetch.fetch('app', ['in'])).resolves.toEqual(OFFSETS);
    expect(sent).toHaveLength(3);
    expect(lookups).toHaveLength(1);
  });

  it('looks the coordinator up again when it moved', async () => {
    const { cluster, sent, lookups } = fakeCluster([answer(16), answer(0, [14, 0]), answer(0)]);
    await expect(fetcher(cluster).fetch.fetch('app', ['in'])).resolves.toEqual(OFFSETS);
    expect(sent).toHaveLength(3);
    expect(lookups).toHaveLength(3);
  });

  it('never reads the older completed offsets while a transaction completes them: it warns at each interval and fails after its longer bound', async () => {
    const { cluster } = fakeCluster(Array.from({ length: 1000 }, () => answer(0, [0, 88])));
    const f = fetcher(cluster, 100, 350);
    const error = await f.fetch.fetch('app', ['in']).catch((e: unknown) => e);
    expect(f.fallbacks).toBe(0);
    expect(error).toBeInstanceOf(StableOffsetsTimeoutError);
    expect((error as Error).message).toMatch(/group app for in-1 stayed unstable .* for \d+ ms; the transaction that wrote them has not completed/);
    expect(((error as Error).cause as { type?: string }).type).toBe('UNSTABLE_OFFSET_COMMIT');
    expect(f.warnings.length).toBeGreaterThanOrEqual(1);
    expect(f.warnings[0]).toMatch(/group app for in-1 are still unstable after \d+ s/);
  });

  it('returns the offsets once the transaction completed, however long that took within the bound', async () => {
    const { cluster } = fakeCluster([...Array.from({ length: 30 }, () => answer(0, [0, 88])), answer(0)]);
    const f = fetcher(cluster, 50, 60_000);
    await expect(f.fetch.fetch('app', ['in'])).resolves.toEqual(OFFSETS);
    expect(f.fallbacks).toBe(0);
  });

  it('gives up after its time with an error naming the group when the coordinator keeps moving', async () => {
    const { cluster } = fakeCluster(Array.from({ length: 100 }, () => answer(16)));
    const error = await fetcher(cluster, 100).fetch.fetch('app', ['in']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StableOffsetsTimeoutError);
    expect((error as Error).message).toMatch(/group app for .*coordinator kept moving/);
  });

  it('throws any other error at once', async () => {
    const { cluster, sent } = fakeCluster([answer(0, [0, 30])]);
    await expect(fetcher(cluster).fetch.fetch('app', ['in'])).rejects.toMatchObject({ type: 'GROUP_AUTHORIZATION_FAILED' });
    expect(sent).toHaveLength(1);
  });

  it('reads as kafkajs does, with a warning, from a broker without version 7', async () => {
    const { cluster, sent } = fakeCluster([], 6);
    const f = fetcher(cluster);
    await expect(f.fetch.fetch('app', ['in'])).resolves.toEqual(OFFSETS);
    expect(sent).toHaveLength(0);
    expect(f.fallbacks).toBe(1);
    expect(f.warnings[0]).toMatch(/OffsetFetch up to version 6, without require_stable/);
  });
});
