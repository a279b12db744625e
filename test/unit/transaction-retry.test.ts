/** AddPartitionsToTxn's CONCURRENT_TRANSACTIONS is retried after 20 ms, as the Java producer does, not after kafkajs' 300 ms. */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import '../../src/index.js';
import { EOS_MANAGER_MODULE, quickConcurrentTransactionRetryActive, withQuickConcurrentTransactionRetry } from '../../src/client/kafkajs/transaction-retry.js';

const concurrent = Object.assign(new Error('There is a pending transaction'), { type: 'CONCURRENT_TRANSACTIONS' });

/** A manager whose addPartitionsToTransaction fails with `errors` in turn, then succeeds; it counts calls. */
function failingManager(errors: Error[]): { calls: number; addPartitionsToTransaction(topicData: unknown): Promise<void> } {
  const manager = {
    calls: 0,
    addPartitionsToTransaction(this: { calls: number }): Promise<void> {
      const error = errors[this.calls++];
      return error === undefined ? Promise.resolve() : Promise.reject(error);
    },
  };
  return manager;
}

describe('the quick retry of concurrent transactions', () => {
  it('is what kafkajs loads when kstreams-ts is imported first', () => {
    expect(quickConcurrentTransactionRetryActive()).toBe(true);
    const create = createRequire(import.meta.url)(EOS_MANAGER_MODULE) as unknown;
    expect(typeof create).toBe('function');
  });

  it('retries CONCURRENT_TRANSACTIONS until the coordinator accepts, keeping the manager as `this`', async () => {
    const manager = failingManager([concurrent, concurrent, concurrent]);
    const wrapped = withQuickConcurrentTransactionRetry(() => manager, 1, 10_000)({});
    await wrapped.addPartitionsToTransaction([{ topic: 't', partitions: [{ partition: 0 }] }]);
    expect(manager.calls).toBe(4);
  });

  it('passes any other error through at once, for kafkajs to handle as before', async () => {
    const refused = Object.assign(new Error('Connection error'), { type: 'UNKNOWN' });
    const manager = failingManager([refused]);
    const wrapped = withQuickConcurrentTransactionRetry(() => manager, 1, 10_000)({});
    await expect(wrapped.addPartitionsToTransaction([])).rejects.toBe(refused);
    expect(manager.calls).toBe(1);
  });

  it('gives CONCURRENT_TRANSACTIONS back to kafkajs after its deadline', async () => {
    const manager = failingManager(Array.from({ length: 1000 }, () => concurrent));
    const wrapped = withQuickConcurrentTransactionRetry(() => manager, 1, 0)({});
    await expect(wrapped.addPartitionsToTransaction([])).rejects.toBe(concurrent);
    expect(manager.calls).toBe(1);
  });
});
