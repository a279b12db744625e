import type { ProcessorSupplier } from '../../../processor/processor-api.js';
import type { InternalProcessorContext } from '../../../processor/internals/internal-processor-context.js';
import type { TimestampedKeyValueStore } from '../../../stores/state-store.js';
import { change, type Change } from '../change.js';
import type { AggregateProducer } from '../table-producer.js';
import { TupleForwarder } from './cached-forwarding.js';
import type { Aggregator, Initializer, KeyValueMapper } from './functions.js';
import type { KeyValue } from '../../../processor/record.js';

/**
 * `groupBy` of a table (Kafka Streams' KTableRepartitionMap): each change becomes a subtraction of the old
 * value under its selected key and an addition of the new one under its own, the subtraction first; when
 * both select the same key they travel as one change. A pair with a null key or value is skipped.
 */
export function ktableRepartitionMap(
  selector: KeyValueMapper<unknown, unknown, KeyValue<unknown, unknown>>,
): ProcessorSupplier<unknown, Change<unknown>, unknown, Change<unknown>> {
  return () => {
    let context!: InternalProcessorContext<unknown, Change<unknown>>;
    const select = (key: unknown, value: unknown): KeyValue<unknown, unknown> | undefined => {
      if (value === null) return undefined;
      const pair = selector(key, value);
      return pair.key === null || pair.key === undefined || pair.value === null || pair.value === undefined ? undefined : pair;
    };
    return {
      init(ctx) {
        context = ctx as InternalProcessorContext<unknown, Change<unknown>>;
      },
      process(record) {
        // Kafka Streams' KTableRepartitionMap with versioned semantics: an out-of-order update of a versioned table is skipped.
        if (record.value.isLatest === false) return;
        const added = select(record.key, record.value.newValue);
        const removed = select(record.key, record.value.oldValue);
        if (added !== undefined && removed !== undefined && sameKey(added.key, removed.key)) {
          context.forward({ ...record, key: added.key, value: change(added.value, removed.value) });
          return;
        }
        if (removed !== undefined) context.forward({ ...record, key: removed.key, value: change(null, removed.value) });
        if (added !== undefined) context.forward({ ...record, key: added.key, value: change(added.value, null) });
      },
    };
  };
}

/** Keys compare by value (Java's equals): primitives directly, others by their JSON. */
function sameKey(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The aggregation of a grouped table (Kafka Streams' KTableAggregate and KTableReduce): a change's old value
 * is subtracted from the key's aggregate, then its new value added (to the initializer's value, or for a
 * reduce as the first value, when there is no aggregate). The result is stored, stamped with the largest
 * timestamp that went into it, and forwarded as a change.
 */
export function ktableAggregate(
  storeName: string,
  initializer: Initializer<unknown> | undefined,
  adder: Aggregator<unknown, unknown, unknown>,
  subtractor: Aggregator<unknown, unknown, unknown>,
  producer: AggregateProducer,
): ProcessorSupplier<unknown, Change<unknown>, unknown, Change<unknown>> {
  return () => {
    let store!: TimestampedKeyValueStore<unknown, unknown>;
    let forwarder!: TupleForwarder;
    return {
      init(ctx) {
        forwarder = TupleForwarder.open(ctx, storeName, producer.sendOldValues);
        store = forwarder.store;
      },
      process(record) {
        const key = record.key;
        const old = store.getWithTimestamp(key);
        const { newValue, oldValue } = record.value;
        let timestamp = record.timestamp;
        let aggregate: unknown = old?.value ?? null;
        if (oldValue !== null && old !== undefined) {
          aggregate = subtractor(key, oldValue, old.value);
          timestamp = Math.max(timestamp, old.timestamp);
        }
        if (newValue !== null) {
          if (aggregate === null || aggregate === undefined) {
            aggregate = initializer === undefined ? newValue : adder(key, newValue, initializer());
          } else {
            aggregate = adder(key, newValue, aggregate);
          }
          if (old !== undefined) timestamp = Math.max(timestamp, old.timestamp);
        }
        store.putWithTimestamp(key, aggregate ?? null, timestamp);
        forwarder.maybeForward(record, aggregate, old?.value, timestamp);
      },
    };
  };
}
