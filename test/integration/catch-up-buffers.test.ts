/**
 * A catch-up holds a bounded number of fetched records, whatever the backlog. A partition's queue takes
 * records until it holds `bufferedRecordsPerPartition`, then the partition is paused until the queue drains
 * below that; each fetch brings at most `maxPartitionFetchBytes` of a partition's records (a larger first
 * record batch excepted, which this test's small batches never are). So no queue ever holds more than
 * the buffer plus one fetch: here at most 1 360 records, where a fetch without the byte bound brings the
 * partition's whole backlog of 10 000, and a queue that is not paused grows by a fetch (about 1 300 records
 * per partition) every processing round (at most 1 000 records) until the backlog is all in memory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { Consumed, KafkaStreams, Produced, Serdes, StreamsBuilder } from '../../src/index.js';
import { brokers, createTopics, kafkaClient, uniqueName } from './kafka-env.js';

const PARTITIONS = 2;
const RECORDS = 20_000;
const BUFFERED = 50;
const FETCH_BYTES = 64 * 1024;
/** Each record's key and value alone take 45 bytes in a batch, plus its length, offset and timestamp. */
const MIN_RECORD_BYTES = 50;

describe('a catch-up on a backlog', () => {
  it('never queues more than bufferedRecordsPerPartition plus one fetch of a partition', async () => {
    const applicationId = uniqueName('catch-up-buffers');
    const input = `${applicationId}-in`;
    const output = `${applicationId}-out`;
    await createTopics([
      { topic: input, numPartitions: PARTITIONS },
      { topic: output, numPartitions: PARTITIONS },
    ]);
    const producer = kafkaClient('backlog').producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    // Requests of 100 records: record batches of about 50 records per partition, far below one fetch.
    for (let i = 0; i < RECORDS; i += 100) {
      const messages = Array.from({ length: 100 }, (_, j) => ({ key: `k${(i + j) % 97}`.padEnd(5, '-'), value: `value-${String(i + j).padStart(34, '0')}` }));
      await producer.send({ topic: input, messages });
    }
    await producer.disconnect();

    const builder = new StreamsBuilder();
    builder
      .stream(input, Consumed.with(Serdes.String(), Serdes.String()))
      .mapValues((v) => {
        // Slower than the broker serves a fetch, as a stateful topology is, so that queues fill up and pause.
        const until = performance.now() + 0.1;
        while (performance.now() < until);
        return v.length;
      })
      .to(output, Produced.with(Serdes.String(), Serdes.Integer()));
    const stateDir = mkdtempSync(join(tmpdir(), 'kstreams-test-state-'));
    const app = new KafkaStreams(builder.build({ applicationId }), {
      applicationId,
      bootstrapServers: brokers(),
      stateDir,
      bufferedRecordsPerPartition: BUFFERED,
      maxPartitionFetchBytes: FETCH_BYTES,
      commitIntervalMs: 500,
    });
    try {
      await app.start();
      await expect.poll(() => app.metrics().processedTotal, { timeout: 90_000, interval: 100 }).toBe(RECORDS);
      const metrics = app.metrics();
      expect(metrics.bufferedRecords).toBe(0);
      expect(metrics.maxBufferedRecordsPerPartition).toBeGreaterThan(0);
      expect(metrics.maxBufferedRecordsPerPartition).toBeLessThanOrEqual(BUFFERED + FETCH_BYTES / MIN_RECORD_BYTES);
    } finally {
      await app.close();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
