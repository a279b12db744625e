/**
 * What happens to an input record that cannot be read (deserialization) or whose processing throws:
 * - `'fail'` (the default): the instance stops with an error naming the record; nothing after the last
 *   commit is trusted, so the record is met again after a restart.
 * - `'logAndContinue'`: logged and skipped.
 * - `{ deadLetterTopic }`: its original key and value bytes go to that topic (which must exist), with
 *   headers naming where it came from and what went wrong; processing continues. Under exactly-once the
 *   dead letter joins the task's transaction.
 * Whatever the handler, an error of the machine (isMachineError in runtime/record-error-policy.ts) is fatal:
 * it says nothing about the record, and skipping or dead-lettering good records would hide it.
 */
export type RecordErrorHandler =
  | 'fail'
  | 'logAndContinue'
  | {
      /** The topic dead letters go to. */
      readonly deadLetterTopic: string;
    };
