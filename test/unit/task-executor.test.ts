/**
 * The processing loop's wait for work (TaskExecutor.waitForWork), on stand-in tasks (no broker): however the
 * wait ends, the loop resumes only after the event loop has turned, so a wake-up that comes at once can
 * never make the loop go round in microtasks alone (issue 31: that starved timers, heartbeats and
 * acknowledgements, while each round added a flush waiter, until the heap was full).
 */
import { describe, expect, it } from 'vitest';
import type { BatchSender } from '../../src/client/producer.js';
import { resolveConfig } from '../../src/config/streams-config.js';
import { Consumed, Serdes, StreamsBuilder } from '../../src/index.js';
import { silentLogger } from '../../src/logging/logger.js';
import type { ActiveTask } from '../../src/runtime/active-task.js';
import type { KafkaClient } from '../../src/client/kafka-client.js';
import type { Committer } from '../../src/runtime/commit/committer.js';
import type { InputBuffers, RunningTask } from '../../src/runtime/input-buffers.js';
import { ProducerPipeline } from '../../src/runtime/producer-pipeline.js';
import { StreamThread } from '../../src/runtime/stream-thread.js';
import { TaskExecutor } from '../../src/runtime/task-executor.js';
import { ThreadState } from '../../src/runtime/thread-state.js';

const APP = 'task-executor-test';

function topology() {
  const builder = new StreamsBuilder();
  builder.stream('in', Consumed.with(Serdes.String(), Serdes.String())).to('out');
  return builder.build({ applicationId: APP });
}

/** An executor over the given running tasks; `errors` collects what it reports to the thread. */
function executor(guarantee: 'at_least_once' | 'exactly_once_v2', running: RunningTask[] = [], errors: string[] = []): TaskExecutor {
  // A producer bound of 500 records per task (the smallest there is, see TaskExecutor.producerBound).
  const config = resolveConfig({ applicationId: APP, bootstrapServers: ['unused:9092'], logger: silentLogger, processingGuarantee: guarantee, maxBufferedRecords: 500 });
  const inputs = { running: new Map(running.map((r) => [r.task.id, r])) } as unknown as InputBuffers;
  const tasks = new Map(running.map((r) => [r.task.id, r.task]));
  const committer = { isCommitting: () => false } as unknown as Committer;
  return new TaskExecutor(topology(), config, inputs, new ThreadState(() => {}), tasks, committer, {
    handleError: (e) => errors.push(`error ${e.message}`),
    fail: (e) => errors.push(`fail ${e.message}`),
  });
}

/** A running task whose producer failed with `records` records never acknowledged (above the bound of 500). */
async function taskWithFailedProducer(records: number): Promise<RunningTask> {
  const sender: BatchSender = { sendBatch: () => Promise.reject(new Error('broker said no')) };
  const pipeline = new ProducerPipeline(sender);
  for (let i = 0; i < records; i++) pipeline.enqueue({ topic: 'out', partition: 0, key: null, value: Buffer.from('v'), timestamp: i, headers: {} });
  pipeline.kick();
  await pipeline.flush().catch(() => {});
  expect(pipeline.error).toBeDefined();
  const task = { id: '0_0', state: 'running', subtopologyId: 0, pipeline } as unknown as ActiveTask;
  return { task, group: { nextIdleDeadline: undefined } } as unknown as RunningTask;
}

/** Rounds of `wait` the loop makes before a callback queued with setImmediate (the event loop's next turn) runs. */
async function roundsBeforeTheEventLoopTurns(wait: () => Promise<void>, cap = 1000): Promise<number> {
  let turned = false;
  setImmediate(() => (turned = true));
  let rounds = 0;
  while (!turned && rounds < cap) {
    await wait();
    rounds++;
  }
  return rounds;
}

describe('TaskExecutor.waitForWork', () => {
  it('resumes the loop after a wake-up only once the event loop has turned', async () => {
    const e = executor('at_least_once');
    let resumed = false;
    const waiting = e.waitForWork().then(() => (resumed = true));
    // A wake-up from a promise that settled at once (a commit that had nothing to do).
    await Promise.resolve().then(() => e.wake());
    for (let i = 0; i < 50; i++) await Promise.resolve();
    expect(resumed).toBe(false);
    await new Promise((r) => setImmediate(r));
    await waiting;
    expect(resumed).toBe(true);
  });

  it('a loop woken at once every round still lets the event loop turn between rounds', async () => {
    const e = executor('at_least_once');
    const rounds = await roundsBeforeTheEventLoopTurns(() => {
      const waiting = e.waitForWork();
      queueMicrotask(() => e.wake());
      return waiting;
    });
    expect(rounds).toBe(1);
  });

  it('a task whose producer failed above its bound does not make the loop spin (exactly-once: its commit recovers it)', async () => {
    const running = await taskWithFailedProducer(600);
    const errors: string[] = [];
    const e = executor('exactly_once_v2', [running], errors);
    const rounds = await roundsBeforeTheEventLoopTurns(() => e.waitForWork());
    expect(rounds).toBe(1);
    // Under exactly-once the failed pipeline is the commit's business, not the wait's.
    expect(errors).toEqual([]);
  });

  it('under at-least-once the failed producer is reported to the thread, and the loop waits for the event loop too', async () => {
    const running = await taskWithFailedProducer(600);
    const errors: string[] = [];
    const e = executor('at_least_once', [running], errors);
    const rounds = await roundsBeforeTheEventLoopTurns(() => e.waitForWork());
    expect(rounds).toBe(1);
    expect(errors).toEqual([expect.stringContaining('broker said no')]);
  });
});

describe('StreamThread: a full cache while the group rebalances', () => {
  it('starts no cache relief until the rebalance is over (no commit could run: the relief would end at once and start again)', () => {
    const config = resolveConfig({ applicationId: APP, bootstrapServers: ['unused:9092'], logger: silentLogger });
    const client = { partitionReader: () => ({}) } as unknown as KafkaClient;
    const metadata = { partitionsBySubtopology: new Map([[0, 1]]), partitionsByTopic: new Map([['in', 1], ['out', 1]]) };
    const thread = new StreamThread(client, topology(), config, metadata, { onError: () => {}, onRebalancing: () => {}, restoreListener: () => undefined });
    const internals = thread as unknown as {
      state: ThreadState;
      inputs: { running: Map<string, unknown> };
      manager: { relieveCaches(): Promise<void> };
      maybeCommit(): void;
    };
    // A running task whose cache is full.
    internals.inputs.running.set('0_0', { task: { id: '0_0', needsFlush: () => true }, group: { queues: [] } });
    let reliefs = 0;
    internals.manager.relieveCaches = () => {
      reliefs++;
      return Promise.resolve();
    };
    internals.state.rebalanceStarted();
    internals.maybeCommit();
    expect(reliefs).toBe(0);
    internals.state.assignmentApplied();
    internals.maybeCommit();
    expect(reliefs).toBe(1);
  });
});
