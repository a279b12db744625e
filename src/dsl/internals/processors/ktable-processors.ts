import type { ProcessorContext, ProcessorSupplier } from '../../../processor/processor-api.js';
import type { ValueAndTimestamp } from '../../../stores/state-store.js';
import { change, type Change } from '../change.js';
import { storeGetter, withGetAsOf, type TableProducer, type ValueGetterSupplier } from '../table-producer.js';
import { TableResultStore } from './table-result-store.js';
import type { Predicate, ValueMapper } from './functions.js';

type TableSupplier = ProcessorSupplier<unknown, Change<unknown>, unknown, Change<unknown>>;

/**
 * A table operator (Kafka Streams' KTableFilter and KTableMapValues): it applies `compute` to the new value
 * and, when old values are sent, to the old one; a null stays null. Unmaterialized, its value getter applies
 * `compute` to the parent's (also as of a time, when the parent is versioned: KTableFilterValueGetter /
 * KTableMapValuesValueGetter#get(key, asOfTimestamp)). Materialized (`storeName`), it keeps its results in
 * that store (a versioned one too: TableResultStore), reads old values from it, reads by key from it, and
 * forwards through its cache.
 */
abstract class ComputedTable implements TableProducer {
  sendOldValues = false;

  constructor(
    protected readonly parent: TableProducer,
    readonly storeName: string | undefined,
    /** Its store is a versioned one (`Materialized.as(Stores.persistentVersionedKeyValueStore(...))`). */
    private readonly storeVersioned = false,
  ) {}

  isOutputVersioned(): boolean {
    return this.storeName !== undefined ? this.storeVersioned : (this.parent.isOutputVersioned?.() ?? false);
  }

  /** The operator on a non-null value; null means the key is absent in this table. */
  protected abstract compute(key: unknown, value: unknown): unknown;

  /** False when a change with neither value should not be forwarded. */
  protected abstract forwardEmpty(): boolean;

  enableSendingOldValues(forceMaterialization: boolean): boolean {
    if (this.storeName !== undefined || this.parent.enableSendingOldValues(forceMaterialization)) this.sendOldValues = true;
    return this.sendOldValues;
  }

  view(): ValueGetterSupplier {
    if (this.storeName !== undefined) return storeGetter(this.storeName);
    const parent = this.parent.view();
    const compute = (key: unknown, v: ValueAndTimestamp<unknown> | undefined): ValueAndTimestamp<unknown> | undefined => {
      if (v === undefined) return undefined;
      const value = this.compute(key, v.value);
      return value === null || value === undefined ? undefined : { value, timestamp: v.timestamp };
    };
    return {
      storeNames: parent.storeNames,
      get() {
        const getter = parent.get();
        return withGetAsOf(getter, (key, v) => compute(key, v));
      },
    };
  }

  supplier(): TableSupplier {
    const storeName = this.storeName;
    return () => {
      let context!: ProcessorContext<unknown, Change<unknown>>;
      let sendOldValues = false;
      let own: TableResultStore | undefined;
      // Kafka Streams' KTableFilter#useVersionedSemantics: below a versioned table, empty changes go on too.
      const versionedParent = this.parent.isOutputVersioned?.() ?? false;
      const apply = (key: unknown, value: unknown): unknown =>
        value === null || value === undefined ? null : (this.compute(key, value) ?? null);
      return {
        init: (ctx) => {
          context = ctx;
          sendOldValues = this.sendOldValues;
          if (storeName !== undefined) own = TableResultStore.open(ctx, storeName, sendOldValues);
        },
        process: (record) => {
          const newValue = apply(record.key, record.value.newValue);
          const oldValue = !sendOldValues ? null : own !== undefined ? own.latest(record.key) : apply(record.key, record.value.oldValue);
          if (sendOldValues && newValue === null && oldValue === null && !this.forwardEmpty() && !versionedParent) return;
          if (own === undefined) {
            context.forward({ ...record, value: change(newValue, oldValue, record.value.isLatest !== false) });
            return;
          }
          own.putAndForward(record, newValue, oldValue);
        },
      };
    };
  }
}

/**
 * `filter` / `filterNot`: a rejected value becomes a deletion. As Kafka Streams' KTableFilter, it asks a
 * materialized parent for old values at once, and then does not forward a change with neither value (a
 * deletion of a key that was not in the filtered table).
 */
export class KTableFilter extends ComputedTable {
  constructor(
    parent: TableProducer,
    private readonly predicate: Predicate<unknown, unknown>,
    private readonly keepMatching: boolean,
    storeName: string | undefined,
    storeVersioned = false,
  ) {
    super(parent, storeName, storeVersioned);
    this.sendOldValues = parent.enableSendingOldValues(false);
  }

  protected compute(key: unknown, value: unknown): unknown {
    return this.predicate(key, value) === this.keepMatching ? value : null;
  }

  protected forwardEmpty(): boolean {
    return false;
  }
}

/** `mapValues`: deletions stay deletions (Kafka Streams' KTableMapValues). */
export class KTableMapValues extends ComputedTable {
  constructor(
    parent: TableProducer,
    private readonly mapper: ValueMapper<unknown, unknown, unknown>,
    storeName: string | undefined,
    storeVersioned = false,
  ) {
    super(parent, storeName, storeVersioned);
  }

  protected compute(key: unknown, value: unknown): unknown {
    return this.mapper(value, key);
  }

  protected forwardEmpty(): boolean {
    return true;
  }
}
