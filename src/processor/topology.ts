import { TopologyError } from '../errors/errors.js';
import { changelogTopicConfig, changelogTopicName, type StoreDefinition } from './store-definition.js';
import type { DeclaredGraph, NodeDef, SinkNodeDef, SourceNodeDef, TopicRef } from './internals/graph.js';
import { TopologyDescription } from './topology-description.js';

/**
 * Kafka Streams' `topology.optimization` values: 'none' (default), 'all', or only
 * 'reuse.ktable.source.topics', the one optimization this library has: the store of `builder.table(topic)`
 * uses `topic` as its changelog instead of a topic of its own.
 */
export type TopologyOptimization = 'none' | 'all' | 'reuse.ktable.source.topics';

const OPTIMIZATIONS: readonly TopologyOptimization[] = ['none', 'all', 'reuse.ktable.source.topics'];

/** What `StreamsBuilder.build()` needs to name things, and the optimizations it applies. */
export interface TopologyConfig {
  /** Names the consumer group and prefixes every internal topic. */
  readonly applicationId: string;
  /**
   * Default 'none'. 'all' or 'reuse.ktable.source.topics': tables read with `builder.table(topic)` get no
   * changelog topic; their stores are restored from `topic` itself, up to the committed offset of the
   * application's group (Kafka Streams' `topology.optimization`). The table's input must then be what its
   * store holds: a compacted topic, read with the serdes the store uses.
   */
  readonly topologyOptimization?: TopologyOptimization;
}

/**
 * A join whose input topics must be co-partitioned (Kafka Streams' co-partition group).
 * @internal
 */
export interface CopartitionGroup {
  /** The join's (merge) processor. */
  readonly join: string;
  /** The source topics feeding each side, resolved. */
  readonly topics: readonly string[];
}

/** One connected piece of the graph; it runs as one task per input partition. */
export interface Subtopology {
  /** Its number, the first part of its task ids. */
  readonly id: number;
  /** Nodes in declaration order, which is a topological order (parents before children). */
  /** @internal */
  readonly nodes: readonly NodeDef[];
  /** The topics it reads. */
  readonly sourceTopics: readonly string[];
  /** Topics the sinks write to by name (topics chosen per record by an extractor are not listed). */
  readonly sinkTopics: readonly string[];
  /** The stores its processors use. */
  readonly stores: readonly StoreDefinition[];
  /** @internal The source node of each source topic. */
  readonly sourceByTopic: ReadonlyMap<string, SourceNodeDef>;
}

/** A topic the application owns and creates at start: a repartition topic or a store's changelog. */
export interface InternalTopic {
  /** `<applicationId>-<name>-repartition` or `<applicationId>-<store>-changelog`. */
  readonly name: string;
  /** What it is for. */
  readonly kind: 'repartition' | 'changelog';
  /** Repartition: a fixed count, or undefined to match the producing sub-topology's partition count. */
  readonly numberOfPartitions?: number;
  /** Topic configs it is created with (cleanup policy, retention). */
  readonly config: Readonly<Record<string, string>>;
  /** The sub-topology whose task count decides the partition count (consumer of a changelog or repartition). */
  readonly subtopologyId: number;
  /** For changelogs, the store. */
  readonly storeName?: string;
}

const APPLICATION_ID = /^[a-zA-Z0-9._-]+$/;

/**
 * A built topology: the graph split into sub-topologies, with resolved topic names, stores and the internal
 * topics it needs. Immutable; the runtime and the TopologyTestDriver both run it.
 */
export class Topology {
  /** The application id it was built for. */
  readonly applicationId: string;
  /** Its sub-topologies, in order. */
  readonly subtopologies: readonly Subtopology[];
  /** The repartition and changelog topics it needs. */
  readonly internalTopics: readonly InternalTopic[];
  /** Its state stores by name. */
  readonly stores: ReadonlyMap<string, StoreDefinition>;
  /** @internal The joins whose input topics must have equal partition counts; checked when topics are created. */
  readonly copartitionGroups: readonly CopartitionGroup[];
  /**
   * The sub-topologies that feed global stores (a source and the processor that writes its store), numbered
   * after the others. They run no tasks: every instance reads all partitions of their topics.
   */
  readonly globalSubtopologies: readonly Subtopology[];
  /** The optimizations it was built with. */
  readonly optimization: TopologyOptimization;

