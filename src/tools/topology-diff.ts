import type { Topology } from '../processor/topology.js';

/** What an upgrade from one topology to the next does to state and internal topics. */
export interface TopologyDiff {
  /** Same name and type: the new version finds the old state (schemas permitting). */
  readonly keptStores: string[];
  /** Only in the new version: they start empty. */
  readonly addedStores: string[];
  /** Only in the old version: their state is no longer used. */
  readonly droppedStores: string[];
  /** Same name, another store type: the old state cannot be used. */
  readonly changedStores: Array<{
    /** The store. */
    name: string;
    /** Its kind and serdes before. */
    from: string;
    /** And after. */
    to: string;
  }>;
  /** A dropped and an added store of the same type with generated names: most likely one store renamed. */
  readonly likelyRenamed: Array<{
    /** The old generated name. */
    from: string;
    /** The new one. */
    to: string;
  }>;
  /** Internal topics both versions use. */
  readonly keptTopics: string[];
  /** Internal topics only the new version uses (created at its start). */
  readonly addedTopics: string[];
  /** Internal topics only the old version used (left in place; delete them once the upgrade is done). */
  readonly droppedTopics: string[];
  /** True when no state is lost: every old store is kept. */
  readonly keepsAllState: boolean;
}

const GENERATED = /^KSTREAM-[A-Z-]+-\d{10}$|-\d{10}(-|$)/;

/** Compares the stores and internal topics of two versions of an application's topology. */
export function diffTopologies(previous: Topology, next: Topology): TopologyDiff {
  const before = previous.stores;
  const after = next.stores;
  const keptStores: string[] = [];
  const changedStores: TopologyDiff['changedStores'] = [];
  for (const [name, def] of before) {
    const now = after.get(name);
    if (now === undefined) continue;
    if (now.type === def.type) keptStores.push(name);
    else changedStores.push({ name, from: def.type, to: now.type });
  }
  const droppedStores = [...before.keys()].filter((n) => !after.has(n)).sort();
  const addedStores = [...after.keys()].filter((n) => !before.has(n)).sort();
  const likelyRenamed: TopologyDiff['likelyRenamed'] = [];
  const unmatched = [...addedStores];
  for (const from of droppedStores) {
    const type = before.get(from)!.type;
    const index = unmatched.findIndex((to) => after.get(to)!.type === type && (GENERATED.test(from) || GENERATED.test(to)));
    if (index >= 0) likelyRenamed.push({ from, to: unmatched.splice(index, 1)[0]! });
  }
  const oldTopics = new Set(previous.internalTopics.map((t) => t.name));
  const newTopics = new Set(next.internalTopics.map((t) => t.name));
  return {
    keptStores: keptStores.sort(),
    addedStores,
    droppedStores,
    changedStores,
    likelyRenamed,
    keptTopics: [...newTopics].filter((t) => oldTopics.has(t)).sort(),
    addedTopics: [...newTopics].filter((t) => !oldTopics.has(t)).sort(),
    droppedTopics: [...oldTopics].filter((t) => !newTopics.has(t)).sort(),
    keepsAllState: droppedStores.length === 0 && changedStores.length === 0,
  };
}

/** The diff as `kstreams diff` prints it. */
export function formatTopologyDiff(diff: TopologyDiff): string {
  const lines: string[] = [];
  for (const s of diff.keptStores) lines.push(`  keep    store ${s}`);
  for (const s of diff.addedStores) lines.push(`  add     store ${s} (starts empty)`);
  for (const s of diff.droppedStores) lines.push(`  DROP    store ${s} (its state is no longer used)`);
  for (const c of diff.changedStores) lines.push(`  CHANGE  store ${c.name}: ${c.from} -> ${c.to} (its state cannot be used)`);
  for (const r of diff.likelyRenamed) {
    lines.push(`  RENAME? store ${r.from} -> ${r.to}: generated names shifted; name the store (Materialized.as) to keep its state`);
  }
  for (const t of diff.keptTopics) lines.push(`  keep    topic ${t}`);
  for (const t of diff.addedTopics) lines.push(`  add     topic ${t}`);
  for (const t of diff.droppedTopics) lines.push(`  DROP    topic ${t}`);
  lines.push(diff.keepsAllState ? 'The upgrade keeps all state.' : 'The upgrade LOSES state (see DROP/CHANGE above).');
  return lines.join('\n');
}
