import type { ProcessorContext } from '../../../processor/processor-api.js';
import type { StreamRecord } from '../../../processor/record.js';
import type { StateStore } from '../../../stores/state-store.js';
import { change, type Change } from '../change.js';

interface CachedStore {
  readonly cachingEnabled?: boolean;
  setFlushListener?(listener: (record: StreamRecord<unknown, unknown>, oldValue?: unknown) => void): void;
}

/**
 * Kafka Streams' record cache for a table's store (TimestampedTupleForwarder with its
 * TimestampedCacheFlushListener): when the store caches, the processor does not forward its results itself;
 * the store forwards the latest change of each changed entry when it flushes (at commit, or when the cache is
 * full), with the value on disk as the old value when `sendOldValues`. Returns true when forwarding goes
 * through the cache.
 */
export function forwardThroughCache(
  store: StateStore,
  context: ProcessorContext<unknown, Change<unknown>>,
  sendOldValues: boolean,
): boolean {
  const cached = store as CachedStore;
  if (cached.cachingEnabled !== true || cached.setFlushListener === undefined) return false;
  cached.setFlushListener((record, oldValue) =>
    context.forward({ ...record, value: change(record.value, sendOldValues ? oldValue : null) }),
  );
  return true;
}
