import type { ProcessorSupplier } from '../../../processor/processor-api.js';
import type { InternalProcessorContext } from '../../../processor/internals/internal-processor-context.js';
import type { ValueGetterSupplier } from '../table-producer.js';
import type { KeyValueMapper, ValueJoiner } from './functions.js';

/**
 * A stream-table join (Kafka Streams' KStreamKTableJoinProcessor, unversioned table): each stream record looks
 * up the table's current value of its key (or, for a global table, of the key `keyMapper` selects) and is
 * joined with it; table updates emit nothing. A record with a null value, or a null looked-up key, is dropped,
 * except that a left join joins a record with a null key (and a value) with null, as Kafka Streams does.
 */
export function kstreamKTableJoin(
  table: ValueGetterSupplier,
  joiner: ValueJoiner<unknown, unknown, unknown>,
  leftJoin: boolean,
  keyMapper: KeyValueMapper<unknown, unknown, unknown> = (key) => key,
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
        const mapped = keyMapper(key, record.value);
        const nullMapped = mapped === null || mapped === undefined;
        // As KStreamKTableJoinProcessor#maybeDropRecord: a left join keeps a null-keyed record (with a value) only.
        if (!(leftJoin && nullKey && !nullValue) && (nullMapped || nullValue)) {
          context.recordDropped('null-key', 'a join needs a key and a value');
          return;
        }
        const other = nullMapped ? null : (getter.get(mapped)?.value ?? null);
        if (leftJoin || other !== null) context.forward({ ...record, value: joiner(record.value, other, key) });
      },
    };
  };
}
