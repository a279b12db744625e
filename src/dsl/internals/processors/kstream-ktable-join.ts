import type { ProcessorSupplier } from '../../../processor/processor-api.js';
import type { InternalProcessorContext } from '../../../processor/internals/internal-processor-context.js';
import type { ValueGetterSupplier } from '../table-producer.js';
import type { KeyValueMapper, ValueJoiner } from './functions.js';
import type { StreamRecord } from '../../../processor/record.js';
import type { KeyValueStore } from '../../../stores/state-store.js';
import type { Serde } from '../../../serdes/serde.js';
import { TopologyError } from '../../../errors/errors.js';
import { JoinGraceBuffer } from './join-grace-buffer.js';

/** A stream-table join's grace period (`Joined.withGracePeriod`): its buffer store and the stream's serdes. */
export interface JoinGrace {
  readonly graceMs: number;
  readonly storeName: string;
  readonly keySerde: Serde<unknown>;
  readonly valueSerde: Serde<unknown>;
}

/**
 * A stream-table join (Kafka Streams' KStreamKTableJoinProcessor): each stream record looks up the table's
 * current value of its key (or, for a global table, of the key `keyMapper` selects) and is joined with it;
 * table updates emit nothing. A versioned table is looked up as of the record's timestamp; with a grace
 * period (versioned tables only) records first wait in a JoinGraceBuffer until the stream time passes their
 * timestamp + grace, so that table updates up to then are seen, and are joined in timestamp order. A record with a null value, or a null looked-up key, is dropped,
 * except that a left join joins a record with a null key (and a value) with null, as Kafka Streams does.
 */
export function kstreamKTableJoin(
  table: ValueGetterSupplier,
  joiner: ValueJoiner<unknown, unknown, unknown>,
  leftJoin: boolean,
  keyMapper: KeyValueMapper<unknown, unknown, unknown> = (key) => key,
  grace?: JoinGrace,
): ProcessorSupplier<unknown, unknown, unknown, unknown> {
  return () => {
    let context!: InternalProcessorContext<unknown, unknown>;
    let buffer: JoinGraceBuffer | undefined;
    const getter = table.get();
    const doJoin = (record: StreamRecord<unknown, unknown>): void => {
      const key = record.key;
      const mapped = keyMapper(key, record.value);
      const nullMapped = mapped === null || mapped === undefined;
      const found = nullMapped ? undefined : getter.getAsOf !== undefined ? getter.getAsOf(mapped, record.timestamp) : getter.get(mapped);
      const other = found?.value ?? null;
      if (leftJoin || other !== null) context.forward({ ...record, value: joiner(record.value, other, key) });
    };
    return {
      init(ctx) {
        context = ctx as InternalProcessorContext<unknown, unknown>;
        getter.init(ctx);
        if (grace !== undefined) {
          if (getter.getAsOf === undefined) {
            throw new TopologyError('KTable must be versioned to use a grace period in a stream table join (Joined.withGracePeriod): materialize it with Stores.persistentVersionedKeyValueStore.');
          }
          buffer = new JoinGraceBuffer(ctx.getStateStore<KeyValueStore<Buffer, Buffer>>(grace.storeName), grace.graceMs, grace.keySerde, grace.valueSerde);
          buffer.restore();
        }
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
        if (buffer === undefined || !buffer.put(record)) doJoin(record);
        else buffer.evict(doJoin);
      },
    };
  };
}
