import type { ProcessorSupplier } from '../../../processor/processor-api.js';
import type { TimestampedKeyValueStore } from '../../../stores/state-store.js';
import type { InternalProcessorContext } from '../../../processor/internals/internal-processor-context.js';
import type { Change } from '../change.js';
import type { AggregateProducer } from '../table-producer.js';
import { TupleForwarder } from './cached-forwarding.js';
import type { Aggregator, Initializer } from './functions.js';

/**
 * Aggregation of a grouped stream into a key-value store (count, reduce and aggregate), as Kafka Streams'
 * KStreamAggregate / KStreamReduce: the new aggregate of the key is stored and forwarded as a change (with
 * the previous aggregate when the table sends old values), stamped with the largest record timestamp that
 * went into it. Records with a null key or value are dropped. `initializer` undefined means reduce: the
 * first value becomes the aggregate.
 */
export function kstreamAggregate(
  storeName: string,
  initializer: Initializer<unknown> | undefined,
  aggregator: Aggregator<unknown, unknown, unknown>,
  producer: AggregateProducer,
): ProcessorSupplier<unknown, unknown, unknown, Change<unknown>> {
  return () => {
    let context!: InternalProcessorContext<unknown, Change<unknown>>;
    let store!: TimestampedKeyValueStore<unknown, unknown>;
    let forwarder!: TupleForwarder;
    return {
      init(ctx) {
        context = ctx as InternalProcessorContext<unknown, Change<unknown>>;
        forwarder = TupleForwarder.open(context, storeName, producer.sendOldValues);
        store = forwarder.store;
      },
      process(record) {
        if (record.key === null || record.key === undefined || record.value === null || record.value === undefined) {
          context.recordDropped('null-key', 'null key or value');
          return;
        }
        const old = store.getWithTimestamp(record.key);
        const next =
          old === undefined
            ? initializer === undefined
              ? record.value
              : aggregator(record.key, record.value, initializer())
            : aggregator(record.key, record.value, old.value);
        // The result carries the largest timestamp that went into it, as in Kafka Streams (KStreamAggregate).
        const timestamp = old === undefined ? record.timestamp : Math.max(record.timestamp, old.timestamp);
        store.putWithTimestamp(record.key, next, timestamp);
        forwarder.maybeForward(record, next, old?.value, timestamp);
      },
    };
  };
}
