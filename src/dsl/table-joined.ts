import type { StreamPartitioner } from '../processor/stream-partitioner.js';

/**
 * A StreamPartitioner of keys, checked bivariantly (method syntax): a TableJoined's key types then do not make
 * KTable invariant in its key type through the join overloads that take it.
 */
type KeyPartitioner<K> = { partition(topic: string, key: K, value: void, numPartitions: number): number | undefined }['partition'];

/**
 * Options of a foreign-key join (Kafka Streams' `TableJoined`): the partitioners of the two tables' topics,
 * when they are not written with the default partitioner, so that the join's internal topics reach the
 * right partitions, and the join's name (as a `Named` gives it).
 *
 * - `partitioner` places this (left) table's keys: answers to a subscription go to the partition it gives
 *   instead of the partition the subscription came from;
 * - `otherPartitioner` places the other (right) table's keys: subscriptions go to the partition it gives
 *   for their foreign key, so that they meet the right row.
 *
 * Each is called with the key and no value (`undefined`), as Kafka Streams calls it with a null value.
 */
export class TableJoined<K, KO> {
  private constructor(
    /** Places this table's keys; undefined: the default partitioner. */
    readonly partitioner: KeyPartitioner<K> | undefined,
    /** Places the other table's keys; undefined: the default partitioner. */
    readonly otherPartitioner: KeyPartitioner<KO> | undefined,
    /** Names the join's processors, topics and stores; undefined: generated names. */
    readonly name: string | undefined,
  ) {}

  /** Both partitioners (either may be undefined: the default). */
  static with<K, KO>(partitioner: StreamPartitioner<K, void> | undefined, otherPartitioner: StreamPartitioner<KO, void> | undefined): TableJoined<K, KO> {
    return new TableJoined(partitioner, otherPartitioner, undefined);
  }

  /** Default partitioners, the join named `name`. */
  static as<K, KO>(name: string): TableJoined<K, KO> {
    return new TableJoined<K, KO>(undefined, undefined, name);
  }

  /** The same with this table's partitioner. */
  withPartitioner(partitioner: StreamPartitioner<K, void> | undefined): TableJoined<K, KO> {
    return new TableJoined(partitioner, this.otherPartitioner, this.name);
  }

  /** The same with the other table's partitioner. */
  withOtherPartitioner(otherPartitioner: StreamPartitioner<KO, void> | undefined): TableJoined<K, KO> {
    return new TableJoined(this.partitioner, otherPartitioner, this.name);
  }

  /** The same, named `name`. */
  withName(name: string): TableJoined<K, KO> {
    return new TableJoined(this.partitioner, this.otherPartitioner, name);
  }
}
