import type { ProcessorSupplier } from '../../../processor/processor-api.js';
import type { InternalProcessorContext } from '../../../processor/internals/internal-processor-context.js';
import type { StreamRecord } from '../../../processor/record.js';
import { isTaskId, parseTaskId } from '../../../processor/task-id.js';
import type { Serde } from '../../../serdes/serde.js';
import type { Change } from '../change.js';
import { murmur3Hash128 } from './murmur3.js';
import type { SubscriptionInstruction, SubscriptionWrapper } from './subscription-wrapper.js';

/** The settings shared by the processors of one foreign-key join. */
export interface ForeignKeyJoinSerdes {
  readonly foreignKeySerde: Serde<unknown>;
  /** Serializes left values for their hash. */
  readonly valueSerde: Serde<unknown>;
  /** The registration topic's name without the application id; `<app>-<it>-fk` and `-vh` are the serdes' pseudo topics, as in Kafka Streams. */
  readonly registrationTopic: string;
}

const sameBytes = (a: Buffer | null, b: Buffer | null): boolean => (a === null || b === null ? a === b : a.equals(b));

/**
 * The left side of a foreign-key join (Kafka Streams' SubscriptionSendProcessorSupplier as released in
 * 3.9.1, with the fixes of KAFKA-16394 and KAFKA-16407; earlier sources differ): for each change of the left
 * table it sends, keyed by foreign key, what the right side must do. Inner join: a value (new, or of the same
 * foreign key) subscribes and is answered only if the foreign key has a value; a changed foreign key
 * unsubscribes the old one silently and subscribes the new one with an answer even without a value (null, to
 * clear the old result); a deletion, or a foreign key turned null, unsubscribes with a null answer; a null
 * foreign key is otherwise dropped. Left join: a changed foreign key unsubscribes the old one silently, and
 * every change subscribes its new foreign key (null included) with an answer.
 */
export function subscriptionSend(
  extractor: (value: unknown) => unknown,
  serdes: ForeignKeyJoinSerdes,
  leftJoin: boolean,
): ProcessorSupplier<unknown, Change<unknown>, unknown, SubscriptionWrapper> {
  return () => {
    let context!: InternalProcessorContext<unknown, SubscriptionWrapper>;
    let foreignKeyTopic = '';
    let valueTopic = '';
    let hash: Buffer | null | undefined;
    // The task's partition (`<subtopology>_<partition>`) is the left record's, also when a cached table
    // forwards it at a commit, where no record is being processed.
    let primaryPartition = -1;
    const serialize = (foreignKey: unknown): Buffer | null =>
      foreignKey === null || foreignKey === undefined ? null : serdes.foreignKeySerde.serialize(foreignKey, foreignKeyTopic);
    const extract = (value: unknown): unknown => (value === null ? null : (extractor(value) ?? null));
    const send = (record: StreamRecord<unknown, Change<unknown>>, foreignKey: unknown, instruction: SubscriptionInstruction): void => {
      // One hash per change, of the new value: the resolver compares it with the left value it then holds.
      const newValue = record.value.newValue;
      hash ??= newValue === null ? null : murmur3Hash128(serdes.valueSerde.serialize(newValue, valueTopic));
      context.forward({ ...record, key: foreignKey, value: { hash, instruction, primaryKey: record.key, primaryPartition } });
    };
    const dropNullForeignKey = (): void => context.recordDropped('null-key', 'a foreign-key join drops a value whose foreign key is null');
    return {
      init(ctx) {
        context = ctx as InternalProcessorContext<unknown, SubscriptionWrapper>;
        foreignKeyTopic = `${ctx.applicationId}-${serdes.registrationTopic}-fk`;
        valueTopic = `${ctx.applicationId}-${serdes.registrationTopic}-vh`;
        primaryPartition = isTaskId(ctx.taskId) ? parseTaskId(ctx.taskId).partition : -1;
      },
      process(record) {
        hash = undefined;
        const { newValue, oldValue } = record.value;
        const newKey = extract(newValue);
        if (leftJoin) {
          if (oldValue !== null) {
            const oldKey = extract(oldValue);
            if (oldKey !== null && !sameBytes(serialize(newKey), serialize(oldKey))) send(record, oldKey, 'DELETE_KEY_NO_PROPAGATE');
            send(record, newKey, 'PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE');
          } else if (newValue !== null) {
            send(record, newKey, 'PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE');
          }
          return;
        }
        if (oldValue === null) {
          if (newValue === null) return;
          return newKey === null ? dropNullForeignKey() : send(record, newKey, 'PROPAGATE_ONLY_IF_FK_VAL_AVAILABLE');
        }
        const oldKey = extract(oldValue);
        if (oldKey === null && newKey === null) return dropNullForeignKey();
        if (oldKey === null) return send(record, newKey, 'PROPAGATE_ONLY_IF_FK_VAL_AVAILABLE');
        // A deletion, or a value whose foreign key is now null: the old result goes.
        if (newKey === null) return send(record, oldKey, 'DELETE_KEY_AND_PROPAGATE');
        if (sameBytes(serialize(newKey), serialize(oldKey))) return send(record, newKey, 'PROPAGATE_ONLY_IF_FK_VAL_AVAILABLE');
        send(record, oldKey, 'DELETE_KEY_NO_PROPAGATE');
        // The new foreign key answers null when it has no value: the old result must be cleared.
        send(record, newKey, 'PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE');
      },
    };
  };
}
