import type { ProductionExceptionHandler } from '../config/production-exception-handler.js';
import { ProductionError, type RecordOrigin } from '../errors/errors.js';
import type { Headers } from '../processor/record.js';
import type { Topology } from '../processor/topology.js';
import type { ChangelogSink } from '../stores/changelog-sink.js';
import type { DroppedRecordsLog } from './dropped-records-log.js';
import { DEAD_LETTER_HEADERS } from './record-error-policy.js';
import type { RecordCounts } from './record-counts.js';
import type { RecordSink } from './record-sink.js';
import { refusal, type WriteLimitsByTopic } from './topic-write-limits.js';

/** Headers a production dead letter carries besides Kafka Streams' (KIP-1034) ones. */
export const PRODUCTION_DEAD_LETTER_HEADERS = {
  /** The topic the output record was meant for, which refused it. */
  targetTopic: 'kstreams.errors.target.topic',
  /** The output record's own timestamp (the dead letter is stamped with the time it was dead-lettered). */
  recordTimestamp: 'kstreams.errors.record.timestamp',
  /** Where a record read from a repartition topic entered the application (`topic-partition@offset`). */
  inputOrigin: 'kstreams.errors.input.origin',
} as const;

/** An output record that cannot be produced, serialized as far as it could be. */
export interface FailedOutput {
  /** The sink that wrote it. */
  readonly sinkName: string;
  readonly topic: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: number;
  readonly headers: Headers;
}

export interface ProductionExceptionPolicyOptions {
  readonly handler: ProductionExceptionHandler;
  /** Where dead letters go: the task's output (under exactly-once, its transaction). */
  readonly sink: RecordSink;
  readonly limits: WriteLimitsByTopic | undefined;
  readonly maxRecordBytes: number;
  readonly wallClock: () => number;
  readonly counts: RecordCounts;
  readonly dropped: DroppedRecordsLog;
}

/**
 * A task's production exception handler (Kafka Streams' ProductionExceptionHandler, called from its
 * RecordCollector): decides, per output record that cannot be produced, to fail, drop or dead-letter it.
 * Only a failure allocates; the hot path never comes here.
 */
export class ProductionExceptionPolicy {
  constructor(private readonly options: ProductionExceptionPolicyOptions) {}

  /**
   * Deals with one output record that cannot be produced (`problem` says why, as the end of a sentence);
   * `origin` is the input record being processed (undefined in a punctuation), `inputOrigin` the input
   * record it came from when it was read from a repartition topic. Throws ProductionError when the
   * handler fails, or when the dead-letter topic would refuse the dead letter too.
   */
  handle(output: FailedOutput, problem: string, cause: unknown, origin: RecordOrigin | undefined, inputOrigin: string | undefined): void {
    const { handler } = this.options;
    const from = origin === undefined ? '' : ` (from ${origin.topic}-${origin.partition}@${origin.offset}${inputOrigin === undefined ? '' : `, which came from the input record at ${inputOrigin}`})`;
    const message = `The output record of ${output.sinkName} for topic ${output.topic}${from} ${problem}`;
    if (handler === 'fail') {
      throw new ProductionError(`${message}. Set productionExceptionHandler to 'continue' or { deadLetterTopic } to drop or dead-letter such records.`, { cause });
    }
    if (handler === 'continue') {
      this.options.counts.droppedProduction++;
      this.options.dropped.record(output.sinkName, 'production-error', message);
      return;
    }
    this.deadLetter(handler.deadLetterTopic, output, message, cause, origin, inputOrigin);
  }

  private deadLetter(topic: string, output: FailedOutput, message: string, cause: unknown, origin: RecordOrigin | undefined, inputOrigin: string | undefined): void {
    const error = new ProductionError(message, { cause });
    const now = this.options.wallClock();
    const headers: Headers = {
      ...output.headers,
      [DEAD_LETTER_HEADERS.exception]: Buffer.from(error.name),
      [DEAD_LETTER_HEADERS.message]: Buffer.from(message),
      [DEAD_LETTER_HEADERS.stacktrace]: Buffer.from(cause instanceof Error ? (cause.stack ?? '') : ''),
      [DEAD_LETTER_HEADERS.timestamp]: Buffer.from(String(now)),
      [PRODUCTION_DEAD_LETTER_HEADERS.targetTopic]: Buffer.from(output.topic),
      [PRODUCTION_DEAD_LETTER_HEADERS.recordTimestamp]: Buffer.from(String(output.timestamp)),
    };
    if (origin !== undefined) {
      headers[DEAD_LETTER_HEADERS.topic] = Buffer.from(origin.topic);
      headers[DEAD_LETTER_HEADERS.partition] = Buffer.from(String(origin.partition));
      headers[DEAD_LETTER_HEADERS.offset] = Buffer.from(origin.offset);
    }
    if (inputOrigin !== undefined) headers[PRODUCTION_DEAD_LETTER_HEADERS.inputOrigin] = Buffer.from(inputOrigin);
    // Stamped now, not with the output's timestamp: that timestamp may be the very reason it was refused,
    // and the dead-letter topic would refuse it as well (its own timestamp is kept in a header).
    const { limits, maxRecordBytes, wallClock } = this.options;
    const refused = refusal(limits?.get(topic), maxRecordBytes, output.key, output.value, headers, now, wallClock);
    if (refused !== undefined) {
      throw new ProductionError(`${message}; its dead letter for ${topic} cannot be produced either: it ${refused}`, { cause });
    }
    this.options.sink.send({ topic, key: output.key, value: output.value, timestamp: now, headers, partition: undefined });
    this.options.counts.deadLetteredProduction++;
    this.options.dropped.record(output.sinkName, 'production-dead-letter', `${message} (sent to ${topic})`);
  }
}

/**
 * Wraps a changelog sink so that a changelog record its topic would refuse stops the task, naming the store
 * and the setting to change. Never handled per record: a changelog missing a write restores a wrong store.
 */
export function refusingChangelogSink(
  sink: ChangelogSink,
  topology: Topology,
  limits: WriteLimitsByTopic | undefined,
  maxRecordBytes: number,
  wallClock: () => number,
): ChangelogSink {
  const storeOf = new Map<string, string>();
  for (const t of topology.internalTopics) if (t.kind === 'changelog' && t.storeName !== undefined) storeOf.set(t.name, t.storeName);
  return {
    send(record) {
      const refused = refusal(limits?.get(record.topic), maxRecordBytes, record.key, record.value, record.headers, wallClock(), wallClock);
      if (refused !== undefined) {
        throw new ProductionError(
          `The changelog record of store ${storeOf.get(record.topic) ?? '?'} for topic ${record.topic} ${refused}. A store's changelog ` +
            `must hold every write, so this is fatal whatever the productionExceptionHandler: raise the setting named on ${record.topic} ` +
            `(kafka-configs.sh --alter --entity-type topics --entity-name ${record.topic} --add-config ...), or keep the store's values smaller.`,
        );
      }
      sink.send(record);
    },
  };
}
