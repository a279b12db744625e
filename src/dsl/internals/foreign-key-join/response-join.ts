import type { ProcessorSupplier } from '../../../processor/processor-api.js';
import type { ProcessorContext } from '../../../processor/processor-api.js';
import type { ValueGetter, ValueGetterSupplier } from '../table-producer.js';
import type { ValueJoiner } from '../processors/functions.js';
import { murmur3Hash128 } from './murmur3.js';
import type { ResponseWrapper } from './response-wrapper.js';
import type { ForeignKeyJoinSerdes } from './subscription-send.js';

/**
 * The last step of a foreign-key join (Kafka Streams' ResponseJoinProcessorSupplier): a response whose hash
 * is not that of the left key's current value was computed for an older value and is dropped (a newer
 * response is on its way). Otherwise the left value is joined with the right one; without a right value, an
 * inner join (or a left join whose left value is gone) forwards a deletion, a left join `joiner(value, null)`.
 */
export function responseJoin(
  leftTable: ValueGetterSupplier,
  serdes: ForeignKeyJoinSerdes,
  joiner: ValueJoiner<unknown, unknown, unknown>,
  leftJoin: boolean,
): ProcessorSupplier<unknown, ResponseWrapper, unknown, unknown> {
  return () => {
    let context!: ProcessorContext<unknown, unknown>;
    let leftValues!: ValueGetter;
    let valueTopic = '';
    return {
      init(ctx) {
        context = ctx;
        leftValues = leftTable.get();
        leftValues.init(ctx);
        valueTopic = `${ctx.applicationId}-${serdes.registrationTopic}-vh`;
      },
      process(record) {
        const current = leftValues.get(record.key);
        const currentHash = current === undefined ? null : murmur3Hash128(serdes.valueSerde.serialize(current.value, valueTopic));
        const { hash, foreignValue } = record.value;
        const fresh = hash === null || currentHash === null ? hash === currentHash : hash.equals(currentHash);
        if (!fresh) return;
        const deletion = foreignValue === null && (!leftJoin || current === undefined);
        context.forward({ ...record, value: deletion ? null : joiner(current?.value ?? null, foreignValue, record.key) });
      },
    };
  };
}
