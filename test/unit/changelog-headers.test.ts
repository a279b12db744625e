/**
 * Changelog records leave a store through its change-logging layer, whoever commits: the runtime's active
 * task (into its producer pipeline, on the task's partition) and the TopologyTestDriver (into its output
 * topics) send the same records with the same headers, the writer schema of an evolving value serde.
 */
import { describe, expect, it } from 'vitest';
import { Consumed, Materialized, Serdes, StreamsBuilder, TopologyTestDriver, type AvroSerde } from '../../src/index.js';
import { resolveConfig } from '../../src/config/streams-config.js';
import { silentLogger } from '../../src/logging/logger.js';
import { ActiveTask } from '../../src/runtime/active-task.js';
import type { ProducerPipeline } from '../../src/runtime/producer-pipeline.js';
import type { OutgoingRecord } from '../../src/runtime/record-sink.js';
import { SCHEMA_HEADER } from '../../src/stores/changelog-headers.js';
import { tempDirs } from './support/temp-dirs.js';

const schema = { type: 'record', name: 'Total', fields: [{ name: 'sum', type: 'long' }] };
const S = Serdes.String();
const CHANGELOG = 'headers-totals-changelog';

function topology(totals: AvroSerde<{ sum: number }>) {
  const builder = new StreamsBuilder();
  builder
    .stream('in', Consumed.with(S, S))
    .groupByKey()
    .aggregate(() => ({ sum: 0 }), (_key, value, total) => ({ sum: total.sum + value.length }), Materialized.as<string, { sum: number }>('totals').withValueSerde(totals));
  return builder.build({ applicationId: 'headers' });
}

const tempDir = tempDirs('kstreams-headers-');

describe('changelog records', () => {
  it('carry the same schema header from the TopologyTestDriver as from the runtime, with the same keys and values', async () => {
    const totals = Serdes.Avro<{ sum: number }>(schema);
    const driver = new TopologyTestDriver(topology(totals));
    const input = driver.createInputTopic('in', S, S);
    input.pipeInput('a', 'xx', 1);
    input.pipeInput('a', 'yyy', 2);
    const fromDriver = driver.createOutputTopic(CHANGELOG, Serdes.Buffer(), Serdes.Buffer()).readRecordsToList();
    driver.close();

    const stateDir = tempDir();
    const config = resolveConfig({ applicationId: 'headers', bootstrapServers: ['127.0.0.1:9092'], stateDir, cacheMaxBytes: 0 });
    const enqueued: OutgoingRecord[] = [];
    const pipeline = { enqueue: (record: OutgoingRecord) => enqueued.push(record), lastOffset: () => undefined } as unknown as ProducerPipeline;
    const task = await ActiveTask.open(topology(totals), 0, 3, config, silentLogger, pipeline, () => 4, 0, Number.NEGATIVE_INFINITY);
    try {
      task.start();
      for (const [offset, [value, timestamp]] of [['xx', 1], ['yyy', 2]].entries()) {
        task.streamTask.process('in', 3, String(offset), S.serialize('a'), S.serialize(value as string), timestamp as number, {});
        await task.completeCommit(task.prepareCommit(false));
      }
    } finally {
      await task.close();
    }
    const fromRuntime = enqueued.filter((r) => r.topic === CHANGELOG);

    const header = { [SCHEMA_HEADER]: Buffer.from(totals.writerSchema) };
    expect(fromDriver.map((r) => r.headers)).toEqual([header, header]);
    expect(fromRuntime.map((r) => r.headers)).toEqual([header, header]);
    expect(fromRuntime.map((r) => r.partition)).toEqual([3, 3]);
    expect(fromRuntime.map((r) => [r.key, r.value])).toEqual(fromDriver.map((r) => [r.key, r.value]));
    // A timestamped aggregate: the record time (8 bytes), then the Avro value.
    expect(totals.deserialize(fromRuntime[1]!.value!.subarray(8))).toEqual({ sum: 5 });
  });
});
