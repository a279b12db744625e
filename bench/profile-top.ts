/**
 * `tsx bench/profile-top.ts <file.cpuprofile> [n]`: the top n functions (default 25) of a V8 CPU profile
 * (`node --cpu-prof`) by self time, with their share of the sampled time, and the share of GC.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, count] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: tsx bench/profile-top.ts <file.cpuprofile> [n]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
// Self time per sample: each sample's time delta belongs to the node it hit.
const selfMicros = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const frame = byId.get(id)!.callFrame;
  const where = frame.url === '' ? '' : ` ${frame.url.replace(/^.*\/(node_modules|src|bench|examples)\//, '$1/')}:${frame.lineNumber + 1}`;
  const name = `${frame.functionName || '(anonymous)'}${where}`;
  const delta = profile.timeDeltas[i] ?? 0;
  selfMicros.set(name, (selfMicros.get(name) ?? 0) + delta);
  total += delta;
});
const idle = selfMicros.get('(idle)') ?? 0;
const busy = total - idle;
console.log(`sampled ${(total / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s; shares below are of busy time`);
const top = [...selfMicros].filter(([name]) => name !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, Number(count ?? 25));
for (const [name, micros] of top) console.log(`${((100 * micros) / busy).toFixed(1).padStart(5)}%  ${(micros / 1000).toFixed(0).padStart(6)} ms  ${name}`);
