import type { Headers } from '../processor/record.js';
import { DeserializationError, StateStoreError } from '../errors/errors.js';
import type { RecordErrorHandler } from '../config/record-error-handler.js';
import type { Logger } from '../logging/logger.js';
import { DroppedRecordsLog } from './dropped-records-log.js';
import type { ProducerPipeline } from './producer-pipeline.js';

/** Header names of a dead letter, as Kafka Streams (KIP-1034) names them. */
export const DEAD_LETTER_HEADERS = {
  /** The error class name. */
  exception: '__streams.errors.exception',
  /** The error's message. */
  message: '__streams.errors.message',
  /** The error's stack trace. */
  stacktrace: '__streams.errors.stacktrace',
  /** The topic the record was read from. */
  topic: '__streams.errors.topic',
  /** Its partition. */
  partition: '__streams.errors.partition',
  /** Its offset. */
  offset: '__streams.errors.offset',
  /** When it was dead-lettered (ms since the epoch). */
  timestamp: '__streams.errors.timestamp',
} as const;

/** Where dead letters go: the task's producer pipeline, or the TopologyTestDriver's output. */
export type DeadLetterSink = Pick<ProducerPipeline, 'enqueue'>;

/** The input record a handler sees, as fetched. */
export interface FailedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: number;
  readonly headers: Headers;
}

/**
 * True for a state store's failure (I/O, corruption) anywhere in the error's cause chain, also when a user
 * processor caught it and threw its own error.
 */
export function isMachineError(error: unknown): boolean {
  let e: unknown = error;
  for (let depth = 0; e instanceof Error && depth < 16; depth++, e = e.cause) {
    if (e instanceof StateStoreError) return true;
    const code = (e as { code?: unknown }).code;
    if (code === 'LEVEL_CORRUPTION' || code === 'LEVEL_IO_ERROR') return true;
  }
  return false;
}

export class RecordErrorPolicy {
  deadLettered = 0;
  skipped = 0;
  /** Skipped and dead-lettered records are logged rate-limited: a malformed feed must not flood the log. */
  private readonly skips: DroppedRecordsLog;

  constructor(
    private readonly handler: RecordErrorHandler,
    private readonly kind: 'deserialization' | 'processing',
    private readonly logger: Logger,
  ) {
    this.skips = new DroppedRecordsLog('this instance', logger, Date.now);
  }

  /** Logs the skips not logged yet (on close). */
  flushLog(): void {
    this.skips.flush();
  }

  /** The dead-letter topic, if any (it must exist before start). */
  get deadLetterTopic(): string | undefined {
    return typeof this.handler === 'object' ? this.handler.deadLetterTopic : undefined;
  }

  /** True: the record is dealt with and processing goes on. False: the error is fatal. */
  handle(error: Error, record: FailedRecord, deadLetters: DeadLetterSink): boolean {
    if (this.handler === 'fail' || isMachineError(error)) return false;
    // The record is routed: the error's advice on routing such records is no news here.
    const message = error instanceof DeserializationError ? error.problem : error.message;
    if (this.handler === 'logAndContinue') {
      // A record counts once: as skipped here, or as dead-lettered below.
      this.skipped++;
      this.skips.record(record.topic, this.kind === 'deserialization' ? 'deserialization-error' : 'processing-error', message);
      return true;
    }
    deadLetters.enqueue({
      topic: this.handler.deadLetterTopic,
      key: record.key,
      value: record.value,
      timestamp: record.timestamp,
      partition: undefined,
      headers: {
        ...record.headers,
        [DEAD_LETTER_HEADERS.exception]: Buffer.from(error.name),
        [DEAD_LETTER_HEADERS.message]: Buffer.from(message),
        [DEAD_LETTER_HEADERS.stacktrace]: Buffer.from(error.stack ?? ''),
        [DEAD_LETTER_HEADERS.topic]: Buffer.from(record.topic),
        [DEAD_LETTER_HEADERS.partition]: Buffer.from(String(record.partition)),
        [DEAD_LETTER_HEADERS.offset]: Buffer.from(record.offset),
        [DEAD_LETTER_HEADERS.timestamp]: Buffer.from(String(Date.now())),
      },
    });
    this.deadLettered++;
    this.logger.debug(`sent ${record.topic}-${record.partition}@${record.offset} to ${this.handler.deadLetterTopic}: ${message}`);
    // Visible at the default level, as skips are, but rate-limited alike.
    const reason = this.kind === 'deserialization' ? 'deserialization-dead-letter' : 'processing-dead-letter';
    this.skips.record(record.topic, reason, `${message} (sent to ${this.handler.deadLetterTopic})`);
    return true;
  }
}
