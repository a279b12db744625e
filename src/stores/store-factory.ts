import type { BytesStore } from './bytes-store.js';
import { CachingKeyValueStore } from './key-value-store.js';
import type { ManagedStore } from './managed-store.js';
import { CachingSessionStore } from './session-store.js';
import type { StoreDefinition } from '../processor/store-definition.js';
import { CachingWindowStore } from './window-store.js';

/** The typed store of a definition over a byte store. */
export function createStore(
  definition: StoreDefinition,
  bytes: BytesStore,
  cacheBudgetBytes: number,
): ManagedStore {
  switch (definition.type) {
    case 'keyValue':
      return new CachingKeyValueStore(definition, bytes, cacheBudgetBytes);
    case 'session':
      return new CachingSessionStore(definition, bytes, cacheBudgetBytes);
    case 'window':
      return new CachingWindowStore(definition, bytes, cacheBudgetBytes);
  }
}
