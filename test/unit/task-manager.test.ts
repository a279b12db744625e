/** The TaskManager's commit and handover decisions, on stand-in tasks and a stand-in consumer (no broker). */
import { describe, expect, it } from 'vitest';
import type { Admin } from '../../src/client/admin.js';
import type { KafkaClient } from '../../src/client/kafka-client.js';
import type { OffsetToCommit, TopicPartitions } from '../../src/client/topic-partitions.js';
import { resolveConfig } from '../../src/config/streams-config.js';
import { Consumed, Serdes, StreamsBuilder } from '../../src/index.js';
import { silentLogger } from '../../src/logging/logger.js';
import type { ActiveTask, CommitSnapshot } from '../../src/runtime/active-task.js';
import { StoreCommit } from '../../src/runtime/store-commit.js';
import type { ChangelogReader } from '../../src/runtime/changelog-reader.js';
import { emptyRecordCounts } from '../../src/runtime/record-counts.js';
import { RestoreProgress } from '../../src/runtime/restore-progress.js';
import type { TaskInputs } from '../../src/runtime/input-buffers.js';
import { TaskManager, type TaskManagerHost } from '../../src/runtime/task-manager.js';
import { ThreadState } from '../../src/runtime/thread-state.js';
import { formatTaskId, parseTaskId, type TaskId } from '../../src/processor/task-id.js';

/** A set of task ids, as an assignment carries them. */
const taskIds = (...ids: string[]): Set<TaskId> => new Set(ids.map((id) => formatTaskId(parseTaskId(id))));

const APP = 'task-manager-test';

function topology() {
  const builder = new StreamsBuilder();
  builder.stream('in', Consumed.with(Serdes.String(), Serdes.String())).to('out');
  return builder.build({ applicationId: APP });
}

/** A running task of sub-topology 0 that logs each step of a commit to `log`. */
function task(partition: number, log: string[], options: { failFlush?: Error } = {}) {
  const id = `0_${partition}`;
  const offsets = [{ topic: 'in', partition, offset: String(10 + partition), metadata: '{}' }];
  const stand = {
    id,
    state: 'running' as string,
    hasUncommitted: true,
    inputPartitions: [{ topic: 'in', partition }],
    transactions: undefined,
    streamTask: { counters: emptyRecordCounts() },
    pipeline: {
      stats: { records: 0, batches: 0 },
      flush: async () => {
        log.push(`flush ${id}`);
        if (options.failFlush !== undefined) throw options.failFlush;
      },
    },
    needsFlush: () => false,
    // Near the end of its input: periodic commits take it (see FlushDeferral).
    recordsBehind: () => 0,
    wroteSinceCommit: true,
    lastCommitAt: 0,
    hasPosition: () => true,
    setCommitted: () => {},
    prepareCommit: (handover: boolean): CommitSnapshot => {
      log.push(`snapshot ${id}${handover ? ' handover' : ''}`);
      return { offsets, local: StoreCommit.empty };
    },
    completeCommit: async () => {
      log.push(`write ${id}`);
    },
    markCommitted: () => {
      log.push(`committed ${id}`);
    },
    close: async () => {
      log.push(`close ${id}`);
      stand.state = 'closed';
    },
  };
  return stand as typeof stand & ActiveTask;
}

interface Harness {
  manager: TaskManager;
  log: string[];
  /** Resolves the commit of offsets in flight (they wait for it). */
  commitGate: { open(): void };
  state: ThreadState;
}

function harness(commitOffsets?: (offsets: OffsetToCommit[]) => Promise<void>, guarantee: 'at_least_once' | 'exactly_once_v2' = 'at_least_once'): Harness {
  const log: string[] = [];
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  // The harness starts after a rebalance: the state's first end of a rebalance is not logged.
  let started = false;
  const state = new ThreadState((rebalancing) => {
    if (started && !rebalancing) log.push('assignment applied');
  });
  state.assignmentApplied();
  started = true;
  const h: Harness = { manager: undefined as unknown as TaskManager, log, commitGate: { open: () => release() }, state };
  const inputs: TaskInputs = {
    pause: (p: TopicPartitions[]) => log.push(`pause ${p.map((x) => `${x.topic}-${x.partitions.join(',')}`).join(' ')}`),
    resume: (p: TopicPartitions[]) => log.push(`resume ${p.map((x) => `${x.topic}-${x.partitions.join(',')}`).join(' ')}`),
    seek: () => {},
    isFull: () => false,
    add: () => {},
    remove: (t) => log.push(`removed ${t.id}`),
  };
  const host: TaskManagerHost = {
    state,
    inputs,
    commitOffsets:
      commitOffsets ??
      (async (offsets) => {
        log.push(`commit offsets ${offsets.map((o) => `${o.topic}-${o.partition}@${o.offset}`).join(' ')}`);
        await gate;
      }),
    commitFinished: () => {},
    handleError: (e) => log.push(`error ${e.message}`),
    fail: (e) => log.push(`fail ${e.message}`),
  };
  const admin = { fetchTopicOffsets: async () => [] } as unknown as Admin;
  const config = resolveConfig({ applicationId: APP, bootstrapServers: ['unused:9092'], logger: silentLogger, processingGuarantee: guarantee });
  h.manager = new TaskManager(
    {} as KafkaClient,
    () => admin,
    topology(),
    config,
    { partitionsBySubtopology: new Map([[0, 2]]), partitionsByTopic: new Map([['in', 2], ['out', 2]]) },
    {} as ChangelogReader,
    new RestoreProgress(silentLogger),
    () => undefined,
    host,
  );
  return h;
}

