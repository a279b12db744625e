/**
 * Issue 26: a task re-created under exactly-once must start from the offsets of the transaction its store is
 * restored from. kafkajs' OffsetFetch (v1–v4) answers from the group's last completed offsets while a
 * transaction's offsets are pending; our stable fetch (OffsetFetch v7, require_stable, KIP-447) waits until
 * the transaction commits or aborts, then answers with what it left.
 */
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin } from '../../src/client/admin.js';
import { createKafkajsClient } from '../../src/client/kafkajs/kafkajs-client.js';
import { brokers, createTopics, kafkaClient, uniqueName, withAdmin } from './kafka-env.js';

const topic = uniqueName('stable-offsets-in');
let producer: Producer;
let admin: Admin;

beforeAll(async () => {
  await createTopics([{ topic, numPartitions: 2 }]);
  producer = kafkaClient('stable-offsets-txn').producer({ transactionalId: uniqueName('stable-offsets-txn'), idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  admin = createKafkajsClient({ brokers: brokers(), clientId: 'stable-offsets', connection: {} }).admin();
  await admin.connect();
});

afterAll(async () => {
  await admin?.disconnect();
  await producer?.disconnect();
});

/** The group's committed offset of partition 0, as kafkajs' own (unstable) OffsetFetch reads it. */
async function kafkajsOffset(groupId: string): Promise<string | undefined> {
  const [t] = await withAdmin((a) => a.fetchOffsets({ groupId, topics: [topic] }));
  return t?.partitions.find((p) => p.partition === 0)?.offset;
}

/** Starts a stable fetch; `settled()` tells whether it answered yet. */
function stableFetch(groupId: string): { offset: Promise<string | undefined>; settled: () => boolean } {
  let settled = false;
  const offset = admin.fetchCommittedOffsets({ groupId, topics: [topic], requireStable: true }).then(
    ([t]) => t?.partitions.find((p) => p.partition === 0)?.offset,
  );
  void offset.then(
    () => (settled = true),
    () => (settled = true),
  );
  return { offset, settled: () => settled };
}

/** A transaction that commits `offset` for partition 0 of the group, left open. */
async function openTransactionCommitting(groupId: string, offset: string): Promise<Awaited<ReturnType<Producer['transaction']>>> {
  const transaction = await producer.transaction();
  await transaction.sendOffsets({ consumerGroupId: groupId, topics: [{ topic, partitions: [{ partition: 0, offset }] }] });
  return transaction;
}

describe('committed offsets under a pending transaction', () => {
  it('are read stably: not while the transaction is open, its offsets once it commits, the old ones once it aborts', async () => {
    const groupId = uniqueName('stable-offsets-group');
    await withAdmin((a) => a.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '5' }] }));
    // Nothing pending: the stable fetch answers at once, with every partition (-1 where nothing is committed).
    const [before] = await admin.fetchCommittedOffsets({ groupId, topics: [topic], requireStable: true });
    expect(before?.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual([
      [0, '5'],
      [1, '-1'],
    ]);

    const committing = await openTransactionCommitting(groupId, '9');
    // (a) The hazard: kafkajs' fetch answers from before the open transaction.
    expect(await kafkajsOffset(groupId)).toBe('5');
    // (b) The stable fetch waits for the transaction to finish...
    const afterCommit = stableFetch(groupId);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    if (afterCommit.settled()) await afterCommit.offset; // an error shows as itself
    expect(afterCommit.settled()).toBe(false);
    await committing.commit();
    // ...and answers with its offsets.
    expect(await afterCommit.offset).toBe('9');

    // (c) Offsets of an aborted transaction are never returned: the stable fetch answers with the old ones.
    const aborting = await openTransactionCommitting(groupId, '12');
    const afterAbort = stableFetch(groupId);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    if (afterAbort.settled()) await afterAbort.offset; // an error shows as itself
    expect(afterAbort.settled()).toBe(false);
    await aborting.abort();
    expect(await afterAbort.offset).toBe('9');
    expect(await kafkajsOffset(groupId)).toBe('9');
  });

  it("asked for one partition, are not held up by another partition's open transaction", async () => {
    // A task asks for its own partition: another task's transaction left open by an outage ends only when
    // that task's next producer starts, and both instances timed out waiting for each other (CI, Kafka 4.4.0).
    const groupId = uniqueName('stable-offsets-group');
    await withAdmin((a) => a.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '5' }, { partition: 1, offset: '7' }] }));
    const transaction = await producer.transaction();
    await transaction.sendOffsets({ consumerGroupId: groupId, topics: [{ topic, partitions: [{ partition: 1, offset: '8' }] }] });
    const [mine] = await admin.fetchCommittedOffsets({ groupId, topics: [topic], partition: 0, requireStable: true });
    expect(mine?.partitions.map((p) => [p.partition, p.offset])).toEqual([[0, '5']]);
    await transaction.abort();
  });
});

