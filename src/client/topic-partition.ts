/** One partition of a topic: what a consumer fetches, a task reads, an offset belongs to. */
export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/**
 * The string a map or set keys a partition by: `topic:partition`. A key only: nothing parses it back (a map
 * that must give its partitions back is a {@link TopicPartitionMap}). Two arguments, not a TopicPartition,
 * so that code on the record path keys its maps without allocating an object.
 *
 * Its form is kept because it shows up outside the process: log lines name partitions by it, and the
 * global stores' `.checkpoint` keys its positions by it (see CheckpointFile).
 */
export function topicPartitionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

/** An entry of a {@link TopicPartitionMap}: the partition and its value. */
export interface TopicPartitionEntry<V> extends TopicPartition {
  readonly value: V;
}

interface MutableEntry<V> extends TopicPartition {
  value: V;
}

/**
 * A map from partitions to values that gives its partitions back as they were set (no key is parsed).
 * Setting a partition already in the map updates its entry in place: only the first set of a partition
 * allocates one.
 *
 * Contract: single-threaded, as a Map. Iterating yields the map's own entries: read them, do not keep them
 * across a set of the same partition (its value changes in place).
 */
export class TopicPartitionMap<V> implements Iterable<TopicPartitionEntry<V>> {
  private readonly entries = new Map<string, MutableEntry<V>>();

  get size(): number {
    return this.entries.size;
  }

  get(topic: string, partition: number): V | undefined {
    return this.entries.get(topicPartitionKey(topic, partition))?.value;
  }

  has(topic: string, partition: number): boolean {
    return this.entries.has(topicPartitionKey(topic, partition));
  }

  set(topic: string, partition: number, value: V): void {
    const key = topicPartitionKey(topic, partition);
    const entry = this.entries.get(key);
    if (entry !== undefined) entry.value = value;
    else this.entries.set(key, { topic, partition, value });
  }

  delete(topic: string, partition: number): boolean {
    return this.entries.delete(topicPartitionKey(topic, partition));
  }

  clear(): void {
    this.entries.clear();
  }

  /** The entries in insertion order, as a Map iterates. */
  [Symbol.iterator](): IterableIterator<TopicPartitionEntry<V>> {
    return this.entries.values();
  }
}
