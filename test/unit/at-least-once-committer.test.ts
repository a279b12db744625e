/**
 * The at-least-once committer on a real task (LevelDB stores in a temporary folder, a real producer
 * pipeline over a sender that acknowledges at once) and a stand-in for the consumer's offset commit: commits
 * never overlap, local state is written before the group's offsets, and an offset commit the group refuses
 * while it rebalances is skipped without marking anything committed.
 */
import { describe, expect, it } from 'vitest';
import type { BatchSender, ProducedBatchMetadata } from '../../src/client/producer.js';
import type { OffsetToCommit } from '../../src/client/topic-partitions.js';
import { resolveConfig } from '../../src/config/streams-config.js';
import { Consumed, Materialized, Serdes, StreamsBuilder } from '../../src/index.js';
import { silentLogger } from '../../src/logging/logger.js';
import { ActiveTask } from '../../src/runtime/active-task.js';
import { AtLeastOnceCommitter } from '../../src/runtime/commit/at-least-once-committer.js';
import type { CommitCounters } from '../../src/runtime/commit/committer.js';
import { FlushDeferral } from '../../src/runtime/commit/flush-deferral.js';
import { ProducerPipeline } from '../../src/runtime/producer-pipeline.js';
import { RepartitionPurger } from '../../src/runtime/repartition-purger.js';
import { ThreadState } from '../../src/runtime/thread-state.js';
import { tempDirs } from './support/temp-dirs.js';

const S = Serdes.String();
const APP = 'committer';
const tempDir = tempDirs('kstreams-committer-');

/** A broker stand-in that acknowledges every request at once, at consecutive offsets per partition. */
class AcknowledgingSender implements BatchSender {
  requests = 0;
  private readonly next = new Map<string, number>();

  async sendBatch(request: Parameters<BatchSender['sendBatch']>[0]): Promise<ProducedBatchMetadata[]> {
    this.requests++;
    const metadata: ProducedBatchMetadata[] = [];
    for (const { topic, messages } of request.topicMessages) {
      for (const partition of new Set(messages.map((m) => m.partition ?? 0))) {
        const key = `${topic}:${partition}`;
        const base = this.next.get(key) ?? 0;
        this.next.set(key, base + messages.filter((m) => (m.partition ?? 0) === partition).length);
        metadata.push({ topicName: topic, partition, baseOffset: String(base) });
      }
    }
    return metadata;
  }
}

/** Task 0_0 of a count per key, running, with its stores in a fresh folder, and a committer for it. */
async function setup(commitOffsets: (offsets: OffsetToCommit[]) => Promise<void>, deferral?: FlushDeferral, cacheBytes = 1 << 20) {
  const builder = new StreamsBuilder();
  builder.stream('in', Consumed.with(S, S)).groupByKey().count(Materialized.as('counts'));
  const topology = builder.build({ applicationId: APP });
  const config = resolveConfig({ applicationId: APP, bootstrapServers: ['unused:9092'], stateDir: tempDir(), logger: silentLogger });
  const sender = new AcknowledgingSender();
  const pipeline = new ProducerPipeline(sender);
  const task = await ActiveTask.open(topology, 0, 0, config, silentLogger, pipeline, () => 1, cacheBytes, Number.NEGATIVE_INFINITY);
  task.setCommitted('in', 0, 0n);
  task.start();
  let offset = 0;
  /** Processes the next record of `in`, as the processing loop does. */
  const process = (key: string): void => {
    task.streamTask.process('in', 0, String(offset), S.serialize(key), S.serialize('v'), 1000 + offset, {});
    task.markConsumed('in', 0, BigInt(++offset));
  };
  const counters: CommitCounters = { commits: 0, commitLatencyTotalMs: 0 };
  const context = { state: new ThreadState(() => {}), counters, purger: new RepartitionPurger(() => undefined, new Set(), 0, silentLogger), logger: silentLogger, deferral };
  const committer = new AtLeastOnceCommitter(context, commitOffsets);
  /** The changelog position LevelDB holds for the count store (written by the commit's local half). */
  const position = (): bigint | undefined => task.streamTask.stores.get('counts')!.bytes.changelogPosition();
  return { task, process, committer, counters, sender, pipeline, position };
}

