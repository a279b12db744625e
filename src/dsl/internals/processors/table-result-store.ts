import type { ProcessorContext } from '../../../processor/processor-api.js';
import type { InternalProcessorContext } from '../../../processor/internals/internal-processor-context.js';
import type { StreamRecord } from '../../../processor/record.js';
import { versionedStoreOf, type ManagedStore, type ManagedVersionedStore } from '../../../stores/managed-store.js';
import { PUT_RETURN_CODE_NOT_PUT, PUT_RETURN_CODE_VALID_TO_UNDEFINED } from '../../../stores/state-store.js';
import { change, type Change } from '../change.js';
import { TupleForwarder } from './cached-forwarding.js';

/**
 * The store a table operator (filter, mapValues, transformValues) keeps its results in, and how it forwards
 * them: Kafka Streams' KeyValueStoreWrapper with TimestampedTupleForwarder. A timestamped key-value store
 * takes every result and forwards it through its cache; a versioned store
 * (`Materialized.as(Stores.persistentVersionedKeyValueStore(...))`) has no cache, refuses a result older
 * than its history retention (not forwarded, counted as late) and marks one older than its latest as not
 * the latest (Change.isLatest), as the put's return code says.
 */
export class TableResultStore {
  private constructor(
    private readonly context: InternalProcessorContext<unknown, Change<unknown>>,
    private readonly sendOldValues: boolean,
    private readonly plain: TupleForwarder | undefined,
    private readonly versioned: ManagedVersionedStore | undefined,
  ) {}

  static open(context: ProcessorContext<unknown, Change<unknown>>, storeName: string, sendOldValues: boolean): TableResultStore {
    const internal = context as InternalProcessorContext<unknown, Change<unknown>>;
    const managed = context.getStateStore<ManagedStore>(storeName);
    if (managed.kind === 'versioned') return new TableResultStore(internal, sendOldValues, undefined, versionedStoreOf(managed));
    return new TableResultStore(internal, sendOldValues, TupleForwarder.open(context, storeName, sendOldValues), undefined);
  }

  /** The key's current (latest) value in the store, null when none: the old value of a change. */
  latest(key: unknown): unknown {
    return (this.versioned !== undefined ? this.versioned.get(key)?.value : this.plain!.store.getWithTimestamp(key)?.value) ?? null;
  }

  /** Stores `newValue` for the record's key at its timestamp and forwards the change, as the store allows. */
  putAndForward(record: StreamRecord<unknown, unknown>, newValue: unknown, oldValue: unknown): void {
    const versioned = this.versioned;
    if (versioned === undefined) {
      this.plain!.store.putWithTimestamp(record.key, newValue, record.timestamp);
      this.plain!.maybeForward(record, newValue, oldValue);
      return;
    }
    const validTo = versioned.put(record.key, newValue, record.timestamp);
    if (validTo === PUT_RETURN_CODE_NOT_PUT) {
      this.context.recordDropped('late', `older than the history retention of versioned store ${versioned.name}`);
      return;
    }
    const old = this.sendOldValues ? oldValue : null;
    this.context.forward({ ...record, value: change(newValue, old, validTo === PUT_RETURN_CODE_VALID_TO_UNDEFINED) });
  }
}
