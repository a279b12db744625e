import type { BytesStore } from './bytes-store.js';
import type { ChangeLogging } from './change-logging.js';
import { CachingKeyValueStore } from './key-value-store.js';
import type { ManagedStore } from './managed-store.js';
import { CachingSessionStore } from './session-store.js';
import type { StoreDefinition } from '../processor/store-definition.js';
import { CachingWindowStore } from './window-store.js';
import { VersionedStore } from './versioned-store.js';

/**
 * The store of a definition, built as layers: typed access and the write cache over the change-logging
 * layer (when given: see ChangeLogging.of) over a byte store. `recordTopics`: the topics of the records that
 * write it (its sub-topology's sources), whose names count in its cache entries' charge.
 */
export function createStore(
  definition: StoreDefinition,
  bytes: BytesStore,
  cacheBudgetBytes: number,
  logging?: ChangeLogging,
  recordTopics: readonly string[] = [],
): ManagedStore {
  const store = storeOfType(definition, bytes, cacheBudgetBytes, logging);
  store.setRecordTopics(recordTopics);
  return store;
}

function storeOfType(definition: StoreDefinition, bytes: BytesStore, cacheBudgetBytes: number, logging: ChangeLogging | undefined): ManagedStore {
  switch (definition.type) {
    case 'keyValue':
      return new CachingKeyValueStore(definition, bytes, cacheBudgetBytes, logging);
    case 'session':
      return new CachingSessionStore(definition, bytes, cacheBudgetBytes, logging);
    case 'window':
      return new CachingWindowStore(definition, bytes, cacheBudgetBytes, logging);
    case 'versioned':
      return new VersionedStore(definition, bytes, cacheBudgetBytes, logging);
  }
}
