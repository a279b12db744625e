import type { ProcessorSupplier } from '../../../processor/processor-api.js';
import type { InternalProcessorContext } from '../../../processor/internals/internal-processor-context.js';
import type { KeyValueStore } from '../../../stores/state-store.js';
import { Serdes } from '../../../serdes/serdes.js';
import type { Change } from '../change.js';
import { prefixOf } from './combined-key.js';
import type { ResponseWrapper } from './response-wrapper.js';
import type { SubscriptionStoreSerdes } from './subscription-receive.js';

/**
 * A change of the right table answers every subscriber of its key (Kafka Streams'
 * ForeignTableJoinProcessorSupplier): the subscriptions under the key's prefix in the subscription store, in
 * primary-key byte order, each get the new value (null for a deletion), stamped with the change's timestamp.
 * The store lives in memory (rebuilt from its changelog), so that its prefix is read here synchronously, without
 * touching the other subscriptions.
 */
export function foreignTableJoin(storeName: string, serdes: SubscriptionStoreSerdes): ProcessorSupplier<unknown, Change<unknown>, unknown, ResponseWrapper> {
  return () => {
    let context!: InternalProcessorContext<unknown, ResponseWrapper>;
    let store!: KeyValueStore<Buffer, Buffer>;
    let topic = '';
    return {
      init(ctx) {
        context = ctx as InternalProcessorContext<unknown, ResponseWrapper>;
        store = ctx.getStateStore(storeName);
        topic = `${ctx.applicationId}-${serdes.registrationTopic}`;
      },
      process(record) {
        if (record.key === null || record.key === undefined) {
          context.recordDropped('null-key', 'a table needs a key');
          return;
        }
        // ForeignTableJoinProcessorSupplier (KIP-914): an out-of-order update of a versioned table is dropped.
        if (record.value.isLatest === false) {
          context.recordDropped('late', 'an out-of-order update of a versioned table');
          return;
        }
        const prefix = prefixOf(serdes.foreignKeySerde.serialize(record.key, `${topic}-fk`));
        for (const { value } of store.prefixScan(prefix, Serdes.Buffer())) {
          const subscription = serdes.wrapperSerde.deserialize(value, topic);
          context.forward({
            ...record,
            key: subscription.primaryKey,
            value: { hash: subscription.hash, foreignValue: record.value.newValue, primaryPartition: subscription.primaryPartition },
          });
        }
      },
    };
  };
}
