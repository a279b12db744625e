/** The producer's partitioner hashes a record's partitionKey (a windowed key's inner key) when it has one. */
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { PartitionKeyPartitioner } from '../../src/client/kafkajs/partition-key-partitioner.js';
import { partitionForKey } from '../../src/runtime/murmur2.js';

const partitionMetadata = Array.from({ length: 7 }, (_, partitionId) => ({ partitionId, leader: 0 }));

describe('PartitionKeyPartitioner', () => {
  it("places by the partitionKey where there is one, and otherwise exactly as kafkajs' default partitioner", () => {
    const ours = PartitionKeyPartitioner();
    const kafkajs = Partitioners.DefaultPartitioner();
    for (let i = 0; i < 200; i++) {
      const key = Buffer.from(`user-${i * 7919}`);
      const windowed = Buffer.concat([key, Buffer.alloc(16, i)]);
      expect(ours({ topic: 't', partitionMetadata, message: { key, value: null } } as never)).toBe(kafkajs({ topic: 't', partitionMetadata, message: { key, value: null } } as never));
      const placed = ours({ topic: 't', partitionMetadata, message: { key: windowed, value: null, partitionKey: key } } as never);
      expect(placed).toBe(partitionForKey(key, 7));
    }
  });
});
