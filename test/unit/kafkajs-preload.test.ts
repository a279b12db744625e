/** The producer patch takes effect when kstreams-ts is imported before kafkajs, and says so when it does not. */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import '../../src/index.js';
import { linearGroupingActive } from '../../src/client/kafkajs/kafkajs-preload.js';

describe('the linear grouping of kafkajs producer messages', () => {
  it('is what kafkajs loads, and groups as kafkajs does (per partition, in order)', () => {
    expect(linearGroupingActive()).toBe(true);
    const group = createRequire(import.meta.url)('kafkajs/src/producer/groupMessagesPerPartition.js') as (args: unknown) => Record<number, unknown[]>;
    const messages = [1, 2, 3, 4, 5].map((n) => ({ n }));
    const grouped = group({ topic: 't', partitionMetadata: [{}, {}], messages, partitioner: ({ message }: { message: { n: number } }) => message.n % 2 });
    expect(grouped).toEqual({ 0: [{ n: 2 }, { n: 4 }], 1: [{ n: 1 }, { n: 3 }, { n: 5 }] });
  });
});
