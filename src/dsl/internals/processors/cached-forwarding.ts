import type { ProcessorContext } from '../../../processor/processor-api.js';
import type { StateStore } from '../../../stores/state-store.js';

interface CachedStore {
  readonly cachingEnabled?: boolean;
  setFlushListener?(listener: (record: { key: unknown; value: unknown; timestamp: number; headers: {} }) => void): void;
}

/**
 * Kafka Streams' record cache for an aggregation's results: when the store caches, the processor does not
 * forward its results itself; the store forwards the latest result of each changed entry when it flushes
 * (at commit, or when the cache is full). Returns true when forwarding goes through the cache.
 */
export function forwardThroughCache(store: StateStore, context: ProcessorContext<unknown, unknown>): boolean {
  const cached = store as CachedStore;
  if (cached.cachingEnabled !== true || cached.setFlushListener === undefined) return false;
  cached.setFlushListener((record) => context.forward(record));
  return true;
}
