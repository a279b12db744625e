/**
 * A store whose values evolve (Avro) names each writer schema once per changelog partition, in a schema
 * record, instead of in a header of every record: the runtime's active task and the TopologyTestDriver write
 * the same changelog, and a task restoring on an empty disk learns the schemas from those records (or from
 * the headers of the earlier format) without ever putting a schema record in its store.
 */
import { describe, expect, it } from 'vitest';
import { Consumed, Materialized, PartitionedTopologyTestDriver, Serdes, StreamsBuilder, TopologyTestDriver } from '../../src/index.js';
import { resolveConfig } from '../../src/config/streams-config.js';
import { silentLogger } from '../../src/logging/logger.js';
import { ActiveTask } from '../../src/runtime/active-task.js';
import { ChangelogReader } from '../../src/runtime/changelog-reader.js';
import type { ProducerPipeline } from '../../src/runtime/producer-pipeline.js';
import type { OutgoingRecord } from '../../src/runtime/record-sink.js';
import { ChangeLogging } from '../../src/stores/change-logging.js';
import { SCHEMA_HEADER, SCHEMA_RECORD_HEADER, isChangelogSchemaRecord, schemaOfRecord, schemaRecordKey } from '../../src/stores/changelog-schemas.js';
import type { ChangelogRecord } from '../../src/stores/changelog-sink.js';
import type { KeyValueStore } from '../../src/stores/state-store.js';
import { TopicLogs } from '../../src/testing/topic-logs.js';
import type { ReadRecord } from '../../src/client/partition-reader.js';
import { tempDirs } from './support/temp-dirs.js';

const v1 = { type: 'record', name: 'Total', fields: [{ name: 'sum', type: 'int' }] };
// v2 promotes the sum and adds a field with a default: it reads v1's values once it knows v1.
const v2 = {
  type: 'record',
  name: 'Total',
  fields: [
    { name: 'sum', type: 'long' },
    { name: 'inputs', type: 'long', default: 0 },
  ],
};
type Total1 = { sum: number };
type Total2 = { sum: number; inputs: number };
const S = Serdes.String();
const APP = 'schemas';
const CHANGELOG = `${APP}-totals-changelog`;
const PARTITION = 3;

/** Version 1 of the application sums the lengths of a key's values; version 2 also counts them. */
function topology(version: 1 | 2) {
  const builder = new StreamsBuilder();
  const grouped = builder.stream('in', Consumed.with(S, S)).groupByKey();
  if (version === 1) {
    grouped.aggregate(() => ({ sum: 0 }), (_key, value, total: Total1) => ({ sum: total.sum + value.length }), Materialized.as<string, Total1>('totals').withValueSerde(Serdes.Avro<Total1>(v1)));
  } else {
    const add = (_key: string, value: string, total: Total2) => ({ sum: total.sum + value.length, inputs: total.inputs + 1 });
    grouped.aggregate(() => ({ sum: 0, inputs: 0 }), add, Materialized.as<string, Total2>('totals').withValueSerde(Serdes.Avro<Total2>(v2)));
  }
  return builder.build({ applicationId: APP });
}

const tempDir = tempDirs('kstreams-schema-records-');

/** A task of the topology's version on `stateDir`, its output (changelog records included) appended to `logs`. */
async function openTask(version: 1 | 2, stateDir: string, logs: TopicLogs): Promise<ActiveTask> {
  const config = resolveConfig({ applicationId: APP, bootstrapServers: ['127.0.0.1:9092'], stateDir, cacheMaxBytes: 0 });
  const pipeline = {
    enqueue: (record: OutgoingRecord) => logs.append({ ...record, partition: record.partition ?? PARTITION }),
    lastOffset: (topic: string, partition: number) => logs.lastOffset(topic, partition),
  } as unknown as ProducerPipeline;
  return ActiveTask.open(topology(version), 0, PARTITION, config, silentLogger, pipeline, () => 4, 0, Number.NEGATIVE_INFINITY);
}

/** Processes `inputs` (key, value) one commit each, from input offset `offset` on. */
async function processEach(task: ActiveTask, inputs: ReadonlyArray<readonly [string, string]>, offset = 0): Promise<void> {
  for (const [i, [key, value]] of inputs.entries()) {
    task.streamTask.process('in', PARTITION, String(offset + i), S.serialize(key), S.serialize(value), 1000 + offset + i, {});
    await task.completeCommit(task.prepareCommit(false));
  }
}

/** The changelog partition's records, as a restoring task reads them. */
async function changelogOf(logs: TopicLogs): Promise<ReadRecord[]> {
  return (await logs.fetch(CHANGELOG, PARTITION, 0n, 0)).records;
}

