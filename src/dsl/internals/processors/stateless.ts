import type { Processor, ProcessorContext, ProcessorSupplier } from '../../../processor/processor-api.js';
import type { KeyValue, StreamRecord } from '../../../processor/record.js';
import type { InternalProcessorContext } from '../../../processor/internals/internal-processor-context.js';
import type { ForeachAction, KeyValueMapper, Predicate, ValueMapper } from './functions.js';

type AnyRecord = StreamRecord<unknown, unknown>;
type Supplier = ProcessorSupplier<unknown, unknown, unknown, unknown>;

/** A processor that maps each record to zero or more records; the shape of every stateless operator. */
function recordMapper(fn: (record: AnyRecord, forward: (record: AnyRecord) => void) => void): Supplier {
  return () => {
    let context!: ProcessorContext<unknown, unknown>;
    const forward = (record: AnyRecord): void => context.forward(record);
    const processor: Processor<unknown, unknown, unknown, unknown> = {
      init(ctx) {
        context = ctx;
      },
      process(record) {
        fn(record, forward);
      },
    };
    return processor;
  };
}

export const passThrough = (): Supplier => recordMapper((record, forward) => forward(record));

export const filter = (predicate: Predicate<unknown, unknown>, keepMatching: boolean): Supplier =>
  recordMapper((record, forward) => {
    if (predicate(record.key, record.value) === keepMatching) forward(record);
  });

export const map = (mapper: KeyValueMapper<unknown, unknown, KeyValue<unknown, unknown>>): Supplier =>
  recordMapper((record, forward) => {
    const out = mapper(record.key, record.value);
    forward({ ...record, key: out.key, value: out.value });
  });

export const mapValues = (mapper: ValueMapper<unknown, unknown, unknown>): Supplier =>
  recordMapper((record, forward) => forward({ ...record, value: mapper(record.value, record.key) }));

export const selectKey = (mapper: KeyValueMapper<unknown, unknown, unknown>): Supplier =>
  recordMapper((record, forward) => forward({ ...record, key: mapper(record.key, record.value) }));

export const flatMap = (mapper: KeyValueMapper<unknown, unknown, Iterable<KeyValue<unknown, unknown>>>): Supplier =>
  recordMapper((record, forward) => {
    for (const out of mapper(record.key, record.value)) forward({ ...record, key: out.key, value: out.value });
  });

export const flatMapValues = (mapper: ValueMapper<unknown, unknown, Iterable<unknown>>): Supplier =>
  recordMapper((record, forward) => {
    for (const value of mapper(record.value, record.key)) forward({ ...record, value });
  });

/** `peek` forwards after the action; `foreach` is a terminal peek (it has no children). */
export const peek = (action: ForeachAction<unknown, unknown>): Supplier =>
  recordMapper((record, forward) => {
    action(record.key, record.value);
    forward(record);
  });

/**
 * Records with a null key cannot be partitioned by key: Kafka Streams drops them before a repartition topic.
 * Each one is counted and logged as dropped, so that every input record is accounted for.
 */
export const dropNullKeys = (): Supplier => () => {
  let context!: InternalProcessorContext<unknown, unknown>;
  return {
    init(ctx) {
      context = ctx as InternalProcessorContext<unknown, unknown>;
    },
    process(record) {
      if (record.key !== null && record.key !== undefined) context.forward(record);
      else context.recordDropped('null-key', 'a repartition needs a key');
    },
  };
};

/** `split()`: each record goes to the first branch whose predicate matches (or the default branch). */
export function branch(predicates: ReadonlyArray<Predicate<unknown, unknown> | undefined>, childNames: readonly string[]): Supplier {
  return () => {
    let context!: ProcessorContext<unknown, unknown>;
    return {
      init(ctx) {
        context = ctx;
      },
      process(record) {
        for (let i = 0; i < predicates.length; i++) {
          const predicate = predicates[i];
          if (predicate === undefined || predicate(record.key, record.value)) {
            context.forward(record, childNames[i]);
            return;
          }
        }
      },
    };
  };
}
