/**
 * Records without a partition are partitioned by us, not by the producer: the partition must be the one
 * Kafka's default partitioner picks, or a key would leave the partition a Java producer (or Kafka Streams)
 * puts it on and joins against such topics would miss. Checked on Kafka's own murmur2 test vectors
 * (UtilsTest.testMurmur2) and against kafkajs' DefaultPartitioner on random keys and partition counts.
 */
import fc from 'fast-check';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { Consumed, Produced, Serdes, StreamsBuilder } from '../../src/index.js';
import { silentLogger } from '../../src/logging/logger.js';
import { murmur2, partitionForKey } from '../../src/runtime/murmur2.js';
import type { OutgoingRecord } from '../../src/runtime/record-sink.js';
import { StreamTask } from '../../src/runtime/stream-task.js';

describe('murmur2', () => {
  it("gives Kafka's hashes", () => {
    const cases: Array<[Buffer, number]> = [
      [Buffer.from('21'), -973932308],
      [Buffer.from('foobar'), -790332482],
      [Buffer.from('a-little-bit-long-string'), -985981536],
      [Buffer.from('a-little-bit-longer-string'), -1486304829],
      [Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'), -58897971],
      [Buffer.from([0x61, 0x62, 0x63]), 479470107],
    ];
    for (const [key, hash] of cases) expect(murmur2(key)).toBe(hash);
  });

  it("picks the partition Kafka's default partitioner picks, for any key and partition count", () => {
    const kafkajs = Partitioners.DefaultPartitioner();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 1, max: 500 }), (bytes, partitions) => {
        const key = Buffer.from(bytes);
        const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0 }));
        expect(partitionForKey(key, partitions)).toBe(kafkajs({ topic: 't', partitionMetadata, message: { key, value: null } } as never));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('a task writing records of the default partitioning', () => {
  it('gives each record the partition of its key where the topic is known, and leaves it to the producer where not', () => {
    const builder = new StreamsBuilder();
    const stream = builder.stream('in', Consumed.with(Serdes.String(), Serdes.String()));
    stream.to('out', Produced.with(Serdes.String(), Serdes.String()));
    stream.to((record) => `picked-${record.value}`, Produced.with(Serdes.String(), Serdes.String()));
    const topology = builder.build({ applicationId: 'partitioning' });
    const sent: OutgoingRecord[] = [];
    const task = new StreamTask({
      topology,
      subtopology: topology.subtopologies[0]!,
      partition: 0,
      sink: { send: (record) => sent.push(record), partitionsFor: (topic) => (topic === 'out' ? 7 : undefined) },
      createStore: () => {
        throw new Error('no stores');
      },
      wallClock: () => 0,
      logger: silentLogger,
    });
    task.init();
    const keys = ['user-1', 'user-2', 'user-3', 'another key', ''];
    keys.forEach((key, i) => task.process('in', 0, String(i), Buffer.from(key), Buffer.from('x'), 1000 + i, {}));
    expect(sent.filter((r) => r.topic === 'out').map((r) => r.partition)).toEqual(keys.map((k) => partitionForKey(Buffer.from(k), 7)));
    expect(sent.filter((r) => r.topic === 'picked-x').map((r) => r.partition)).toEqual(keys.map(() => undefined));
  });
});
