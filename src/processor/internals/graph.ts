import type { Serde } from '../../serdes/serde.js';
import type { ProcessorSupplier } from '../processor-api.js';
import type { StoreDefinition } from '../store-definition.js';
import type { StreamPartitioner } from '../stream-partitioner.js';
import type { TopicNameExtractor } from '../topic-name-extractor.js';
import type { TimestampExtractor } from '../timestamp-extractor.js';

/** A topic as the graph names it; internal topics get the application id as prefix when the topology is built. */
export interface TopicRef {
  readonly name: string;
  readonly internal: boolean;
}

export interface SourceNodeDef {
  readonly kind: 'source';
  readonly name: string;
  readonly index: number;
  readonly topics: readonly TopicRef[];
  readonly keySerde: Serde<unknown>;
  readonly valueSerde: Serde<unknown>;
  /** Event time of each record; undefined: the Kafka timestamp, failing on a negative one. */
  readonly timestampExtractor?: TimestampExtractor;
  /** Feeds a global store: read in full by every instance, outside the tasks (Kafka Streams' global source). */
  readonly global?: boolean;
}

export interface ProcessorNodeDef {
  readonly kind: 'processor';
  readonly name: string;
  readonly index: number;
  readonly parents: readonly string[];
  readonly supplier: ProcessorSupplier<unknown, unknown, unknown, unknown>;
  readonly stores: string[];
  /**
   * Global stores it reads (a stream-GlobalKTable join): not connected, as any processor may read them
   * (Kafka Streams' describe() lists none), but drawn in the Mermaid diagram.
   */
  readonly readsGlobalStores?: readonly string[];
}

export interface SinkNodeDef {
  readonly kind: 'sink';
  readonly name: string;
  readonly index: number;
  readonly parents: readonly string[];
  readonly topic: TopicRef | TopicNameExtractor<unknown, unknown>;
  readonly keySerde: Serde<unknown>;
  readonly valueSerde: Serde<unknown>;
  readonly partitioner?: StreamPartitioner<unknown, unknown>;
}

export type NodeDef = SourceNodeDef | ProcessorNodeDef | SinkNodeDef;

/** A repartition topic the application creates, with an explicit partition count when the user gave one. */
export interface RepartitionTopicDef {
  readonly name: string;
  readonly numberOfPartitions?: number;
}

/** A join whose sides (node names) must read co-partitioned topics: the same number of partitions. */
export interface CopartitionGroupDef {
  readonly joinName: string;
  readonly sides: readonly string[];
}

/**
 * The declared graph a Topology is built from: what the DSL's InternalBuilder collects (or any other
 * builder). The Topology only reads it, once, in its constructor.
 */
export interface DeclaredGraph {
  /** Every node by name, in declaration order. */
  readonly nodes: ReadonlyMap<string, NodeDef>;
  readonly stores: ReadonlyMap<string, StoreDefinition>;
  readonly repartitionTopics: ReadonlyMap<string, RepartitionTopicDef>;
  /** Joins whose sides must be co-partitioned (absent: none). */
  readonly copartitionGroups?: readonly CopartitionGroupDef[];
  /**
   * Stores of `builder.table(topic)` by name, with the source node reading the topic: the stores a topology
   * optimization may restore from that topic instead of a changelog (absent: none).
   */
  readonly tableSourceStores?: ReadonlyMap<string, string>;
  /** Problems found while declaring; the Topology refuses to build when there are any. */
  readonly problems: readonly string[];
}
