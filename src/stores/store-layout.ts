import type { StoreDefinition } from '../processor/store-definition.js';
import type { LocalBytesStore } from './local-store.js';

const LAYOUT_KEY = 'layout';

/**
 * The local layout a store of this definition is written in, recorded in the store's metadata so that a
 * later version never reads data laid out otherwise: it rebuilds the store from its changelog instead.
 * Bump a version whenever the bytes of a store type change.
 */
export function storeLayout(definition: StoreDefinition): string {
  const values = definition.timestamped === true ? 'timestamped' : 'plain';
  switch (definition.type) {
    case 'keyValue':
      return `keyValue/${values}`;
    case 'session':
      return 'session/segment-databases-v3';
    case 'window':
      return `window/segment-databases-v3/${values}`;
    case 'versioned':
      return 'versioned/history-per-key-v1';
  }
}

export const StoreLayout = {
  /**
   * Why this version cannot read the local store (undefined: it can). A store with data but no recorded
   * layout was written before layouts were recorded: its session and window stores kept all sessions or
   * windows of a key in one value (no segments). Key-value stores kept the layout they have now.
   */
  async outdated(definition: StoreDefinition, store: LocalBytesStore): Promise<string | undefined> {
    const wanted = storeLayout(definition);
    const recorded = (await store.metadata(LAYOUT_KEY)).find(([name]) => name === LAYOUT_KEY)?.[1].toString();
    if (recorded !== undefined) {
      return recorded === wanted ? undefined : `it is written in layout ${recorded}, this version reads ${wanted}`;
    }
    if (definition.type === 'keyValue' || definition.type === 'versioned' || store.created || !(await hasData(store))) return undefined;
    return `it was written by an earlier version in the ${definition.type} layout without segments (one value per key), this version reads ${wanted}`;
  },

  /** Records the layout this version writes (after the store was found readable, or created). */
  async record(definition: StoreDefinition, store: LocalBytesStore): Promise<void> {
    await store.putMetadata(LAYOUT_KEY, Buffer.from(storeLayout(definition)));
  },
};

async function hasData(store: LocalBytesStore): Promise<boolean> {
  if (store.changelogPosition() !== undefined) return true;
  for await (const _ of store.entries()) return true;
  return false;
}
