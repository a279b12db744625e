import type { StoreDefinition } from '../processor/store-definition.js';
import type { BytesStore } from './bytes-store.js';
import { LevelDbBytesStore } from './leveldb-bytes-store.js';
import { SegmentedLevelDbBytesStore } from './segmented-leveldb-bytes-store.js';

/** A byte store kept in a folder on disk, with the metadata the runtime records beside its data. */
export interface LocalBytesStore extends BytesStore {
  /** The store's folder. */
  readonly path: string;
  /** True when there was no store at `path`: this open created it empty. */
  readonly created: boolean;
  /** Metadata entries whose names start with `prefix` (layout, schemas), never part of the data. */
  metadata(prefix: string): Promise<Array<[string, Buffer]>>;
  putMetadata(name: string, value: Buffer): Promise<void>;
}

/** Opening and removing the on-disk store of a definition: the one place that picks its kind. */
export const LocalStores = {
  /**
   * Opens (or creates) the local store of a definition: session and window stores keep one LevelDB per time
   * segment, so an expired segment is a deleted folder (measured against one LevelDB with range deletes: see
   * the README's "State over a month"); key-value stores keep a single LevelDB. Damage raises
   * DamagedStoreError naming `path`, as LevelDbBytesStore.open does.
   */
  open(definition: StoreDefinition, path: string): Promise<LocalBytesStore> {
    return definition.type === 'keyValue' ? LevelDbBytesStore.open(path) : SegmentedLevelDbBytesStore.open(path);
  },

  /** Removes a local store's folder, whatever its kind; the next open starts empty. */
  destroy(path: string): Promise<void> {
    return LevelDbBytesStore.destroy(path);
  },

  /** Whether a byte store is a local one (in-memory stores keep no metadata). */
  isLocal(bytes: BytesStore): bytes is LocalBytesStore {
    return bytes instanceof LevelDbBytesStore || bytes instanceof SegmentedLevelDbBytesStore;
  },
};
