/**
 * What happened to input records, summed over tasks: every record is processed, or dropped for one of these
 * reasons and counted (records the exception handlers skip or dead-letter are counted by their policies).
 * Totals only ever grow: counts of tasks that moved away or of replaced threads are kept in a sum.
 */
export interface RecordCounts {
  processed: number;
  droppedLate: number;
  /** Records late for a session, sent to the late-records topic (StreamsConfig lateRecords). */
  lateSessionRouted: number;
  /** Records late for a time or sliding window, sent to the late-records topic. */
  lateWindowRouted: number;
  droppedNullKey: number;
  droppedInvalidTimestamp: number;
  /** Output records the production exception handler dropped. */
  droppedProduction: number;
  /** Output records the production exception handler sent to its dead-letter topic. */
  deadLetteredProduction: number;
}

export function emptyRecordCounts(): RecordCounts {
  return { processed: 0, droppedLate: 0, lateSessionRouted: 0, lateWindowRouted: 0, droppedNullKey: 0, droppedInvalidTimestamp: 0, droppedProduction: 0, deadLetteredProduction: 0 };
}

/** Adds `from` into `into` and returns `into`. */
export function addRecordCounts(into: RecordCounts, from: Readonly<RecordCounts>): RecordCounts {
  into.processed += from.processed;
  into.droppedLate += from.droppedLate;
  into.lateSessionRouted += from.lateSessionRouted;
  into.lateWindowRouted += from.lateWindowRouted;
  into.droppedNullKey += from.droppedNullKey;
  into.droppedInvalidTimestamp += from.droppedInvalidTimestamp;
  into.droppedProduction += from.droppedProduction;
  into.deadLetteredProduction += from.deadLetteredProduction;
  return into;
}

/** Counters of one task, read by metrics. */
export class TaskCounters implements RecordCounts {
  processed = 0;
  droppedLate = 0;
  lateSessionRouted = 0;
  lateWindowRouted = 0;
  droppedNullKey = 0;
  punctuations = 0;
  punctuateMsTotal = 0;
  /** Output records the production exception handler dropped. */
  droppedProduction = 0;
  /** Output records the production exception handler sent to its dead-letter topic. */
  deadLetteredProduction = 0;
  /** Input records whose extracted timestamp was negative. */
  droppedInvalidTimestamp = 0;
}
