import { describe, expect, it } from 'vitest';
import { TopicPartitionMap, topicPartitionKey } from '../../src/client/topic-partition.js';

describe('TopicPartitionMap', () => {
  it('gives its partitions back as they were set, in insertion order, without parsing a key', () => {
    const map = new TopicPartitionMap<bigint>();
    map.set('a.b-c', 3, 1n);
    map.set('x', 0, 2n);
    map.set('a.b-c', 3, 5n);
    expect(map.size).toBe(2);
    expect(map.get('a.b-c', 3)).toBe(5n);
    expect(map.has('x', 0)).toBe(true);
    expect(map.get('x', 1)).toBeUndefined();
    expect([...map].map(({ topic, partition, value }) => [topic, partition, value])).toEqual([
      ['a.b-c', 3, 5n],
      ['x', 0, 2n],
    ]);
    expect(map.delete('x', 0)).toBe(true);
    expect(map.delete('x', 0)).toBe(false);
    map.clear();
    expect(map.size).toBe(0);
  });

  it('keys a partition as `topic:partition`, the form of log lines and the global checkpoint', () => {
    expect(topicPartitionKey('orders', 12)).toBe('orders:12');
  });
});
