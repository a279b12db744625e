/**
 * FlushDeferral: which tasks a periodic commit leaves for a later one. Only while the thread catches up, and
 * only a task with nothing sent since its last commit, room in its cache, and a last commit recent enough.
 */
import { describe, expect, it } from 'vitest';
import { FlushDeferral, type DeferrableTask } from '../../src/runtime/commit/flush-deferral.js';

const NOW = 1_000_000;

function task(overrides: Partial<{ wrote: boolean; full: boolean; lastCommitAt: number }> = {}): DeferrableTask {
  const { wrote = false, full = false, lastCommitAt = NOW - 1000 } = overrides;
  return { wroteSinceCommit: wrote, lastCommitAt, needsFlush: () => full };
}

describe('FlushDeferral', () => {
  const deferral = new FlushDeferral(10_000, 30_000);

  it('defers a task catching up whose output all waits in its cache', () => {
    expect(deferral.defers(task(), NOW)).toBe(true);
  });

  it('tells a thread catching up (a backlog of its tasks together) from one near the ends of its inputs', () => {
    expect(deferral.catchingUp(10_000)).toBe(true);
    expect(deferral.catchingUp(9_999)).toBe(false);
  });

  it('commits a task that sent records since its last commit (they wait for these offsets, or a transaction is open)', () => {
    expect(deferral.defers(task({ wrote: true }), NOW)).toBe(false);
  });

  it('commits a task whose cache is full', () => {
    expect(deferral.defers(task({ full: true }), NOW)).toBe(false);
  });

  it('commits a task whose last commit is as old as the longest deferral', () => {
    expect(deferral.defers(task({ lastCommitAt: NOW - 30_000 }), NOW)).toBe(false);
    expect(deferral.defers(task({ lastCommitAt: NOW - 29_999 }), NOW)).toBe(true);
  });
});