  /** @internal Use `StreamsBuilder.build()`. */
  constructor(graph: DeclaredGraph, config: TopologyConfig) {
    if (typeof config?.applicationId !== 'string' || !APPLICATION_ID.test(config.applicationId)) {
      throw new TopologyError(
        `applicationId must be a non-empty string of letters, digits, '.', '_' or '-' (it prefixes topic names), ` +
          `got ${JSON.stringify(config?.applicationId)}`,
      );
    }
    this.applicationId = config.applicationId;
    const optimization = config.topologyOptimization ?? 'none';
    if (!OPTIMIZATIONS.includes(optimization)) {
      throw new TopologyError(
        `topologyOptimization must be one of ${OPTIMIZATIONS.map((o) => `'${o}'`).join(', ')}, got ${JSON.stringify(optimization)}`,
      );
    }
    this.optimization = optimization;
    const problems = [...graph.problems, ...validate(graph)];
    if (problems.length > 0) throw new TopologyError(`The topology cannot be built:\n - ${problems.join('\n - ')}`);
    this.stores = optimization === 'none' ? new Map(graph.stores) : reuseSourceTopics(graph, (ref) => this.topicName(ref));
    const all = split(graph, this.stores, (ref) => this.topicName(ref));
    const isGlobal = (sub: Subtopology): boolean => sub.nodes.some((n) => n.kind === 'source' && n.global === true);
    // Stream sub-topologies keep dense ids (their task ids); global ones are numbered after them.
    this.subtopologies = all.filter((s) => !isGlobal(s)).map((s, id) => ({ ...s, id }));
    this.globalSubtopologies = all.filter(isGlobal).map((s, i) => ({ ...s, id: this.subtopologies.length + i }));
    checkCycles(this.subtopologies, (ref) => this.topicName(ref));
    this.internalTopics = this.collectInternalTopics(graph);
    this.copartitionGroups = (graph.copartitionGroups ?? []).map((group) => ({
      join: group.joinName,
      topics: [...new Set(group.sides.flatMap((side) => sourceTopicsOf(graph, side).map((t) => this.topicName(t))))],
    }));
    const explicit = new Map([...graph.repartitionTopics.values()].map((r) => [this.topicName({ name: r.name, internal: true }), r.numberOfPartitions]));
    for (const group of this.copartitionGroups) {
      const counts = group.topics.map((t) => [t, explicit.get(t)] as const);
      if (counts.every(([, n]) => n !== undefined) && new Set(counts.map(([, n]) => n)).size > 1) {
        throw new TopologyError(
          `The join ${group.join} reads topics that are not co-partitioned: ` +
            `${counts.map(([t, n]) => `${t} (${n} partitions)`).join(', ')}. Give them the same numberOfPartitions.`,
        );
      }
    }
  }

  /** @internal The full name of a topic reference (internal ones get the application id prefix). */
  topicName(ref: TopicRef): string {
    return ref.internal ? `${this.applicationId}-${ref.name}` : ref.name;
  }

  /** Topics the application reads that it does not create (global tables' topics included): they must exist before start. */
  externalSourceTopics(): string[] {
    const internal = new Set(this.internalTopics.map((t) => t.name));
    const read = [...this.subtopologies, ...this.globalSubtopologies].flatMap((s) => s.sourceTopics);
    return [...new Set(read)].filter((t) => !internal.has(t)).sort();
  }

  /** The global sub-topology that reads `topic`, if any. */
  globalSubtopologyOfTopic(topic: string): Subtopology | undefined {
    return this.globalSubtopologies.find((s) => s.sourceByTopic.has(topic));
  }

  /** The names of the global stores: readable by every processor without being connected to it. */
  globalStoreNames(): string[] {
    return this.globalSubtopologies.flatMap((s) => s.stores.map((d) => d.name));
  }

  /** The sub-topology that reads `topic`, if any. */
  subtopologyOfTopic(topic: string): Subtopology | undefined {
    return this.subtopologies.find((s) => s.sourceByTopic.has(topic));
  }

