import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { dropAbortedRecords, installAbortedTransactionFilter } from '../../src/client/kafkajs/aborted-transaction-filter.js';
import { markedSocketFactory } from '../../src/client/kafkajs/client-marks.js';
import { toBatch } from '../../src/client/kafkajs/kafkajs-internals.js';

const ABORT = Buffer.from([0, 0, 0, 0]);
const COMMIT = Buffer.from([0, 0, 0, 1]);

/** One record batch of `count` records by `producer` at `first`, transactional unless told otherwise. */
function batch(producer: string, first: number, count: number, inTransaction = true) {
  const ctx = { firstOffset: String(first), lastOffsetDelta: count - 1, producerId: producer, inTransaction };
  return Array.from({ length: count }, (_, i) => ({ offset: String(first + i), key: Buffer.from(`k${first + i}`), batchContext: ctx }));
}
function marker(producer: string, offset: number, key: Buffer) {
  return [{ offset: String(offset), key, isControlRecord: true, batchContext: { firstOffset: String(offset), lastOffsetDelta: 0, producerId: producer, inTransaction: true } }];
}
const offsets = (messages: Array<{ offset: string; isControlRecord?: boolean }>) => messages.filter((m) => m.isControlRecord !== true).map((m) => Number(m.offset));

describe('read_committed filtering of aborted transactions', () => {
  it('drops every aborted transaction a fetch starts inside, however many producers interleave', () => {
    // Producers A and B both abort; C commits. The fetch starts at 4, inside both aborted transactions.
    const log = [
      ...batch('A', 0, 2),
      ...batch('B', 2, 2),
      ...batch('A', 4, 2),
      ...batch('B', 6, 2),
      ...batch('C', 8, 2),
      ...marker('A', 10, ABORT),
      ...marker('B', 11, ABORT),
      ...marker('C', 12, COMMIT),
      ...batch('A', 13, 2),
      ...marker('A', 15, COMMIT),
      ...batch('N', 16, 2, false),
    ];
    const fetched = log.filter((m) => Number(m.offset) >= 4);
    const aborted = [
      { producerId: 'B', firstOffset: '2' },
      { producerId: 'A', firstOffset: '0' },
    ];
    expect(offsets(dropAbortedRecords(fetched, aborted))).toEqual([8, 9, 13, 14, 16, 17]);
  });

  it('keeps a producer’s later committed transaction after its aborted one', () => {
    const log = [...batch('A', 0, 3), ...marker('A', 3, ABORT), ...batch('A', 4, 3), ...marker('A', 7, COMMIT)];
    expect(offsets(dropAbortedRecords(log, [{ producerId: 'A', firstOffset: '0' }]))).toEqual([4, 5, 6]);
  });

  it('passes everything through when nothing aborted', () => {
    const log = [...batch('A', 0, 3), ...marker('A', 3, COMMIT)];
    expect(offsets(dropAbortedRecords(log, []))).toEqual([0, 1, 2]);
  });
});

describe('a fetch that holds only aborted records', () => {
  it('still moves the position past them (kafkajs sees a batch emptied by filtering, not an empty one)', () => {
    // The committed position is the first offset of a large aborted transaction: the whole fetch response
    // (cut by maxBytes before the abort marker) is aborted records of two producers.
    const fetched = [...batch('A', 100, 3), ...batch('B', 103, 3), ...batch('A', 106, 2)];
    const aborted = [
      { producerId: 'A', firstOffset: '100' },
      { producerId: 'B', firstOffset: '103' },
    ];
    const filtered = dropAbortedRecords(fetched, aborted);
    const result = toBatch('t', '100', { partition: 0, errorCode: 0, highWatermark: '200', messages: filtered as never });
    expect(result.messages).toEqual([]);
    // What kafkajs' runner checks before it resolves the offset of an all-filtered batch.
    const kafkajsBatch = result as unknown as { isEmptyDueToFiltering(): boolean; lastOffset(): string };
    expect(kafkajsBatch.isEmptyDueToFiltering()).toBe(true);
    expect(kafkajsBatch.lastOffset()).toBe('107');
    expect(result.messagesWithinOffset.map((m) => Number(m.offset))).toEqual([100, 101, 102, 103, 104, 105, 106, 107]);
  });
});

describe('the scope of the filter', () => {
  interface FakeBroker {
    connectionPool: { socketFactory: unknown };
    lookupRequest(): (request: unknown) => unknown;
    fetch(request: unknown): Promise<{ responses: Array<{ partitions: Array<{ messages: Array<{ isControlRecord?: boolean }> }> }> }>;
  }

  /** A kafkajs Broker (its real, patched fetch) whose request goes nowhere: it answers with `log`, A's transaction aborted. */
  function brokerWith(socketFactory: unknown): FakeBroker {
    const Broker = createRequire(import.meta.url)('kafkajs/src/broker/index.js') as { prototype: object };
    const send = Object.getOwnPropertySymbols(Broker.prototype).find((s) => s.description === 'private:Broker:sendRequest');
    expect(send).toBeDefined();
    const log = [...batch('A', 0, 2), ...batch('C', 2, 2)];
    return Object.assign(Object.create(Broker.prototype) as FakeBroker, {
      connectionPool: { socketFactory },
      lookupRequest: () => (request: unknown) => request,
      [send!]: async () => ({ responses: [{ partitions: [{ messages: log, abortedTransactions: [{ producerId: 'A', firstOffset: '0' }] }] }] }),
    });
  }
  const request = { replicaId: -1, isolationLevel: 1, topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: '0', maxBytes: 1000 }] }] };

  it('filters the fetches of our clients only: a kafkajs client of the application keeps kafkajs’ own behaviour', async () => {
    installAbortedTransactionFilter();
    const base = () => ({});
    const ours = await brokerWith(markedSocketFactory(base)).fetch(request);
    expect(offsets(ours.responses[0]!.partitions[0]!.messages as never)).toEqual([2, 3]);
    const theirs = await brokerWith(base).fetch(request);
    expect(offsets(theirs.responses[0]!.partitions[0]!.messages as never)).toEqual([0, 1, 2, 3]);
  });

  it('fails loudly when a broker has no socket factory to tell ours from others', async () => {
    installAbortedTransactionFilter();
    await expect(brokerWith(undefined).fetch(request)).rejects.toThrow(/socket factory/);
  });
});
