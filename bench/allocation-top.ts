/**
 * `tsx bench/allocation-top.ts <file> [--stacks]`: the functions that allocated the most bytes in a profile
 * written by bench/lib/allocation-sampling.ts, with their share; `--stacks` adds the top call chains.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

const [file, flag] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: tsx bench/allocation-top.ts <file> [--stacks]');
  process.exit(2);
}
const head = (JSON.parse(readFileSync(file, 'utf8')) as { head: ProfileNode }).head;
const bySelf = new Map<string, number>();
const byStack = new Map<string, number>();
let total = 0;
const walk = (node: ProfileNode, stack: string[]): void => {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules\/)?/, '')}:${lineNumber + 1}`;
  const chain = [name, ...stack].slice(0, 4);
  total += node.selfSize;
  bySelf.set(name, (bySelf.get(name) ?? 0) + node.selfSize);
  if (node.selfSize > 0) byStack.set(chain.join(' < '), (byStack.get(chain.join(' < ')) ?? 0) + node.selfSize);
  for (const child of node.children) walk(child, chain);
};
walk(head, []);
const mb = (bytes: number): string => (bytes / 1048576).toFixed(0).padStart(6);
console.log(`${mb(total)} MB allocated in all`);
for (const [name, bytes] of [...bySelf].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
  console.log(`${mb(bytes)} MB ${((100 * bytes) / total).toFixed(1).padStart(5)}%  ${name}`);
}
if (flag === '--stacks') {
  console.log('\ncall chains (allocating function first):');
  for (const [chain, bytes] of [...byStack].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${mb(bytes)} MB  ${chain}`);
}
