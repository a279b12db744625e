import type { Serde } from '../../serdes/serde.js';
import type { StoreDefinition } from '../../processor/store-definition.js';
import type { TimestampExtractor } from '../../processor/timestamp-extractor.js';
import type { CopartitionGroupDef, DeclaredGraph, NodeDef, ProcessorNodeDef, RepartitionTopicDef, SinkNodeDef, SourceNodeDef } from '../../processor/internals/graph.js';

type WithoutIndex<T> = Omit<T, 'index' | 'kind'>;

/**
 * The mutable graph behind a StreamsBuilder. Names are generated as Kafka Streams generates them: a prefix
 * and a 10-digit counter shared by processors and stores (`KSTREAM-FILTER-0000000001`), so that the same
 * code always yields the same names, and so the same internal topics and stores across deployments.
 */
export class InternalBuilder implements DeclaredGraph {
  private counter = 0;

  constructor(readonly defaults: BuilderDefaults = {}) {}

  readonly nodes = new Map<string, NodeDef>();
  readonly stores = new Map<string, StoreDefinition>();
  readonly repartitionTopics = new Map<string, RepartitionTopicDef>();
  readonly copartitionGroups: CopartitionGroupDef[] = [];
  /** Stores of `builder.table(topic)` → their source node (see DeclaredGraph). */
  readonly tableSourceStores = new Map<string, string>();
  /** Problems found while declaring; reported together by `build()`. */
  readonly problems: string[] = [];

  /**
   * The serde of a key or value: the first of `known` that is defined, else the builder's default. With
   * neither, the problem is recorded, naming `who` needs it and `hint` (what to pass), and build() fails
   * with it; the placeholder returned meanwhile is never run.
   */
  serdeFor(kind: 'key' | 'value', who: string, hint: string, ...known: ReadonlyArray<Serde<unknown> | undefined>): Serde<unknown> {
    for (const serde of known) if (serde !== undefined) return serde;
    const fallback = kind === 'key' ? this.defaults.defaultKeySerde : this.defaults.defaultValueSerde;
    if (fallback !== undefined) return fallback;
    const option = kind === 'key' ? 'defaultKeySerde' : 'defaultValueSerde';
    this.problems.push(`${who} needs a ${kind} serde and none is known: ${hint}, or give the StreamsBuilder a ${option}.`);
    return missingSerde(who, kind);
  }

  nextIndex(): number {
    return this.counter++;
  }

  newProcessorName(prefix: string): string {
    return `${prefix}${String(this.nextIndex()).padStart(10, '0')}`;
  }

  /**
   * A processor's name: the given one, or a generated one. An index is taken either way, as Kafka Streams'
   * NamedInternal.orElseGenerateWithPrefix / suffixWithOrElseGet take one "to keep topology backward
   * compatibility": the generated names after a named operator are then the ones Kafka Streams gives.
   */
  processorNameFor(given: string | undefined, prefix: string, suffix = ''): string {
    const generated = this.newProcessorName(prefix);
    return given === undefined ? generated : `${given}${suffix}`;
  }

  /** Store names take their own index, like `KSTREAM-AGGREGATE-STATE-STORE-0000000003`. */
  newStoreName(prefix: string): string {
    return `${prefix}STATE-STORE-${String(this.nextIndex()).padStart(10, '0')}`;
  }

  private addNode(node: NodeDef): void {
    if (this.nodes.has(node.name)) {
      this.problems.push(`Two processors are named '${node.name}': give one of them another name (Named.as).`);
      return;
    }
    this.nodes.set(node.name, node);
  }

  addSource(def: WithoutIndex<SourceNodeDef>): void {
    this.addNode({ ...def, kind: 'source', index: this.counter });
  }

  addProcessor(def: WithoutIndex<ProcessorNodeDef>): void {
    this.addNode({ ...def, kind: 'processor', index: this.counter });
  }

  addSink(def: WithoutIndex<SinkNodeDef>): void {
    this.addNode({ ...def, kind: 'sink', index: this.counter });
  }

  addStore(store: StoreDefinition): void {
    if (this.stores.has(store.name)) {
      this.problems.push(
        `Two state stores are named '${store.name}': store names must be unique within an application ` +
          '(rename one in Materialized.as or Stores.*).',
      );
      return;
    }
    this.stores.set(store.name, store);
  }

  connectStore(processorName: string, storeName: string): void {
    const node = this.nodes.get(processorName);
    if (node?.kind !== 'processor') {
      this.problems.push(`Cannot connect store '${storeName}' to '${processorName}', which is not a processor.`);
      return;
    }
    if (!node.stores.includes(storeName)) node.stores.push(storeName);
  }

  /** The nodes of the sides of join `joinName`, whose source topics must be co-partitioned. */
  addCopartitionGroup(joinName: string, sides: readonly string[]): void {
    this.copartitionGroups.push({ joinName, sides });
  }

  addRepartitionTopic(topic: RepartitionTopicDef): void {
    const existing = this.repartitionTopics.get(topic.name);
    if (existing !== undefined) {
      this.problems.push(`Two repartition topics are named '${topic.name}': name the groupings apart (Grouped.as).`);
      return;
    }
    this.repartitionTopics.set(topic.name, topic);
  }
}

/** What a StreamsBuilder uses where an operator is given no serde or timestamp extractor of its own. */
export interface BuilderDefaults {
  readonly defaultKeySerde?: Serde<unknown>;
  readonly defaultValueSerde?: Serde<unknown>;
  readonly defaultTimestampExtractor?: TimestampExtractor;
}

function missingSerde(who: string, kind: string): Serde<unknown> {
  const fail = (): never => {
    throw new Error(`${who} has no ${kind} serde`);
  };
  return { name: 'missing', serialize: fail, deserialize: fail };
}

