import type { ProcessorContext } from '../../../processor/processor-api.js';
import type { StreamRecord } from '../../../processor/record.js';
import { keyValueStoreOf, type ManagedKeyValueStore, type ManagedStore } from '../../../stores/managed-store.js';
import { change, type Change } from '../change.js';

/**
 * Kafka Streams' record cache for a table's store (TimestampedTupleForwarder with its
 * TimestampedCacheFlushListener): when the store caches, the processor does not forward its results itself;
 * the store forwards the latest change of each changed entry when it flushes (at commit, or when the cache is
 * full), with the value on disk as the old value when `sendOldValues`. Returns true when forwarding goes
 * through the cache.
 */
export function forwardThroughCache(
  store: ManagedStore,
  context: ProcessorContext<unknown, Change<unknown>>,
  sendOldValues: boolean,
): boolean {
  if (!store.cachingEnabled) return false;
  store.setFlushListener((record, oldValue) =>
    context.forward({ ...record, value: change(record.value, sendOldValues ? oldValue : null) }),
  );
  return true;
}

/**
 * A table processor's own store and how its changes go downstream (Kafka Streams'
 * TimestampedTupleForwarder): through the store's cache when it caches, else at once; the old value only
 * when the table sends old values.
 */
export class TupleForwarder {
  private readonly forwardNow: boolean;

  constructor(
    private readonly context: ProcessorContext<unknown, Change<unknown>>,
    readonly store: ManagedKeyValueStore,
    readonly sendOldValues: boolean,
  ) {
    this.forwardNow = !forwardThroughCache(store, context, sendOldValues);
  }

  static open(context: ProcessorContext<unknown, Change<unknown>>, storeName: string, sendOldValues: boolean): TupleForwarder {
    return new TupleForwarder(context, keyValueStoreOf(context.getStateStore(storeName)), sendOldValues);
  }

  maybeForward(record: StreamRecord<unknown, unknown>, newValue: unknown, oldValue: unknown, timestamp = record.timestamp): void {
    if (this.forwardNow) this.context.forward({ ...record, value: change(newValue, this.sendOldValues ? oldValue : null), timestamp });
  }
}