/** Puts running tasks into a manager as if they had been created for the current assignment. */
function adopt(manager: TaskManager, tasks: ActiveTask[]): void {
  const internals = manager as unknown as { byId: Map<string, ActiveTask>; byPartition: Map<string, ActiveTask> };
  for (const t of tasks) {
    internals.byId.set(t.id, t);
    for (const { topic, partition } of t.inputPartitions) internals.byPartition.set(`${topic}:${partition}`, t);
  }
}

describe('TaskManager commits (at-least-once)', () => {
  it('takes every snapshot first, then flushes the output, writes local state, and only then commits the offsets', async () => {
    const h = harness();
    adopt(h.manager, [task(0, h.log), task(1, h.log)]);
    h.commitGate.open();
    await h.manager.commitAll(false);
    expect(h.log).toEqual([
      'snapshot 0_0',
      'snapshot 0_1',
      'flush 0_0',
      'flush 0_1',
      'write 0_0',
      'write 0_1',
      'commit offsets in-0@10 in-1@11',
      'committed 0_0',
      'committed 0_1',
    ]);
    expect(h.manager.counters.commits).toBe(1);
  });

  it('never overlaps two commits: the second takes its snapshot after the first committed', async () => {
    const h = harness();
    adopt(h.manager, [task(0, h.log)]);
    const first = h.manager.commitAll(false);
    const second = h.manager.commitAll(false);
    await new Promise((r) => setTimeout(r, 10));
    expect(h.log).toEqual(['snapshot 0_0', 'flush 0_0', 'write 0_0', 'commit offsets in-0@10']);
    h.commitGate.open();
    await Promise.all([first, second]);
    expect(h.log.slice(4)).toEqual(['committed 0_0', 'snapshot 0_0', 'flush 0_0', 'write 0_0', 'commit offsets in-0@10', 'committed 0_0']);
  });

  it('commits nothing when a pipeline lost output: the offsets never pass records not acknowledged', async () => {
    const h = harness();
    adopt(h.manager, [task(0, h.log, { failFlush: new Error('send failed') })]);
    await expect(h.manager.commitAll(false)).rejects.toThrow('send failed');
    expect(h.log.some((l) => l.startsWith('commit offsets') || l.startsWith('committed'))).toBe(false);
  });

  it('skips a commit the group refuses while it rebalances, without failing', async () => {
    const h = harness(async () => {
      throw Object.assign(new Error('The provided member is not known in the current generation'), { type: 'UNKNOWN_MEMBER_ID' });
    });
    adopt(h.manager, [task(0, h.log)]);
    await h.manager.commitAll(false);
    expect(h.log).not.toContain('committed 0_0');
    expect(h.manager.counters.commits).toBe(0);
  });

  it('leaves periodic commits to after a rebalance', async () => {
    const h = harness();
    adopt(h.manager, [task(0, h.log)]);
    h.state.rebalanceStarted();
    await h.manager.commitAll(false);
    expect(h.log).toEqual([]);
  });
});

describe('TaskManager handover', () => {
  it('commits a revoked task with the handover mark before closing it, and resumes the tasks that stay', async () => {
    const h = harness();
    const kept = task(0, h.log);
    const revoked = task(1, h.log);
    adopt(h.manager, [kept, revoked]);
    h.commitGate.open();
    const generation = h.manager.assign('member-1', taskIds('0_0'));
    h.manager.reconcileLater(generation, taskIds('0_0'));
    await h.manager.settled();
    expect(h.log).toEqual([
      'snapshot 0_1 handover',
      'flush 0_1',
      'write 0_1',
      'commit offsets in-1@11',
      'committed 0_1',
      'removed 0_1',
      'close 0_1',
      'resume in-0',
      'assignment applied',
    ]);
    expect([...h.manager.tasks.keys()]).toEqual(['0_0']);
    expect(h.manager.taskOf('in', 1)).toBeUndefined();
  });

  it('keeps the counters of a task it hands over, so totals never go down', async () => {
    const h = harness();
    const revoked = task(1, h.log);
    revoked.streamTask.counters.processed = 42;
    adopt(h.manager, [task(0, h.log), revoked]);
    h.commitGate.open();
    h.manager.reconcileLater(h.manager.assign('member-1', taskIds('0_0')), taskIds('0_0'));
    await h.manager.settled();
    expect(h.manager.retiredTaskCounters.processed).toBe(42);
  });
});

describe('TaskManager commits (exactly-once)', () => {
  it('writes local state only after the transaction committed, and a failed transaction writes none and closes the task', async () => {
    const h = harness(undefined, 'exactly_once_v2');
    const ok = task(0, h.log);
    const failing = task(1, h.log);
    Object.assign(ok, { transactions: { commit: async () => void h.log.push('transaction 0_0') } });
    Object.assign(failing, { transactions: { commit: async () => Promise.reject(new Error('transaction aborted by the broker')) } });
    adopt(h.manager, [ok, failing]);
    await h.manager.commitAll(false);
    expect(h.log.filter((l) => l.includes('0_0'))).toEqual(['snapshot 0_0', 'transaction 0_0', 'write 0_0', 'committed 0_0']);
    expect(h.log.filter((l) => l.includes('0_1') || l.startsWith('pause'))).toEqual(['snapshot 0_1', 'removed 0_1', 'pause in-1', 'close 0_1']);
    expect([...h.manager.tasks.keys()]).toEqual(['0_0']);
  });
});
