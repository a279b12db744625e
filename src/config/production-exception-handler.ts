/**
 * What happens to an output record that cannot be produced: it cannot be serialized, or its topic would
 * refuse it (larger than the topic's `max.message.bytes` or the broker's, a timestamp outside the topic's
 * `message.timestamp.after.max.ms` / `before.max.ms`, no key on a compacted topic). Records are checked
 * before they are sent, so a refusal never fails a batch or a transaction, under either guarantee.
 * - `'fail'` (the default): the instance stops with a ProductionError naming the sink, the topic, the input
 *   record and the topic setting that refuses it.
 * - `'continue'`: the record is dropped, counted (droppedProductionTotal) and logged, rate-limited.
 * - `{ deadLetterTopic }`: its serialized key and value go to that topic (which must exist), with headers
 *   naming the input record it came from, the topic that refuses it and why; under exactly-once the dead
 *   letter joins the task's transaction.
 * Whatever the handler, a refused changelog record is fatal: a store whose changelog lacks a write cannot
 * be restored; the error names the store and the topic setting to change.
 */
export type ProductionExceptionHandler =
  | 'fail'
  | 'continue'
  | {
      /** The topic dead letters go to. */
      readonly deadLetterTopic: string;
    };
