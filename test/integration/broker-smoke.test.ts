import kafkajs, { type Consumer, type EachMessagePayload } from 'kafkajs';

const { ConfigResourceTypes } = kafkajs;
import { afterEach, describe, expect, it } from 'vitest';
import { createTopics, kafkaClient, uniqueName, withAdmin } from './kafka-env.js';

const consumers: Consumer[] = [];
afterEach(async () => {
  await Promise.all(consumers.splice(0).map((c) => c.disconnect()));
});

/** Consumes `topic` from the beginning until `expected` messages arrived. */
async function consumeAll(
  topic: string,
  expected: number,
  readUncommitted: boolean,
  settleMs = 0,
): Promise<EachMessagePayload[]> {
  const consumer = kafkaClient().consumer({ groupId: uniqueName('smoke-group'), readUncommitted });
  consumers.push(consumer);
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: EachMessagePayload[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${seen.length}/${expected} messages arrived`)), 60_000);
    void consumer.run({
      eachMessage: async (payload) => {
        seen.push(payload);
        if (seen.length === expected) {
          clearTimeout(timer);
          setTimeout(resolve, settleMs);
        }
      },
    });
  });
  return seen;
}

describe('the real broker', () => {
  it('keeps per-key order across 4 partitions', async () => {
    const topic = uniqueName('smoke-order');
    await createTopics([{ topic, numPartitions: 4 }]);
    const producer = kafkaClient().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const keys = Array.from({ length: 20 }, (_, i) => `user-${i}`);
    const perKey = 50;
    for (let round = 0; round < perKey; round += 10) {
      const messages = [];
      for (let seq = round; seq < round + 10; seq++) {
        for (const key of keys) messages.push({ key, value: String(seq) });
      }
      await producer.send({ topic, messages });
    }
    await producer.disconnect();

    const seen = await consumeAll(topic, keys.length * perKey, false);
    const sequences = new Map<string, number[]>();
    const partitionOfKey = new Map<string, number>();
    for (const { message, partition } of seen) {
      const key = message.key!.toString();
      expect(partitionOfKey.get(key) ?? partition).toBe(partition);
      partitionOfKey.set(key, partition);
      sequences.set(key, [...(sequences.get(key) ?? []), Number(message.value!.toString())]);
    }
    expect(new Set(partitionOfKey.values()).size).toBeGreaterThan(1);
    for (const key of keys) {
      expect(sequences.get(key)).toEqual(Array.from({ length: perKey }, (_, i) => i));
    }
  });

  it('creates a compacted topic and reads its config back', async () => {
    const topic = uniqueName('smoke-compacted');
    await createTopics([
      { topic, numPartitions: 2, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
    ]);
    const described = await withAdmin((admin) =>
      admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] }],
      }),
    );
    const entry = described.resources[0]!.configEntries.find((e) => e.configName === 'cleanup.policy');
    expect(entry?.configValue).toBe('compact');
  });

  it('shows a read_committed consumer only the committed transaction', async () => {
    const topic = uniqueName('smoke-txn');
    await createTopics([{ topic, numPartitions: 1 }]);
    const producer = kafkaClient().producer({
      transactionalId: uniqueName('smoke-txn-id'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    const committed = await producer.transaction();
    await committed.send({ topic, messages: [{ value: 'kept-1' }, { value: 'kept-2' }] });
    await committed.commit();
    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [{ value: 'dropped-1' }, { value: 'dropped-2' }] });
    await aborted.abort();
    const last = await producer.transaction();
    await last.send({ topic, messages: [{ value: 'kept-3' }] });
    await last.commit();
    await producer.disconnect();

    // Give the consumer a moment past the expected count, so any aborted record would show up too.
    const committedView = await consumeAll(topic, 3, false, 1500);
    expect(committedView.map((p) => p.message.value!.toString())).toEqual(['kept-1', 'kept-2', 'kept-3']);
    const uncommittedView = await consumeAll(topic, 5, true);
    expect(uncommittedView.map((p) => p.message.value!.toString())).toContain('dropped-1');
  });
});