  /** A description to print (`toString()`) or draw (`toMermaid()`), as `kstreams describe` does. */
  describe(): TopologyDescription {
    return new TopologyDescription(this);
  }

  private collectInternalTopics(graph: DeclaredGraph): InternalTopic[] {
    const topics: InternalTopic[] = [];
    for (const repartition of graph.repartitionTopics.values()) {
      const name = this.topicName({ name: repartition.name, internal: true });
      const consumer = this.subtopologyOfTopic(name);
      if (consumer === undefined) continue;
      topics.push({
        name,
        kind: 'repartition',
        numberOfPartitions: repartition.numberOfPartitions,
        // As in Kafka Streams: no time retention (a replayed backlog carries old timestamps); the runtime
        // deletes records once their consumer has committed past them.
        config: { 'cleanup.policy': 'delete', 'retention.ms': '-1', 'segment.bytes': String(50 * 1024 * 1024) },
        subtopologyId: consumer.id,
      });
    }
    for (const sub of this.subtopologies) {
      for (const store of sub.stores) {
        if (!store.loggingEnabled) continue;
        topics.push({
          name: changelogTopicName(this.applicationId, store.name),
          kind: 'changelog',
          config: changelogTopicConfig(store),
          subtopologyId: sub.id,
          storeName: store.name,
        });
      }
    }
    return topics;
  }
}

function validate(graph: DeclaredGraph): string[] {
  const problems: string[] = [];
  const nodes = [...graph.nodes.values()];
  if (!nodes.some((n) => n.kind === 'source')) {
    problems.push('The topology has no source: read a topic with builder.stream(topic) first.');
  }
  for (const node of nodes) {
    if (node.kind === 'source') {
      if (node.topics.length === 0 || node.topics.some((t) => t.name.trim() === '')) {
        problems.push(`Source ${node.name} names no topic: pass a topic name to builder.stream().`);
      }
      continue;
    }
    for (const parent of node.parents) {
      if (!graph.nodes.has(parent)) problems.push(`${node.name} reads from '${parent}', which does not exist.`);
    }
    if (node.kind === 'processor') {
      for (const store of node.stores) {
        if (!graph.stores.has(store)) {
          problems.push(
            `Processor ${node.name} uses the state store '${store}', which was never added: ` +
              'add it with builder.addStateStore(Stores...) or fix the name.',
          );
        }
      }
    }
  }
  const used = new Set(nodes.flatMap((n) => (n.kind === 'processor' ? n.stores : [])));
  for (const store of graph.stores.keys()) {
    if (!used.has(store)) {
      problems.push(
        `The state store '${store}' is not connected to any processor: pass its name to stream.process(..., '${store}') ` +
          'or remove it.',
      );
    }
  }
  return problems;
}

/**
 * The stores with the stores of `builder.table(topic)` restored from `topic` and not logged (Kafka Streams'
 * `reuse.ktable.source.topics`: TableSourceNode disables logging and connects the store to its source topic).
 */
function reuseSourceTopics(graph: DeclaredGraph, resolve: (ref: TopicRef) => string): Map<string, StoreDefinition> {
  const stores = new Map(graph.stores);
  for (const [name, sourceName] of graph.tableSourceStores ?? []) {
    const store = stores.get(name);
    const source = graph.nodes.get(sourceName);
    if (store === undefined || source?.kind !== 'source' || source.topics.length !== 1) continue;
    // A versioned store keeps its own changelog: its records carry each version's timestamp in the value (see
    // VersionedStore), which the input topic's records do not.
    if (store.type === 'versioned') continue;
    stores.set(name, { ...store, loggingEnabled: false, sourceChangelogTopic: resolve(source.topics[0]!) });
  }
  return stores;
}

/** The source topics a node reads from, through its ancestors (within the declared graph). */
function sourceTopicsOf(graph: DeclaredGraph, name: string): TopicRef[] {
  const seen = new Set<string>();
  const topics: TopicRef[] = [];
  const visit = (n: string): void => {
    if (seen.has(n)) return;
    seen.add(n);
    const node = graph.nodes.get(n);
    if (node === undefined) return;
    if (node.kind === 'source') topics.push(...node.topics);
    else for (const p of node.parents) visit(p);
  };
  visit(name);
  return topics;
}

