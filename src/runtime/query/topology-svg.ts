import type { NodeDef } from '../../processor/internals/graph.js';
import type { Topology } from '../../processor/topology.js';

const COLUMN = 300;
const ROW = 70;
const BOX_W = 250;
const BOX_H = 48;
const MARGIN = 20;
const COLORS = { source: '#dbeafe', processor: '#f3f4f6', sink: '#dcfce7' } as const;

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function clip(text: string, max = 38): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * The topology as an SVG diagram, drawn here (no script, no web font, nothing fetched): one column per
 * sub-topology, its nodes top down in declaration order (a topological order), an arrow from each parent,
 * a node's topics or stores under its name. What `describe()` prints, for the status page.
 */
export function topologySvg(topology: Topology): string {
  const subs = [...topology.subtopologies, ...topology.globalSubtopologies];
  const rows = Math.max(1, ...subs.map((s) => s.nodes.length));
  const width = MARGIN * 2 + COLUMN * subs.length;
  const height = MARGIN * 2 + 30 + ROW * rows;
  const parts: string[] = [];
  subs.forEach((sub, column) => {
    const x = MARGIN + column * COLUMN;
    const global = sub.id >= topology.subtopologies.length;
    parts.push(`<text x="${x}" y="${MARGIN + 14}" font-weight="bold">Sub-topology ${sub.id}${global ? ' (global)' : ''}</text>`);
    const position = new Map<string, number>();
    sub.nodes.forEach((node, row) => position.set(node.name, row));
    sub.nodes.forEach((node, row) => {
      const y = MARGIN + 30 + row * ROW;
      for (const parent of 'parents' in node ? node.parents : []) {
        const from = position.get(parent);
        if (from === undefined) continue;
        const y1 = MARGIN + 30 + from * ROW + BOX_H;
        const mid = x + BOX_W / 2;
        const bend = row - from > 1 ? ` C ${mid + 60} ${y1 + 20}, ${mid + 60} ${y - 20}, ${mid} ${y}` : ` L ${mid} ${y}`;
        parts.push(`<path d="M ${mid} ${y1}${bend}" fill="none" stroke="#6b7280" marker-end="url(#arrow)"/>`);
      }
      parts.push(
        `<g class="node ${node.kind}"><rect x="${x}" y="${y}" width="${BOX_W}" height="${BOX_H}" rx="6" fill="${COLORS[node.kind]}" stroke="#374151"/>`,
        `<text x="${x + 8}" y="${y + 19}" font-size="13">${escape(clip(node.name))}</text>`,
        `<text x="${x + 8}" y="${y + 37}" font-size="11" fill="#4b5563">${escape(clip(detail(topology, node), 44))}</text></g>`,
      );
    });
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">` +
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">' +
    '<path d="M 0 0 L 10 5 L 0 10 z" fill="#6b7280"/></marker></defs>' +
    parts.join('') +
    '</svg>'
  );
}

function detail(topology: Topology, node: NodeDef): string {
  if (node.kind === 'source') return `topics: ${node.topics.map((t) => topology.topicName(t)).join(', ')}`;
  if (node.kind === 'processor') return node.stores.length === 0 ? 'processor' : `stores: ${node.stores.join(', ')}`;
  return `topic: ${typeof node.topic === 'function' ? '(extractor)' : topology.topicName(node.topic)}`;
}
