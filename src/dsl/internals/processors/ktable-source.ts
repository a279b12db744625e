import type { ProcessorSupplier } from '../../../processor/processor-api.js';
import type { InternalProcessorContext } from '../../../processor/internals/internal-processor-context.js';
import type { TimestampedKeyValueStore } from '../../../stores/state-store.js';
import { change, type Change } from '../change.js';
import { storeGetter, type TableProducer, type ValueGetterSupplier } from '../table-producer.js';
import { forwardThroughCache } from './cached-forwarding.js';
import { keyValueStoreOf, versionedStoreOf, type ManagedStore, type ManagedVersionedStore } from '../../../stores/managed-store.js';
import { PUT_RETURN_CODE_NOT_PUT, PUT_RETURN_CODE_VALID_TO_UNDEFINED } from '../../../stores/state-store.js';
import type { Serde } from '../../../serdes/serde.js';
import type { Materialized } from '../../options.js';
import type { InternalBuilder } from '../internal-builder.js';
import { tableStore } from '../table-store.js';

/**
 * The processor behind `builder.table(topic)`, as Kafka Streams' KTableSource. A table read without a
 * queryable store name is not materialized until something downstream needs its values (a join, a groupBy,
 * or a filter that would then rather send old values): `materialize` adds its store then.
 */
export class KTableSourceProducer implements TableProducer {
  sendOldValues = false;

  private active = false;

  constructor(
    readonly storeName: string,
    private materialized: boolean,
    /** Adds and connects the store; called once, when the table is materialized and its processor added. */
    private readonly addStore: () => void,
    /** Its store is a versioned one (`Materialized.as(Stores.persistentVersionedKeyValueStore(...))`). */
    private readonly storeVersioned = false,
  ) {}

  isOutputVersioned(): boolean {
    return this.storeVersioned;
  }

  /** The processor is in the graph: a store asked for before now is added now. */
  activate(): void {
    this.active = true;
    if (this.materialized) this.addStore();
  }

  materialize(): void {
    if (this.materialized) return;
    this.materialized = true;
    if (this.active) this.addStore();
  }

  enableSendingOldValues(forceMaterialization: boolean): boolean {
    if (!forceMaterialization && !this.materialized) return false;
    this.materialize();
    this.sendOldValues = true;
    return true;
  }

  view(): ValueGetterSupplier {
    this.materialize();
    return storeGetter(this.storeName);
  }

  /**
   * Null keys are dropped. Materialized: each record replaces (a null value deletes) the key's value and
   * timestamp in the store, and the change is forwarded, through the cache when it caches. Otherwise the
   * record is forwarded as a change with no old value.
   */
  supplier(): ProcessorSupplier<unknown, unknown, unknown, Change<unknown>> {
    return () => {
      let context!: InternalProcessorContext<unknown, Change<unknown>>;
      let store: TimestampedKeyValueStore<unknown, unknown> | undefined;
      let versioned: ManagedVersionedStore | undefined;
      let forwardNow = true;
      let sendOldValues = false;
      return {
        init: (ctx) => {
          context = ctx as InternalProcessorContext<unknown, Change<unknown>>;
          sendOldValues = this.sendOldValues;
          if (this.materialized) {
            const managed = context.getStateStore<ManagedStore>(this.storeName);
            if (managed.kind === 'versioned') {
              versioned = versionedStoreOf(managed);
              return;
            }
            const materialized = keyValueStoreOf(managed);
            store = materialized;
            forwardNow = !forwardThroughCache(materialized, context, sendOldValues);
          }
        },
        process(record) {
          if (record.key === null || record.key === undefined) {
            context.recordDropped('null-key', 'a table needs a key');
            return;
          }
          if (versioned !== undefined) {
            // As KTableSource with a versioned store (Kafka Streams 3.9): the old value is the latest; a record
            // older than the history retention is not put and not forwarded; an out-of-order one goes into the
            // history and is forwarded marked as not the latest (which table joins and groupBy then skip).
            const old = sendOldValues ? versioned.get(record.key)?.value : null;
            const validTo = versioned.put(record.key, record.value ?? null, record.timestamp);
            if (validTo === PUT_RETURN_CODE_NOT_PUT) {
              context.recordDropped('late', `older than the history retention of versioned store ${versioned.name}`);
              return;
            }
            context.forward({ ...record, value: change(record.value, old, validTo === PUT_RETURN_CODE_VALID_TO_UNDEFINED) });
            return;
          }
          if (store === undefined) {
            context.forward({ ...record, value: change(record.value, null) });
            return;
          }
          const old = sendOldValues ? store.getWithTimestamp(record.key)?.value : null;
          store.putWithTimestamp(record.key, record.value ?? null, record.timestamp);
          if (forwardNow) context.forward({ ...record, value: change(record.value, old) });
        },
      };
    };
  }
}

/**
 * Adds the table processor `name` after `parent` (a source, or a stream's last node for `toTable`), with its
 * timestamped store `storeName`, added now when `materialized` names it, or later when something needs it.
 */
export function addTableSource(
  graph: InternalBuilder,
  parent: string,
  name: string,
  storeName: string,
  materialized: Materialized<unknown, unknown> | undefined,
  keySerde: Serde<unknown>,
  valueSerde: Serde<unknown>,
): KTableSourceProducer {
  const producer = new KTableSourceProducer(storeName, materialized?.storeName !== undefined, () => {
    graph.addStore(tableStore(storeName, keySerde, valueSerde, materialized, true));
    graph.connectStore(name, storeName);
  }, materialized?.versioned !== undefined);
  graph.addProcessor({ name, parents: [parent], supplier: producer.supplier(), stores: [] });
  producer.activate();
  return producer;
}
