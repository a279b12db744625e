/**
 * When a task asks for its cache to be relieved (ActiveTask.needsFlush): only when dirty entries fill its
 * budget. A task with no budget (cacheMaxBytes 0: no caching) and nothing dirty asks for nothing, or every
 * round of an idle processing loop would start a commit that has nothing to write (issue 31).
 */
import { describe, expect, it } from 'vitest';
import type { BatchSender, ProducedBatchMetadata } from '../../src/client/producer.js';
import { resolveConfig } from '../../src/config/streams-config.js';
import { Consumed, Materialized, Serdes, StreamsBuilder } from '../../src/index.js';
import { silentLogger } from '../../src/logging/logger.js';
import { ActiveTask } from '../../src/runtime/active-task.js';
import { ProducerPipeline } from '../../src/runtime/producer-pipeline.js';
import { tempDirs } from './support/temp-dirs.js';

const S = Serdes.String();
const APP = 'cache-relief';
const tempDir = tempDirs('kstreams-cache-relief-');

/** Acknowledges every request at once (offsets are not read here). */
const sender: BatchSender = {
  sendBatch: async (request): Promise<ProducedBatchMetadata[]> =>
    request.topicMessages.map(({ topic }) => ({ topicName: topic, partition: 0, baseOffset: '0' })),
};

async function countTask(cacheBytes: number): Promise<{ task: ActiveTask; process(key: string): void }> {
  const builder = new StreamsBuilder();
  builder.stream('in', Consumed.with(S, S)).groupByKey().count(Materialized.as('counts'));
  const topology = builder.build({ applicationId: APP });
  const config = resolveConfig({ applicationId: APP, bootstrapServers: ['unused:9092'], stateDir: tempDir(), logger: silentLogger });
  const task = await ActiveTask.open(topology, 0, 0, config, silentLogger, new ProducerPipeline(sender), () => 1, cacheBytes, Number.NEGATIVE_INFINITY);
  task.setCommitted('in', 0, 0n);
  task.start();
  let offset = 0;
  return {
    task,
    process: (key) => {
      task.streamTask.process('in', 0, String(offset), S.serialize(key), S.serialize('v'), 1000 + offset, {});
      task.markConsumed('in', 0, BigInt(++offset));
    },
  };
}

describe('ActiveTask.needsFlush', () => {
  it('is false for a task without a cache budget that has nothing dirty (cacheMaxBytes 0)', async () => {
    const { task } = await countTask(0);
    try {
      expect(task.needsFlush()).toBe(false);
    } finally {
      await task.close();
    }
  });

  it('is true once dirty entries fill the budget, and false again after the commit wrote them', async () => {
    const { task, process } = await countTask(4 * 1200);
    try {
      expect(task.needsFlush()).toBe(false);
      for (let i = 0; i < 8; i++) process(`k${i}`);
      expect(task.needsFlush()).toBe(true);
      const snapshot = task.prepareCommit(false);
      await task.pipeline.flush();
      await task.completeCommit(snapshot);
      task.markCommitted(snapshot);
      expect(task.needsFlush()).toBe(false);
    } finally {
      await task.close();
    }
  });
});
