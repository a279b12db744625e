import type { ProcessorSupplier } from '../../../processor/processor-api.js';
import type { InternalProcessorContext } from '../../../processor/internals/internal-processor-context.js';
import type { ValueGetterSupplier } from '../table-producer.js';
import type { ValueJoiner } from './functions.js';

/**
 * A stream-table join (Kafka Streams' KStreamKTableJoinProcessor, unversioned table): each stream record looks
 * up the table's current value of its key and is joined with it; table updates emit nothing. A record with a
 * null value, or a null key in an inner join, is dropped; a left join joins a null key (or a key absent from
 * the table) with null.
 */
export function kstreamKTableJoin(
  table: ValueGetterSupplier,
  joiner: ValueJoiner<unknown, unknown, unknown>,
  leftJoin: boolean,
): ProcessorSupplier<unknown, unknown, unknown, unknown> {
  return () => {
    let context!: InternalProcessorContext<unknown, unknown>;
    const getter = table.get();
    return {
      init(ctx) {
        context = ctx as InternalProcessorContext<unknown, unknown>;
        getter.init(ctx);
      },
      process(record) {
        const key = record.key;
        const nullKey = key === null || key === undefined;
        const nullValue = record.value === null || record.value === undefined;
        if (nullValue || (nullKey && !leftJoin)) {
          context.recordDropped('null-key', 'a join needs a key and a value');
          return;
        }
        const other = nullKey ? null : (getter.get(key)?.value ?? null);
        if (leftJoin || other !== null) context.forward({ ...record, value: joiner(record.value, other, key) });
      },
    };
  };
}