describe('AtLeastOnceCommitter', () => {
  it('never overlaps two commits: the second takes its snapshot after the first committed its offsets', async () => {
    const committed: string[] = [];
    const positions: Array<bigint | undefined> = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const h = await setup(async (offsets) => {
      committed.push(offsets.map((o) => `${o.topic}-${o.partition}@${o.offset}`).join(' '));
      positions.push(h.position());
      await gate;
    });
    try {
      h.process('a');
      const first = h.committer.commit([h.task], false);
      await new Promise((r) => setTimeout(r, 20));
      // The first commit waits for the group; processing goes on, and a second commit is asked for.
      h.process('b');
      const second = h.committer.commit([h.task], false);
      await new Promise((r) => setTimeout(r, 20));
      expect(committed).toEqual(['in-0@1']);
      // The second has not taken its snapshot: b's count is still in the cache, not in the pipeline.
      expect(h.pipeline.enqueuedTotal).toBe(1);
      expect(h.sender.requests).toBe(1);
      release();
      await Promise.all([first, second]);
      expect(committed).toEqual(['in-0@1', 'in-0@2']);
      // Each time, LevelDB held the flushed data and its changelog position before the offsets were committed.
      expect(positions).toEqual([1n, 2n]);
      expect(h.pipeline.enqueuedTotal).toBe(2);
      expect(h.task.hasUncommitted).toBe(false);
      expect(h.counters.commits).toBe(2);
    } finally {
      await h.task.close();
    }
  });

  it('skips an offset commit the group refuses while it rebalances: nothing is marked committed, and the next commit retries', async () => {
    let rebalancing = true;
    const committed: string[] = [];
    const h = await setup(async (offsets) => {
      if (rebalancing) throw Object.assign(new Error('The provided member is not known in the current generation'), { type: 'UNKNOWN_MEMBER_ID' });
      committed.push(offsets.map((o) => `${o.topic}-${o.partition}@${o.offset}`).join(' '));
    });
    try {
      h.process('a');
      await h.committer.commit([h.task], false);
      expect(h.task.hasUncommitted).toBe(true);
      expect(h.counters.commits).toBe(0);
      rebalancing = false;
      await h.committer.commit([h.task], false);
      expect(committed).toEqual(['in-0@1']);
      expect(h.task.hasUncommitted).toBe(false);
      expect(h.counters.commits).toBe(1);
    } finally {
      await h.task.close();
    }
  });

  it('fails a commit on any other error of the offset commit, and the next commit still runs', async () => {
    let refuse = true;
    const h = await setup(async () => {
      if (refuse) throw new Error('coordinator not available');
    });
    try {
      h.process('a');
      await expect(h.committer.commit([h.task], false)).rejects.toThrow('coordinator not available');
      expect(h.task.hasUncommitted).toBe(true);
      refuse = false;
      await h.committer.commit([h.task], false);
      expect(h.task.hasUncommitted).toBe(false);
    } finally {
      await h.task.close();
    }
  });

  it('a task closed while a commit writes LevelDB closes after the write, and a commit completed after close writes nothing', async () => {
    // An outage suspends (closes) a task while its commit's local half runs: LevelDB refused the batch on the
    // closing database ("Database is not open") and that refusal failed the thread.
    const h = await setup(async () => {});
    h.process('a');
    const first = h.task.prepareCommit(false);
    await h.pipeline.flush();
    const writing = h.task.completeCommit(first);
    const closing = h.task.close();
    await expect(writing).resolves.toBeUndefined();
    await closing;
    expect(h.task.state).toBe('closed');
    // The snapshot taken before close is never written once the task is closed.
    await expect(h.task.completeCommit(first)).resolves.toBeUndefined();
  });

  it('leaves a task catching up out of periodic commits while its cache holds all it wrote, never out of a handover', async () => {
    const committed: string[] = [];
    const h = await setup(async (offsets) => {
      committed.push(offsets.map((o) => `${o.topic}-${o.partition}@${o.offset}`).join(' '));
    }, new FlushDeferral(100, 60_000));
    try {
      h.process('a');
      h.process('a');
      h.task.recordsLag.set('in', 0, 500n);
      // Behind its input's end, all its output in its cache: the periodic commit leaves it whole (state and offsets).
      await h.committer.commit([h.task], false);
      expect(committed).toEqual([]);
      expect(h.pipeline.enqueuedTotal).toBe(0);
      expect(h.task.hasUncommitted).toBe(true);
      // Caught up: the next periodic commit takes it; key a was logged once for both records.
      h.process('a');
      h.task.recordsLag.set('in', 0, 0n);
      await h.committer.commit([h.task], false);
      expect(committed).toEqual(['in-0@3']);
      expect(h.pipeline.enqueuedTotal).toBe(1);
      // Behind again: a handover commits whatever the deferral says.
      h.process('b');
      h.task.recordsLag.set('in', 0, 500n);
      await h.committer.commit([h.task], true);
      expect(committed).toEqual(['in-0@3', 'in-0@4']);
      expect(h.task.hasUncommitted).toBe(false);
    } finally {
      await h.task.close();
    }
  });

  it('evicts a full cache without a commit: the coldest quarter is logged and written with its position, no offsets', async () => {
    const committed: string[] = [];
    // A budget of a few entries: before any flush measured one, an entry is charged 256 bytes, so 16 dirty
    // keys exceed 16 × 256 − 1 bytes (see WriteCache).
    const h = await setup(async (offsets) => {
      committed.push(offsets.map((o) => `${o.topic}-${o.partition}@${o.offset}`).join(' '));
    }, undefined, 16 * 256 - 1);
    try {
      for (let i = 0; i < 16; i++) h.process(`k${i}`);
      expect(h.task.needsFlush()).toBe(true);
      await h.committer.evict([h.task]);
      expect(committed).toEqual([]);
      expect(h.pipeline.enqueuedTotal).toBe(4);
      expect(h.position()).toBe(4n);
      expect(h.task.needsFlush()).toBe(false);
      // The commit after it logs the others only.
      await h.committer.commit([h.task], false);
      expect(committed).toEqual(['in-0@16']);
      expect(h.pipeline.enqueuedTotal).toBe(16);
      expect(h.position()).toBe(16n);
    } finally {
      await h.task.close();
    }
  });
});
