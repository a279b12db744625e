import type { InternalProcessorContext } from '../../../processor/internals/internal-processor-context.js';
import type { ProcessorContext, ProcessorSupplier } from '../../../processor/processor-api.js';
import type { ValueAndTimestamp } from '../../../stores/state-store.js';
import { change, type Change } from '../change.js';
import { storeGetter, type TableProducer, type ValueGetter, type ValueGetterSupplier } from '../table-producer.js';
import { TupleForwarder } from './cached-forwarding.js';
import type { ValueJoiner } from './functions.js';

type Joiner = ValueJoiner<unknown, unknown, unknown>;
type TableSupplier = ProcessorSupplier<unknown, Change<unknown>, unknown, Change<unknown>>;

/** `inner`, `left`, `outer`; and `right`, the other side of a left join (Kafka Streams' KTableKTableRightJoin). */
export type TableJoinKind = 'inner' | 'left' | 'right' | 'outer';

/**
 * One side of a table-table join (Kafka Streams' KTableKTableInnerJoin / LeftJoin / RightJoin / OuterJoin):
 * an update of this side looks up the other side's current value and forwards the joined change, stamped
 * with the later of the two timestamps. `joiner` takes this side's value first (the other side of a join
 * gets the reversed joiner). Where the join has no result for the key before or after, nothing is forwarded.
 */
function joinSide(
  kind: TableJoinKind,
  other: ValueGetterSupplier,
  joiner: Joiner,
  sendOldValues: () => boolean,
): TableSupplier {
  return () => {
    let context!: ProcessorContext<unknown, Change<unknown>>;
    let getter!: ValueGetter;
    let sendOld = false;
    return {
      init(ctx) {
        context = ctx;
        getter = other.get();
        getter.init(ctx);
        sendOld = sendOldValues();
      },
      process(record) {
        if (record.key === null || record.key === undefined) return;
        // KTableKTable*Join with versioned semantics: an out-of-order update of a versioned table joins nothing.
        if (record.value.isLatest === false) {
          (context as InternalProcessorContext<unknown, Change<unknown>>).recordDropped('late', 'an out-of-order update of a versioned table');
          return;
        }
        const found = getter.get(record.key);
        const otherValue = found?.value ?? null;
        const { newValue, oldValue } = record.value;
        if (otherValue === null && (kind === 'inner' || kind === 'right')) return;
        if (otherValue === null && newValue === null && oldValue === null) return;
        const timestamp = found === undefined ? record.timestamp : Math.max(record.timestamp, found.timestamp);
        // Inner and left joins join only a present value of this side; a right join joins this side's value
        // even when null (the left side is present); an outer join whenever either side is.
        const joins = (value: unknown): boolean => kind === 'right' || value !== null || (kind === 'outer' && otherValue !== null);
        const joined = (value: unknown): unknown => (joins(value) ? joiner(value, otherValue, record.key) : null);
        context.forward({ ...record, value: change(joined(newValue), sendOld ? joined(oldValue) : null), timestamp });
      },
    };
  };
}

/**
 * The producer of a table-table join's result (Kafka Streams' KTableKTableJoinMerger with both join
 * processors): old values make both sides send theirs, and its value getter joins the sides' getters.
 */
export class KTableKTableJoin implements TableProducer {
  private sendOldValues = false;
  readonly thisView: ValueGetterSupplier;
  readonly otherView: ValueGetterSupplier;

  constructor(
    private readonly kind: 'inner' | 'left' | 'outer',
    private readonly thisTable: TableProducer,
    private readonly otherTable: TableProducer,
    private readonly joiner: Joiner,
    /** Materialized: the result's store, which forwards through its cache. */
    private readonly storeName: string | undefined,
  ) {
    this.thisView = thisTable.view();
    this.otherView = otherTable.view();
  }

  thisSide(): TableSupplier {
    return joinSide(this.kind, this.otherView, this.joiner, () => this.sendOldValues);
  }

  otherSide(): TableSupplier {
    const reversed: Joiner = (otherValue, thisValue, key) => this.joiner(thisValue, otherValue, key);
    const kind = this.kind === 'left' ? 'right' : this.kind;
    return joinSide(kind, this.thisView, reversed, () => this.sendOldValues);
  }

  /**
   * Forwards what either side joined; without old values asked for, only the new value. Materialized, it
   * stores each result first and forwards through the store's cache.
   */
  merger(): TableSupplier {
    const storeName = this.storeName;
    return () => {
      let context!: ProcessorContext<unknown, Change<unknown>>;
      let sendOld = false;
      let own: TupleForwarder | undefined;
      return {
        init: (ctx) => {
          context = ctx;
          sendOld = this.sendOldValues;
          if (storeName !== undefined) own = TupleForwarder.open(ctx, storeName, sendOld);
        },
        process(record) {
          if (own === undefined) {
            context.forward(sendOld ? record : { ...record, value: change(record.value.newValue, null) });
            return;
          }
          own.store.putWithTimestamp(record.key, record.value.newValue, record.timestamp);
          own.maybeForward(record, record.value.newValue, record.value.oldValue);
        },
      };
    };
  }

  enableSendingOldValues(): boolean {
    this.thisTable.enableSendingOldValues(true);
    this.otherTable.enableSendingOldValues(true);
    this.sendOldValues = true;
    return true;
  }

  view(): ValueGetterSupplier {
    if (this.storeName !== undefined) return storeGetter(this.storeName);
    const { kind, joiner, thisView, otherView } = this;
    return {
      storeNames: [...thisView.storeNames, ...otherView.storeNames],
      get() {
        const left = thisView.get();
        const right = otherView.get();
        return {
          init(context) {
            left.init(context);
            right.init(context);
          },
          get(key): ValueAndTimestamp<unknown> | undefined {
            const l = left.get(key);
            if (l === undefined && kind !== 'outer') return undefined;
            const r = right.get(key);
            if (r === undefined && (kind === 'inner' || l === undefined)) return undefined;
            const value = joiner(l?.value ?? null, r?.value ?? null, key);
            return { value, timestamp: Math.max(l?.timestamp ?? -1, r?.timestamp ?? -1) };
          },
        };
      },
    };
  }
}
