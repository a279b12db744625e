import type { ProcessorSupplier } from '../../../processor/processor-api.js';
import type { InternalProcessorContext } from '../../../processor/internals/internal-processor-context.js';
import type { Serde } from '../../../serdes/serde.js';
import type { KeyValueStore } from '../../../stores/state-store.js';
import { combinedKey } from './combined-key.js';
import type { SubscriptionWrapper } from './subscription-wrapper.js';

/** A subscription on its way from the store to the lookup of the foreign key's value. */
export interface CombinedKey {
  readonly foreignKey: unknown;
  readonly primaryKey: unknown;
}

/** The serdes of the subscription store's keys and values. */
export interface SubscriptionStoreSerdes {
  readonly foreignKeySerde: Serde<unknown>;
  readonly primaryKeySerde: Serde<unknown>;
  readonly wrapperSerde: Serde<SubscriptionWrapper>;
  /** The registration topic without the application id (pseudo topics `<app>-<it>-fk` / `-pk` for the key serdes). */
  readonly registrationTopic: string;
}

/**
 * The right side's receipt of a subscription (Kafka Streams' SubscriptionReceiveProcessorSupplier): a DELETE_*
 * instruction removes (foreign key, primary key) from the subscription store, any other puts it there; the
 * subscription then goes on to be answered. A null foreign key is kept out of the store and only answered
 * (PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE, a left join's), other instructions with one are dropped.
 */
export function subscriptionReceive(storeName: string, serdes: SubscriptionStoreSerdes): ProcessorSupplier<unknown, SubscriptionWrapper, CombinedKey, SubscriptionWrapper> {
  return () => {
    let context!: InternalProcessorContext<CombinedKey, SubscriptionWrapper>;
    let store!: KeyValueStore<Buffer, Buffer>;
    let topic = '';
    return {
      init(ctx) {
        context = ctx as InternalProcessorContext<CombinedKey, SubscriptionWrapper>;
        store = ctx.getStateStore(storeName);
        topic = `${ctx.applicationId}-${serdes.registrationTopic}`;
      },
      process(record) {
        const wrapper = record.value;
        const foreignKey = record.key ?? null;
        if (foreignKey === null && wrapper.instruction !== 'PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE') {
          context.recordDropped('null-key', 'a subscription of a foreign-key join with a null foreign key');
          return;
        }
        if (foreignKey !== null) {
          const key = combinedKey(
            serdes.foreignKeySerde.serialize(foreignKey, `${topic}-fk`),
            serdes.primaryKeySerde.serialize(wrapper.primaryKey, `${topic}-pk`),
          );
          if (wrapper.instruction === 'DELETE_KEY_AND_PROPAGATE' || wrapper.instruction === 'DELETE_KEY_NO_PROPAGATE') store.delete(key);
          else store.put(key, serdes.wrapperSerde.serialize(wrapper, topic));
        }
        context.forward({ ...record, key: { foreignKey, primaryKey: wrapper.primaryKey } });
      },
    };
  };
}
