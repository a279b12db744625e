import type { RecordErrorHandler } from '../config/record-error-handler.js';
import { asError } from '../errors/as-error.js';
import { DeserializationError, ProcessingError } from '../errors/errors.js';
import type { Logger } from '../logging/logger.js';
import type { RecordCounts } from './record-counts.js';
import { RecordErrorPolicy, type DeadLetterSink, type FailedRecord } from './record-error-policy.js';

/**
 * What happened to input records, as `metrics()` names it: the KafkaStreams instance's and the
 * TopologyTestDriver's figures are both made by `recordMetrics`, so the same input gives the same counts.
 */
export interface RecordMetrics {
  /** Records processed, over every task this instance ran. */
  readonly processedTotal: number;
  /** Records dropped as late (their window had closed). */
  readonly droppedLateTotal: number;
  /**
   * Records late for their window or session sent to the late-records topic (StreamsConfig `lateRecords`),
   * instead of being dropped: the sum of the two below.
   */
  readonly lateRecordsTotal: number;
  /** Late records that missed a session (session windows). */
  readonly lateSessionRecordsTotal: number;
  /** Late records that missed a time or sliding window. */
  readonly lateWindowRecordsTotal: number;
  /** Records dropped because an aggregation met a null key. */
  readonly droppedNullKeyTotal: number;
  /** Input records whose extracted timestamp was negative (dropped by the timestamp extractor's choice). */
  readonly droppedInvalidTimestampTotal: number;
  /** Output records the production exception handler dropped ('continue'). */
  readonly droppedProductionTotal: number;
  /** Records the deserialization and processing exception handlers skipped ('logAndContinue'). */
  readonly skippedRecordsTotal: number;
  /** Records the exception handlers sent to a dead-letter topic (not counted as skipped as well). */
  readonly deadLetterRecordsTotal: number;
}

/** The exception handlers of records that cannot be read or processed (StreamsConfig's settings). */
export interface RecordErrorHandlers {
  readonly deserializationExceptionHandler: RecordErrorHandler;
  readonly processingExceptionHandler: RecordErrorHandler;
}

/**
 * The accounting of records that fail, shared by the runtime's TaskExecutor and the TopologyTestDriver:
 * which handler a failure goes to, how it is counted and how it is logged. Records dropped by the tasks
 * themselves (late, null key, invalid timestamp) are counted and logged by each StreamTask, which both run.
 */
export class RecordAccounting {
  readonly deserializationErrors: RecordErrorPolicy;
  readonly processingErrors: RecordErrorPolicy;

  constructor(handlers: RecordErrorHandlers, logger: Logger) {
    this.deserializationErrors = new RecordErrorPolicy(handlers.deserializationExceptionHandler, 'deserialization', logger);
    this.processingErrors = new RecordErrorPolicy(handlers.processingExceptionHandler, 'processing', logger);
  }

  /**
   * Hands a record's failure to its exception handler: true when the record is dealt with (skipped or
   * dead-lettered, counted and logged) and processing goes on, false when the error is fatal.
   */
  handle(error: unknown, record: FailedRecord, deadLetters: DeadLetterSink): boolean {
    const policy = error instanceof DeserializationError ? this.deserializationErrors : error instanceof ProcessingError ? this.processingErrors : undefined;
    return policy?.handle(asError(error), record, deadLetters) === true;
  }

  /** Logs the skips not logged yet (on close). */
  flushLog(): void {
    this.deserializationErrors.flushLog();
    this.processingErrors.flushLog();
  }
}

/** The figures of `metrics()` from the tasks' counts and the exception handlers' (none: nothing failed yet). */
export function recordMetrics(counts: Readonly<RecordCounts>, failures: RecordAccounting | undefined): RecordMetrics {
  const deserialization = failures?.deserializationErrors;
  const processing = failures?.processingErrors;
  return {
    processedTotal: counts.processed,
    droppedLateTotal: counts.droppedLate,
    lateRecordsTotal: counts.lateSessionRouted + counts.lateWindowRouted,
    lateSessionRecordsTotal: counts.lateSessionRouted,
    lateWindowRecordsTotal: counts.lateWindowRouted,
    droppedNullKeyTotal: counts.droppedNullKey,
    droppedInvalidTimestampTotal: counts.droppedInvalidTimestamp,
    droppedProductionTotal: counts.droppedProduction,
    skippedRecordsTotal: (deserialization?.skipped ?? 0) + (processing?.skipped ?? 0),
    deadLetterRecordsTotal: (deserialization?.deadLettered ?? 0) + (processing?.deadLettered ?? 0) + counts.deadLetteredProduction,
  };
}
