import type { ProcessorContext, ProcessorSupplier } from '../../../processor/processor-api.js';
import { change, type Change } from '../change.js';
import { storeGetter, withGetAsOf, type TableProducer, type ValueGetterSupplier } from '../table-producer.js';
import { TableResultStore } from './table-result-store.js';

/**
 * Kafka Streams' ValueTransformerWithKey: a stateful value mapper of a table. `init` gets the context (its
 * stores: the names passed to `transformValues`), `transform` is called for every change, with a null value
 * for a deletion (and for a key the table does not have, when a join or a groupBy reads it), `close` when
 * the task closes. One instance per task, and one more per value getter (joins read through their own).
 */
export interface ValueTransformerWithKey<K, V, VR> {
  /** Called once before the first `transform`, with the task's context (its stores, its punctuations). */
  init?(context: ProcessorContext<unknown, unknown>): void;
  /** The new value of `readOnlyKey`'s entry (null: none, a deletion); `value` is null for a deletion. */
  transform(readOnlyKey: K, value: V | null): VR | null;
  /** Called when the task closes: release what `init` took. */
  close?(): void;
}

/** Creates a fresh transformer per task (and per value getter); never return a shared instance. */
export type ValueTransformerWithKeySupplier<K, V, VR> = () => ValueTransformerWithKey<K, V, VR>;

type AnyTransformer = ValueTransformerWithKey<unknown, unknown, unknown>;

/**
 * `KTable.transformValues` (Kafka Streams' KTableTransformValues): each change's new value is
 * `transform(key, newValue)`, nulls included; the old value, when sent, is the store's (materialized) or
 * `transform(key, oldValue)`. Every change is forwarded. Unmaterialized, a value getter runs a transformer
 * of its own over the parent's value.
 */
export class KTableTransformValues implements TableProducer {
  sendOldValues = false;

  constructor(
    private readonly parent: TableProducer,
    private readonly transformers: () => AnyTransformer,
    readonly storeName: string | undefined,
    /** Its store is a versioned one (`Materialized.as(Stores.persistentVersionedKeyValueStore(...))`). */
    private readonly storeVersioned = false,
  ) {}

  isOutputVersioned(): boolean {
    return this.storeName !== undefined ? this.storeVersioned : (this.parent.isOutputVersioned?.() ?? false);
  }

  enableSendingOldValues(forceMaterialization: boolean): boolean {
    if (this.storeName !== undefined || this.parent.enableSendingOldValues(forceMaterialization)) this.sendOldValues = true;
    return this.sendOldValues;
  }

  view(): ValueGetterSupplier {
    if (this.storeName !== undefined) return storeGetter(this.storeName);
    const parent = this.parent.view();
    const transformers = this.transformers;
    return {
      storeNames: parent.storeNames,
      get() {
        const transformer = transformers();
        // Also as of a time when the parent is versioned (KTableTransformValuesGetter#get(key, asOfTimestamp)).
        return withGetAsOf(
          parent.get(),
          (key, found) => {
            const value = transformer.transform(key, found?.value ?? null);
            // Kafka Streams' ValueAndTimestamp.make: no value, no entry.
            return value === null || value === undefined ? undefined : { value, timestamp: found?.timestamp ?? -1 };
          },
          (context) => transformer.init?.(context),
        );
      },
    };
  }

  supplier(): ProcessorSupplier<unknown, Change<unknown>, unknown, Change<unknown>> {
    const storeName = this.storeName;
    return () => {
      const transformer = this.transformers();
      let context!: ProcessorContext<unknown, Change<unknown>>;
      let sendOldValues = false;
      let own: TableResultStore | undefined;
      const transform = (key: unknown, value: unknown): unknown => transformer.transform(key, value ?? null) ?? null;
      return {
        init: (ctx) => {
          context = ctx;
          sendOldValues = this.sendOldValues;
          if (storeName !== undefined) own = TableResultStore.open(ctx, storeName, sendOldValues);
          transformer.init?.(ctx);
        },
        process: (record) => {
          const newValue = transform(record.key, record.value.newValue);
          if (own === undefined) {
            const oldValue = sendOldValues ? transform(record.key, record.value.oldValue) : null;
            context.forward({ ...record, value: change(newValue, oldValue, record.value.isLatest !== false) });
            return;
          }
          const oldValue = sendOldValues ? own.latest(record.key) : null;
          own.putAndForward(record, newValue, oldValue);
        },
        close: () => transformer.close?.(),
      };
    };
  }
}
