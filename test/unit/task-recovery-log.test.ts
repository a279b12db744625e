/**
 * A rebalance under exactly-once is often seen first as a fence (the new owner's producer fences ours):
 * TaskRecovery logs the tasks that moved away once, at INFO, instead of WARN lines per task.
 */
import { describe, expect, it } from 'vitest';
import type { Admin } from '../../src/client/admin.js';
import { resolveConfig } from '../../src/config/streams-config.js';
import { Consumed, Serdes, StreamsBuilder } from '../../src/index.js';
import type { Logger } from '../../src/logging/logger.js';
import type { TaskId } from '../../src/processor/task-id.js';
import type { ActiveTask } from '../../src/runtime/active-task.js';
import { TaskRecovery, type RecoveryHost } from '../../src/runtime/task-recovery.js';
import { TaskFencedError } from '../../src/runtime/task-transactions.js';

function recoveryDuringRebalance(lines: string[]): { recovery: TaskRecovery; runLater: () => Promise<void>; created: TaskId[] } {
  const builder = new StreamsBuilder();
  builder.stream('in', Consumed.with(Serdes.String(), Serdes.String())).to('out');
  const topology = builder.build({ applicationId: 'eos-log' });
  const at = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
  const logger: Logger = { debug() {}, info: at('INFO'), warn: at('WARN'), error: at('ERROR') };
  const config = resolveConfig({ applicationId: 'eos-log', bootstrapServers: ['127.0.0.1:9092'], logger });
  // The group is rebalancing: its description still shows the previous assignment.
  const admin = { describeGroup: async () => ({ state: 'PreparingRebalance', members: [] }) } as unknown as Admin;
  const work: Array<() => Promise<void>> = [];
  const created: TaskId[] = [];
  const host = {
    state: { stopped: false, membershipLost: false },
    inputs: { pause() {}, resume() {} },
    memberId: () => 'me',
    remove: () => true,
    wanted: () => true,
    later: (w: () => Promise<void>) => void work.push(w),
    create: async (id: TaskId) => void created.push(id),
    handleError: (e: Error) => {
      throw e;
    },
  } as unknown as RecoveryHost;
  const recovery = new TaskRecovery(() => admin, topology, config, host);
  const runLater = async (): Promise<void> => {
    for (const w of work.splice(0)) await w();
  };
  return { recovery, runLater, created };
}

describe('a rebalance under exactly-once', () => {
  it('logs the tasks fenced away once, at INFO', async () => {
    const lines: string[] = [];
    const { recovery, runLater, created } = recoveryDuringRebalance(lines);
    for (const id of ['0_1', '0_3', '0_5']) recovery.recreate({ id } as ActiveTask, new TaskFencedError(`task ${id} was fenced`));
    expect(lines).toEqual([]);
    await runLater();
    expect(created).toEqual([]);
    expect(lines).toEqual([
      "INFO the group rebalanced under exactly-once: tasks 0_1 (being reassigned), 0_3 (being reassigned), 0_5 (being reassigned) moved to another instance, whose producer fenced this one's; dropped here, nothing was lost (their uncommitted transactions are aborted)",
    ]);
  });

  it('a failed transaction that is no fence is still a WARN', async () => {
    const lines: string[] = [];
    const { recovery, runLater, created } = recoveryDuringRebalance(lines);
    recovery.recreate({ id: '0_2' } as ActiveTask, new Error('the broker said no'));
    await runLater();
    expect(created).toEqual(['0_2']);
    expect(lines).toEqual(['WARN the transaction of task 0_2 failed (the broker said no); rebuilding it from its changelog']);
  });
});
