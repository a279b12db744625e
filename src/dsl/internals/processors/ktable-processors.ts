import type { ProcessorContext, ProcessorSupplier } from '../../../processor/processor-api.js';
import type { Predicate, ValueMapper } from './functions.js';

type Supplier = ProcessorSupplier<unknown, unknown, unknown, unknown>;

/**
 * KTable operators see a changelog: a null value is a deletion. `filter` turns a rejected update into a
 * deletion (the key may have passed before), `mapValues` keeps deletions as they are.
 */
export function ktableFilter(predicate: Predicate<unknown, unknown>, keepMatching: boolean): Supplier {
  return () => {
    let context!: ProcessorContext<unknown, unknown>;
    return {
      init(ctx) {
        context = ctx;
      },
      process(record) {
        const pass = record.value !== null && predicate(record.key, record.value) === keepMatching;
        context.forward(pass ? record : { ...record, value: null });
      },
    };
  };
}

export function ktableMapValues(mapper: ValueMapper<unknown, unknown, unknown>): Supplier {
  return () => {
    let context!: ProcessorContext<unknown, unknown>;
    return {
      init(ctx) {
        context = ctx;
      },
      process(record) {
        context.forward(record.value === null ? record : { ...record, value: mapper(record.value, record.key) });
      },
    };
  };
}