const schemaOf = (r: ReadRecord): string | undefined => schemaOfRecord(r.key, r.value, r.headers);

/** The v1 changelog of keys a (2 + 3 characters) and b (4), as the runtime writes it, the task closed. */
async function writeV1Changelog(): Promise<{ logs: TopicLogs; records: ReadRecord[] }> {
  const logs = new TopicLogs();
  const task = await openTask(1, tempDir(), logs);
  try {
    task.start();
    await processEach(task, [['a', 'xx'], ['b', 'yyyy'], ['a', 'zzz']]);
  } finally {
    await task.close();
  }
  return { logs, records: await changelogOf(logs) };
}

/** Restores a v2 task from `logs` on an empty state folder, and reads its totals. */
async function restoreV2(logs: TopicLogs): Promise<{ task: ActiveTask; totals: KeyValueStore<string, Total2>; restored: number }> {
  const task = await openTask(2, tempDir(), logs);
  const restored = await task.restore(new ChangelogReader(logs), undefined);
  return { task, totals: task.streamTask.stores.get('totals') as unknown as KeyValueStore<string, Total2>, restored };
}

describe('changelog schema records', () => {
  it('are written once per partition and schema, before the first record, and no record carries a header', async () => {
    const v1Schema = Serdes.Avro<Total1>(v1).writerSchema;
    const { records } = await writeV1Changelog();
    expect(records).toHaveLength(4);
    const [schemaRecord, ...data] = records;
    expect(schemaRecord!.key).toEqual(schemaRecordKey(v1Schema));
    expect(schemaRecord!.value!.toString()).toBe(v1Schema);
    expect(Object.keys(schemaRecord!.headers ?? {})).toEqual([SCHEMA_RECORD_HEADER]);
    expect(schemaOf(schemaRecord!)).toBe(v1Schema);
    // What users reading a changelog themselves call (public API).
    expect(records.map((r) => isChangelogSchemaRecord(r))).toEqual([true, false, false, false]);
    expect(data.map((r) => r.headers)).toEqual([{}, {}, {}]);
    expect(data.map((r) => S.deserialize(r.key!))).toEqual(['a', 'b', 'a']);
    // A data record is never mistaken for a schema record, even with the header.
    expect(schemaOfRecord(data[0]!.key, data[0]!.value, { [SCHEMA_RECORD_HEADER]: Buffer.from('x') })).toBeUndefined();
  });

  it('are the same from the TopologyTestDriver as from the runtime', async () => {
    const driver = new TopologyTestDriver(topology(1));
    const input = driver.createInputTopic('in', S, S);
    input.pipeInput('a', 'xx', 1000);
    input.pipeInput('b', 'yyyy', 1001);
    input.pipeInput('a', 'zzz', 1002);
    const fromDriver = driver.createOutputTopic(CHANGELOG, Serdes.Buffer(), Serdes.Buffer()).readRecordsToList();
    driver.close();
    const { records: fromRuntime } = await writeV1Changelog();
    expect(fromDriver.map((r) => [r.key, r.value, r.headers])).toEqual(fromRuntime.map((r) => [r.key, r.value, r.headers]));
  });

  it('go to each partition of the PartitionedTopologyTestDriver, and a task it moves restores around them', async () => {
    const driver = new PartitionedTopologyTestDriver(topology(1), { partitions: { in: 2 } });
    try {
      const input = driver.createInputTopic('in', S, S);
      const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
      for (const [i, key] of keys.entries()) input.pipeInput(key, 'x'.repeat(i + 1), 1000 + i);
      const byPartition = [0, 1].map((p) => driver.createOutputTopic(CHANGELOG, Serdes.Buffer(), Serdes.Buffer(), p).readRecordsToList());
      for (const records of byPartition) {
        expect(records.filter((r) => r.headers[SCHEMA_RECORD_HEADER] !== undefined).map((r) => r.key)).toEqual([schemaRecordKey(Serdes.Avro<Total1>(v1).writerSchema)]);
        expect(records[0]!.headers[SCHEMA_RECORD_HEADER]).toBeDefined();
      }
      const partitionOf = (key: string) => driver.partitionOfKey('in', key, S);
      await driver.moveTask('0_0');
      await driver.moveTask('0_1');
      for (const [i, key] of keys.entries()) expect(driver.getKeyValueStore<string, Total1>('totals', partitionOf(key)).get(key)).toEqual({ sum: i + 1 });
      // The moved tasks are new incarnations: each announces its schema again before its first record.
      input.pipeInput('a', 'yy', 2000);
      const after = driver.createOutputTopic(CHANGELOG, Serdes.Buffer(), Serdes.Buffer(), partitionOf('a')).readRecordsToList();
      expect(after.map((r) => r.headers[SCHEMA_RECORD_HEADER] !== undefined)).toEqual([true, false]);
    } finally {
      await driver.close();
    }
  });

  it('teach a task restoring on an empty disk the old schema, and never reach its store', async () => {
    const { logs } = await writeV1Changelog();
    const { task, totals, restored } = await restoreV2(logs);
    try {
      expect(restored).toBe(3);
      expect(totals.get('a')).toEqual({ sum: 5, inputs: 0 });
      expect(totals.get('b')).toEqual({ sum: 4, inputs: 0 });
      const keys: string[] = [];
      for await (const [key] of task.streamTask.stores.get('totals')!.bytes.entries()) keys.push(key.toString());
      expect(keys).toEqual(['a', 'b']);
      // Goes on with v2: v2's schema record before its first record, then v2 values.
      task.start();
      await processEach(task, [['a', 'w']], 3);
      expect(totals.get('a')).toEqual({ sum: 6, inputs: 1 });
      const added = (await changelogOf(logs)).slice(4);
      expect(added.map(schemaOf)).toEqual([Serdes.Avro<Total2>(v2).writerSchema, undefined]);
    } finally {
      await task.close();
    }
    // A third incarnation on another empty disk learns both schemas from the one changelog.
    const again = await restoreV2(logs);
    try {
      expect(again.totals.get('a')).toEqual({ sum: 6, inputs: 1 });
      expect(again.totals.get('b')).toEqual({ sum: 4, inputs: 0 });
    } finally {
      await again.task.close();
    }
  });

  it('are what makes the old values readable, and changelogs of the earlier format (a header per record) still restore', async () => {
    const { records } = await writeV1Changelog();
    const v1Schema = Serdes.Avro<Total1>(v1).writerSchema;
    const withoutSchemas = new TopicLogs();
    const earlierFormat = new TopicLogs();
    for (const r of records) {
      if (schemaOf(r) !== undefined) continue;
      const placed = { topic: CHANGELOG, partition: PARTITION, key: r.key, value: r.value, timestamp: Number(r.timestamp) };
      withoutSchemas.append({ ...placed, headers: {} }, false);
      earlierFormat.append({ ...placed, headers: { [SCHEMA_HEADER]: Buffer.from(v1Schema) } }, false);
    }
    const blind = await restoreV2(withoutSchemas);
    try {
      expect(() => blind.totals.get('a')).toThrow(/unknown schema/);
    } finally {
      await blind.task.close();
    }
    const old = await restoreV2(earlierFormat);
    try {
      expect(old.totals.get('a')).toEqual({ sum: 5, inputs: 0 });
      expect(old.totals.get('b')).toEqual({ sum: 4, inputs: 0 });
    } finally {
      await old.task.close();
    }
  });

  it('are written again once a quarter of the shortest retention the changelog can have passed, at most an hour apart', () => {
    const definition = topology(1).stores.get('totals')!;
    const sent: ChangelogRecord[] = [];
    let now = 0;
    const sink = { send: (r: ChangelogRecord) => void sent.push(r) };
    const change = [[Buffer.from('a'), Buffer.from('v')]] as const;
    const schemaRecords = () => sent.filter((r) => schemaOfRecord(r.key, r.value, r.headers) !== undefined).length;

    const logging = ChangeLogging.of(definition, APP, sink, () => now)!;
    logging.log([]);
    expect(sent).toHaveLength(0);
    logging.log(change);
    logging.log(change);
    expect(schemaRecords()).toBe(1);
    now += 60 * 60 * 1000 - 1; // a key-value changelog is only compacted: hourly
    logging.log(change);
    expect(schemaRecords()).toBe(1);
    now += 1;
    logging.log(change);
    expect(schemaRecords()).toBe(2);
    expect(sent).toHaveLength(6);

    // A session store keeping 4 minutes: its changelog keeps records 4 minutes + the additional retention
    // (a day by default, but it can be 0): every minute.
    sent.length = 0;
    const sessions = ChangeLogging.of({ ...definition, type: 'session', retentionMs: 4 * 60 * 1000 }, APP, sink, () => now)!;
    sessions.log(change);
    now += 60 * 1000 - 1;
    sessions.log(change);
    expect(schemaRecords()).toBe(1);
    now += 1;
    sessions.log(change);
    expect(schemaRecords()).toBe(2);
  });
});
