import { TopologyError } from '../../errors/errors.js';
import type { ProcessorContext } from '../../processor/processor-api.js';
import type { TimestampedKeyValueStore, ValueAndTimestamp } from '../../stores/state-store.js';
import type { ManagedKeyValueStore, ManagedStore } from '../../stores/managed-store.js';

/** Reads a table's current value of a key, as its processor would have it (Kafka Streams' KTableValueGetter). */
export interface ValueGetter {
  init(context: ProcessorContext<unknown, unknown>): void;
  get(key: unknown): ValueAndTimestamp<unknown> | undefined;
  /**
   * For a versioned table (after `init`): the value of a key as of a time (Kafka Streams'
   * KTableValueGetter#isVersioned / get(key, asOfTimestamp)). Undefined: the table is not versioned.
   */
  getAsOf?: ((key: unknown, asOfTimestamp: number) => ValueAndTimestamp<unknown> | undefined) | undefined;
}

/** The value getters of a table and the stores they read (Kafka Streams' KTableValueGetterSupplier). */
export interface ValueGetterSupplier {
  readonly storeNames: readonly string[];
  get(): ValueGetter;
}

/**
 * What a KTable knows of the processor that produces it (Kafka Streams' KTableProcessorSupplier, together
 * with KTableImpl#enableSendingOldValues / #valueGetterSupplier). Both calls happen while the topology is
 * declared; processors read the resulting flags when a task creates them.
 */
export interface TableProducer {
  /**
   * Asks the producer to send old values with each change. Returns false when it will not: an unmaterialized
   * source table refuses unless `forceMaterialization` (then it materializes its store).
   */
  enableSendingOldValues(forceMaterialization: boolean): boolean;
  /** How to read the table's values; materializes a source table that was not. */
  view(): ValueGetterSupplier;
  /**
   * Whether the table's changes are versioned (Kafka Streams' GraphNode#isOutputVersioned, inherited
   * upstream): kept in a versioned store, or computed without a store of their own from a versioned table.
   * Undefined: not versioned.
   */
  isOutputVersioned?(): boolean;
}

/**
 * A getter that applies `compute` to what the parent getter reads, latest and, when the parent is
 * versioned, as of a time (Kafka Streams' KTableFilterValueGetter / KTableMapValuesValueGetter, whose
 * `isVersioned()` is the parent's). `init` also runs `initCompute` (a transformer's init).
 */
export function withGetAsOf(
  parent: ValueGetter,
  compute: (key: unknown, found: ValueAndTimestamp<unknown> | undefined) => ValueAndTimestamp<unknown> | undefined,
  initCompute?: (context: ProcessorContext<unknown, unknown>) => void,
): ValueGetter {
  const getter: ValueGetter = {
    init(context) {
      parent.init(context);
      initCompute?.(context);
      const parentAsOf = parent.getAsOf;
      getter.getAsOf = parentAsOf === undefined ? undefined : (key, asOf) => compute(key, parentAsOf(key, asOf));
    },
    get: (key) => compute(key, parent.get(key)),
  };
  return getter;
}

/** A getter over a table's own timestamped key-value store (Kafka Streams' KTableMaterializedValueGetterSupplier). */
export function storeGetter(storeName: string): ValueGetterSupplier {
  return {
    storeNames: [storeName],
    get() {
      let get!: (key: unknown) => ValueAndTimestamp<unknown> | undefined;
      const getter: ValueGetter = {
        init(context) {
          const managed = context.getStateStore<ManagedStore>(storeName);
          if (managed.kind === 'versioned') {
            // A versioned table: its latest version, or the one valid at a time (VersionedRecord has a value and a timestamp).
            get = (key) => managed.get(key);
            getter.getAsOf = (key, asOf) => managed.get(key, asOf);
          } else {
            const store: TimestampedKeyValueStore<unknown, unknown> = managed as ManagedKeyValueStore;
            get = (key) => store.getWithTimestamp(key);
          }
        },
        get: (key) => get(key),
      };
      return getter;
    },
  };
}

/** The producer of a table whose processor always can send old values (the aggregations). */
export class AggregateProducer implements TableProducer {
  sendOldValues = false;
  constructor(private readonly getter: ValueGetterSupplier | undefined) {}
  enableSendingOldValues(): boolean {
    this.sendOldValues = true;
    return true;
  }
  view(): ValueGetterSupplier {
    if (this.getter === undefined) {
      throw new TopologyError('A windowed table cannot be joined or read by key: join its toStream(), or aggregate without windows.');
    }
    return this.getter;
  }
}
