import type { NodeDef } from './internals/graph.js';
import type { Topology } from './topology.js';

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

  /** The text Kafka Streams' `Topology.describe()` prints: sub-topologies with their sources, processors, sinks and stores. */
  toString(): string {
    const lines: string[] = ['Topologies:'];
    for (const sub of [...this.topology.subtopologies, ...this.topology.globalSubtopologies]) {
      const global = sub.id >= this.topology.subtopologies.length;
      lines.push(`   Sub-topology: ${sub.id}${global ? ' for global store (will not generate tasks)' : ''}`);
      const children = this.children(sub.nodes);
      for (const node of sub.nodes) {
        const next = children.get(node.name) ?? [];
        const successors = `      --> ${next.length === 0 ? 'none' : next.join(', ')}`;
        if (node.kind === 'source') {
          lines.push(`    Source: ${node.name} (topics: [${node.topics.map((t) => this.topology.topicName(t)).join(', ')}])`);
          lines.push(successors);
        } else if (node.kind === 'processor') {
          lines.push(`    Processor: ${node.name} (stores: [${node.stores.join(', ')}])`);
          lines.push(successors);
          lines.push(`      <-- ${node.parents.join(', ')}`);
        } else {
          const topic = typeof node.topic === 'function' ? '(extractor)' : this.topology.topicName(node.topic);
          lines.push(`    Sink: ${node.name} (topic: ${topic})`);
          lines.push(`      <-- ${node.parents.join(', ')}`);
        }
      }
      lines.push('');
    }
    return `${lines.join('\n')}\n`;
  }

  /** A Mermaid flowchart: one subgraph per sub-topology, topics as round nodes, stores as cylinders. */
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
