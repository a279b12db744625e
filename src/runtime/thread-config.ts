import type { ResolvedStreamsConfig } from '../config/streams-config.js';
import type { ManagedStore } from '../stores/managed-store.js';
import type { WriteLimitsByTopic } from './topic-write-limits.js';

/**
 * The config a stream thread runs with: the application's config and, once they are restored, the global
 * stores, which every task's processors can read. The config layer knows no stores, so the runtime adds
 * them here; a config fresh from resolveConfig is a ThreadConfig without global stores.
 */
export interface ThreadConfig extends ResolvedStreamsConfig {
  readonly globalStores?: ReadonlyMap<string, ManagedStore>;
  /** What each topic the application writes by name accepts, read at start (see topic-write-limits.ts). */
  readonly writeLimits?: WriteLimitsByTopic;
}
