import type { NodeDef } from './internals/graph.js';
import type { Topology } from './topology.js';

/** Java's `String#hashCode`: 31-based over UTF-16 code units, in 32-bit arithmetic. */
function javaStringHash(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
  return hash;
}

/**
 * A processor's stores in the order Kafka Streams prints them: its description holds them in a `HashSet`
 * (InternalTopologyBuilder.ProcessorNodeFactory#describe), so they come out by hash bucket (HashMap spreads a
 * hash as `h ^ (h >>> 16)` over 16 buckets for up to 12 names), then in the order they were connected.
 */
function inJavaHashSetOrder(stores: readonly string[]): string[] {
  const buckets = Math.max(16, 2 ** Math.ceil(Math.log2(Math.floor(stores.length / 0.75) + 1)));
  const bucketOf = (name: string): number => {
    const h = javaStringHash(name);
    return (h ^ (h >>> 16)) & (buckets - 1);
  };
  // Array#sort is stable: names in one bucket keep their connection order.
  return [...stores].sort((a, b) => bucketOf(a) - bucketOf(b));
}

/** A readable view of a built topology, printed as Kafka Streams prints `Topology#describe()`. */
export class TopologyDescription {
  constructor(private readonly topology: Topology) {}

  private children(nodes: readonly NodeDef[]): Map<string, string[]> {
    const children = new Map<string, string[]>();
    for (const node of nodes) {
      if (node.kind === 'source') continue;
      for (const p of node.parents) children.set(p, [...(children.get(p) ?? []), node.name]);
    }
    return children;
  }

  /**
   * Kafka Streams' order of a sub-topology's nodes (InternalTopologyBuilder's NodeComparator): by the size of
   * the sub-tree under each node, largest first (a node reached by two paths counts twice, as there), then
   * by name.
   */
  private ordered(nodes: readonly NodeDef[], children: ReadonlyMap<string, string[]>): NodeDef[] {
    const sizes = new Map<string, number>();
    const size = (name: string): number => {
      let known = sizes.get(name);
      if (known === undefined) {
        known = 1 + (children.get(name) ?? []).reduce((sum, child) => sum + size(child), 0);
        sizes.set(name, known);
      }
      return known;
    };
    return [...nodes].sort((a, b) => size(b.name) - size(a.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private nodeText(node: NodeDef, children: ReadonlyMap<string, string[]>): string {
    const next = children.get(node.name) ?? [];
    const successors = `      --> ${next.length === 0 ? 'none' : next.join(', ')}`;
    if (node.kind === 'source') {
      return `Source: ${node.name} (topics: [${node.topics.map((t) => this.topology.topicName(t)).join(', ')}])\n${successors}`;
    }
    if (node.kind === 'processor') {
      return `Processor: ${node.name} (stores: [${inJavaHashSetOrder(node.stores).join(', ')}])\n${successors}\n      <-- ${node.parents.join(', ')}`;
    }
    const topic = typeof node.topic === 'function' ? '(extractor)' : this.topology.topicName(node.topic);
    return `Sink: ${node.name} (topic: ${topic})\n      <-- ${node.parents.join(', ')}`;
  }

  /**
   * The text Kafka Streams' `Topology.describe()` prints, to the character: sub-topologies with their
   * sources, processors, sinks and stores, in its node order; a global store as a sub-topology of its
   * source and processor, "for global store (will not generate tasks)". Ours numbers global sub-topologies
   * after the others (our task ids use the numbers), where Kafka Streams numbers them in declaration order.
   */
  toString(): string {
    // As Kafka Streams': the first entry is indented one space more than the others.
    let text = 'Topologies:\n ';
    for (const sub of [...this.topology.subtopologies, ...this.topology.globalSubtopologies]) {
      const global = sub.id >= this.topology.subtopologies.length;
      const children = this.children(sub.nodes);
      const nodes = this.ordered(sub.nodes, children).map((node) => `    ${this.nodeText(node, children)}\n`);
      text += global
        ? `  Sub-topology: ${sub.id} for global store (will not generate tasks)\n${nodes.join('')}`
        : `  Sub-topology: ${sub.id}\n${nodes.join('')}\n`;
    }
    return text;
  }

  /**
   * A Mermaid flowchart: one subgraph per sub-topology, topics as round nodes, stores as cylinders; a
   * dotted arrow from a global store to each processor that reads it (a stream-GlobalKTable join).
   */
  toMermaid(): string {
    const id = (name: string): string => name.replace(/[^a-zA-Z0-9_]/g, '_');
    const lines = ['flowchart TD'];
    const topics = new Set<string>();
    for (const sub of [...this.topology.subtopologies, ...this.topology.globalSubtopologies]) {
      const global = sub.id >= this.topology.subtopologies.length;
      lines.push(`  subgraph sub${sub.id}["${global ? 'Global store' : 'Sub-topology'} ${sub.id}"]`);
      for (const node of sub.nodes) lines.push(`    ${id(node.name)}["${node.name}"]`);
      lines.push('  end');
      for (const node of sub.nodes) {
        if (node.kind === 'source') {
          for (const t of node.topics) {
            const topic = this.topology.topicName(t);
            topics.add(topic);
            lines.push(`  topic_${id(topic)} --> ${id(node.name)}`);
          }
        } else {
          for (const p of node.parents) lines.push(`  ${id(p)} --> ${id(node.name)}`);
          if (node.kind === 'processor') {
            for (const s of node.stores) lines.push(`  ${id(node.name)} --- store_${id(s)}[("${s}")]`);
            for (const s of node.readsGlobalStores ?? []) lines.push(`  store_${id(s)}[("${s}")] -.-> ${id(node.name)}`);
          } else if (typeof node.topic !== 'function') {
            const topic = this.topology.topicName(node.topic);
            topics.add(topic);
            lines.push(`  ${id(node.name)} --> topic_${id(topic)}`);
          }
        }
      }
    }
    for (const t of topics) lines.push(`  topic_${id(t)}(["${t}"])`);
    return `${lines.join('\n')}\n`;
  }
}
