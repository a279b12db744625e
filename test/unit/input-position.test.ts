/**
 * The invariant between a task and kafkajs' fetch position: a task processes each input partition as one
 * contiguous stream from its own position, so it never commits past a record it did not process. The case
 * that lost data: a task re-created in the same member after its transaction aborted (a broker outage, a
 * fencing), with no offset committed yet, received a batch fetched from where the aborted incarnation had
 * stopped, processed it, and committed past every record the aborted incarnation had processed.
 */
import { describe, expect, it } from 'vitest';
import { placeBatch, skippedBatchContinues } from '../../src/runtime/input-position.js';

const offsets = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => String(from + i));

describe('placeBatch', () => {
  it('processes a batch fetched at the task position from its first record', () => {
    expect(placeBatch(100n, 100n, offsets(100, 110))).toEqual({ kind: 'process', from: 0 });
  });

  it('skips what the task processed already when kafkajs rewound behind it', () => {
    expect(placeBatch(105n, 100n, offsets(100, 110))).toEqual({ kind: 'process', from: 5 });
    expect(placeBatch(110n, 100n, offsets(100, 110))).toEqual({ kind: 'processed' });
  });

  it('accepts gaps inside a batch fetched at or before the position (transaction markers, aborted records)', () => {
    expect(placeBatch(100n, 100n, ['101', '102', '105'])).toEqual({ kind: 'process', from: 0 });
    expect(placeBatch(103n, 99n, ['101', '102', '105'])).toEqual({ kind: 'process', from: 2 });
  });

  it('refuses a batch fetched past the task position: the records in between were never seen', () => {
    // The aborted incarnation processed [0, 6316); the re-created one starts at 0, kafkajs fetches at 6316.
    expect(placeBatch(0n, 6316n, offsets(6316, 7728))).toEqual({ kind: 'ahead' });
    expect(placeBatch(4999n, 5000n, offsets(5000, 5001))).toEqual({ kind: 'ahead' });
  });
});

describe('skippedBatchContinues', () => {
  it('moves a task past markers and aborted records only when they continue its position', () => {
    expect(skippedBatchContinues(100n, 100n)).toBe(true);
    expect(skippedBatchContinues(100n, 90n)).toBe(true);
    expect(skippedBatchContinues(0n, 6316n)).toBe(false);
  });
});
