/**
 * CONCURRENT_TRANSACTIONS is retried quickly, as the Java producer does: AddPartitionsToTxn after 20 ms (not
 * after kafkajs' 300 ms), AddOffsetsToTxn from 10 ms (kafkajs does not retry it).
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import '../../src/index.js';
import { EOS_MANAGER_MODULE, quickConcurrentTransactionRetryActive, withQuickConcurrentTransactionRetry } from '../../src/client/kafkajs/transaction-retry.js';

const concurrent = Object.assign(new Error('There is a pending transaction'), { type: 'CONCURRENT_TRANSACTIONS' });
const quick = { firstBackoffMs: 1, maxBackoffMs: 2, deadlineMs: 10_000 };
const none = { firstBackoffMs: 1, maxBackoffMs: 1, deadlineMs: 0 };

/** A manager whose two requests fail with `errors` in turn, then succeed; it counts the calls of each. */
function failingManager(errors: Error[]) {
  const fail = (n: number): Promise<void> => (errors[n] === undefined ? Promise.resolve() : Promise.reject(errors[n]));
  return {
    partitionCalls: 0,
    offsetCalls: 0,
    addPartitionsToTransaction(this: { partitionCalls: number }): Promise<void> {
      return fail(this.partitionCalls++);
    },
    sendOffsets(this: { offsetCalls: number }): Promise<void> {
      return fail(this.offsetCalls++);
    },
  };
}

describe('the quick retry of concurrent transactions', () => {
  it('is what kafkajs loads when kstreams-ts is imported first', () => {
    expect(quickConcurrentTransactionRetryActive()).toBe(true);
    const create = createRequire(import.meta.url)(EOS_MANAGER_MODULE) as unknown;
    expect(typeof create).toBe('function');
  });

  it('retries CONCURRENT_TRANSACTIONS until the coordinator accepts, keeping the manager as `this`', async () => {
    const manager = failingManager([concurrent, concurrent, concurrent]);
    const wrapped = withQuickConcurrentTransactionRetry(() => manager, quick, quick)({});
    await wrapped.addPartitionsToTransaction([{ topic: 't', partitions: [{ partition: 0 }] }]);
    expect(manager.partitionCalls).toBe(4);
    await wrapped.sendOffsets({ consumerGroupId: 'g', topics: [] });
    expect(manager.offsetCalls).toBe(4);
  });

  it('passes any other error through at once, for kafkajs to handle as before', async () => {
    const refused = Object.assign(new Error('Connection error'), { type: 'UNKNOWN' });
    const manager = failingManager([refused]);
    const wrapped = withQuickConcurrentTransactionRetry(() => manager, quick, quick)({});
    await expect(wrapped.addPartitionsToTransaction([])).rejects.toBe(refused);
    expect(manager.partitionCalls).toBe(1);
    await expect(wrapped.sendOffsets({})).rejects.toBe(refused);
    expect(manager.offsetCalls).toBe(1);
  });

  it('gives CONCURRENT_TRANSACTIONS back after its deadline', async () => {
    const manager = failingManager(Array.from({ length: 1000 }, () => concurrent));
    const wrapped = withQuickConcurrentTransactionRetry(() => manager, none, none)({});
    await expect(wrapped.addPartitionsToTransaction([])).rejects.toBe(concurrent);
    expect(manager.partitionCalls).toBe(1);
    await expect(wrapped.sendOffsets({})).rejects.toBe(concurrent);
    expect(manager.offsetCalls).toBe(1);
  });
});