/** Union-find over nodes joined by an edge or a shared store; each component is one sub-topology. */
function split(graph: DeclaredGraph, stores: ReadonlyMap<string, StoreDefinition>, resolve: (ref: TopicRef) => string): Subtopology[] {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let root = x;
    while (parent.get(root) !== root) root = parent.get(root)!;
    parent.set(x, root);
    return root;
  };
  const union = (a: string, b: string): void => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(ra, rb);
  };
  for (const name of graph.nodes.keys()) parent.set(name, name);
  const storeOwner = new Map<string, string>();
  for (const node of graph.nodes.values()) {
    if (node.kind !== 'source') for (const p of node.parents) union(node.name, p);
    if (node.kind === 'processor') {
      for (const store of node.stores) {
        const owner = storeOwner.get(store);
        if (owner === undefined) storeOwner.set(store, node.name);
        else union(owner, node.name);
      }
    }
  }
  const groups = new Map<string, NodeDef[]>();
  for (const node of graph.nodes.values()) {
    const root = find(node.name);
    groups.set(root, [...(groups.get(root) ?? []), node]);
  }
  const ordered = [...groups.values()]
    .map((nodes) => nodes.sort((a, b) => a.index - b.index))
    .sort((a, b) => a[0]!.index - b[0]!.index);
  return ordered.map((nodes, id) => {
    const sources = nodes.filter((n): n is SourceNodeDef => n.kind === 'source');
    const sourceByTopic = new Map<string, SourceNodeDef>();
    for (const source of sources) for (const t of source.topics) sourceByTopic.set(resolve(t), source);
    const sinkTopics = nodes
      .filter((n): n is SinkNodeDef => n.kind === 'sink')
      .flatMap((s) => (typeof s.topic === 'function' ? [] : [resolve(s.topic)]));
    const storeNames = new Set(nodes.flatMap((n) => (n.kind === 'processor' ? n.stores : [])));
    return {
      id,
      nodes,
      sourceTopics: [...sourceByTopic.keys()],
      sinkTopics: [...new Set(sinkTopics)],
      stores: [...storeNames].map((s) => stores.get(s)!),
      sourceByTopic,
    };
  });
}

/**
 * A record that (through topics) comes back to a node it passed would be processed forever. The check is on
 * nodes, not sub-topologies: a foreign-key join's sub-topologies feed each other (subscriptions one way,
 * answers the other), but no record returns to where it was.
 */
function checkCycles(subtopologies: readonly Subtopology[], resolve: (ref: TopicRef) => string): void {
  const readers = new Map<string, SourceNodeDef[]>();
  for (const sub of subtopologies) for (const [topic, source] of sub.sourceByTopic) readers.set(topic, [...(readers.get(topic) ?? []), source]);
  const children = new Map<string, Array<{ node: NodeDef; topic?: string }>>();
  for (const sub of subtopologies) {
    for (const node of sub.nodes) {
      if (node.kind !== 'source') for (const p of node.parents) children.set(p, [...(children.get(p) ?? []), { node }]);
      if (node.kind === 'sink' && typeof node.topic !== 'function') {
        const topic = resolve(node.topic);
        for (const source of readers.get(topic) ?? []) children.set(node.name, [...(children.get(node.name) ?? []), { node: source, topic }]);
      }
    }
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (node: NodeDef, path: string[]): void => {
    if (state.get(node.name) === 'done') return;
    if (state.get(node.name) === 'visiting') {
      throw new TopologyError(
        `The topology has a cycle through topics ${path.join(' -> ')}: a sub-topology would read its own output. ` +
          'Write to a topic that the application does not read, or split it into two applications.',
      );
    }
    state.set(node.name, 'visiting');
    for (const child of children.get(node.name) ?? []) visit(child.node, child.topic === undefined ? path : [...path, child.topic]);
    state.set(node.name, 'done');
  };
  for (const sub of subtopologies) for (const node of sub.nodes) visit(node, []);
}
