import type { ProcessorContext, ProcessorSupplier } from '../../../processor/processor-api.js';
import type { ValueGetter, ValueGetterSupplier } from '../table-producer.js';
import type { ResponseWrapper } from './response-wrapper.js';
import type { CombinedKey } from './subscription-receive.js';
import type { SubscriptionWrapper } from './subscription-wrapper.js';

/**
 * Answers a subscription with the foreign key's current value in the right table (Kafka Streams'
 * SubscriptionJoinProcessorSupplier), keyed by primary key, stamped with the later of the subscription's and
 * the value's timestamps. DELETE_KEY_AND_PROPAGATE answers null, PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE the value
 * or null, PROPAGATE_ONLY_IF_FK_VAL_AVAILABLE only a value; DELETE_KEY_NO_PROPAGATE does not answer.
 */
export function subscriptionJoin(foreignTable: ValueGetterSupplier): ProcessorSupplier<CombinedKey, SubscriptionWrapper, unknown, ResponseWrapper> {
  return () => {
    let context!: ProcessorContext<unknown, ResponseWrapper>;
    let foreignValues!: ValueGetter;
    return {
      init(ctx) {
        context = ctx;
        foreignValues = foreignTable.get();
        foreignValues.init(ctx);
      },
      process(record) {
        const { foreignKey, primaryKey } = record.key;
        const wrapper = record.value;
        const found = foreignKey === null ? undefined : foreignValues.get(foreignKey);
        const timestamp = found === undefined ? record.timestamp : Math.max(record.timestamp, found.timestamp);
        const answer = (foreignValue: unknown): void =>
          context.forward({ ...record, key: primaryKey, value: { hash: wrapper.hash, foreignValue, primaryPartition: wrapper.primaryPartition }, timestamp });
        switch (wrapper.instruction) {
          case 'DELETE_KEY_AND_PROPAGATE':
            return answer(null);
          case 'PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE':
            return answer(found?.value ?? null);
          case 'PROPAGATE_ONLY_IF_FK_VAL_AVAILABLE':
            if (found !== undefined) answer(found.value);
            return;
          case 'DELETE_KEY_NO_PROPAGATE':
            return;
        }
      },
    };
  };
}
