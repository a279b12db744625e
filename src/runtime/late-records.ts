import type { LateRecordsSettings } from '../config/late-records.js';
import { ConfigError, ProductionError, type RecordOrigin } from '../errors/errors.js';
import type { LateReason, MissedWindow } from '../processor/internals/internal-processor-context.js';
import type { Headers } from '../processor/record.js';
import type { Topology } from '../processor/topology.js';
import type { DroppedRecordsLog } from './dropped-records-log.js';
import type { RecordCounts } from './record-counts.js';
import type { RecordSink } from './record-sink.js';
import { ORIGIN_HEADER } from './sink-writer.js';
import { refusal, type WriteLimitsByTopic } from './topic-write-limits.js';

/** Headers of a record in the late-records topic (besides the record's own headers, kept as they were). */
export const LATE_RECORD_HEADERS = {
  /** Why it is late: `session-closed` (session windows) or `window-closed` (time and sliding windows). */
  reason: 'kstreams.late.reason',
  /** Start of the window or session it missed (ms since the epoch, decimal). */
  windowStart: 'kstreams.late.window.start',
  /** End of the window or session it missed. */
  windowEnd: 'kstreams.late.window.end',
  /** Windows ending before this had closed: the aggregation's stream time - grace (- gap for sessions). */
  closeTime: 'kstreams.late.close.time',
  /** The aggregation's stream time when the record arrived. */
  streamTime: 'kstreams.late.stream.time',
  /** The task that met it (`<sub-topology>_<partition>`). */
  task: 'kstreams.late.task',
  /** The aggregation's processor. */
  processor: 'kstreams.late.processor',
  /** The aggregation's store. */
  store: 'kstreams.late.store',
  /** The topic the task read it from (a repartition topic when it came through one). */
  topic: 'kstreams.late.topic',
  /** Its partition there. */
  partition: 'kstreams.late.partition',
  /** Its offset there: with topic and partition, what tells a record routed twice (at-least-once) from two. */
  offset: 'kstreams.late.offset',
  /** Where a record read from a repartition topic entered the application (`topic-partition@offset`). */
  inputOrigin: 'kstreams.late.input.origin',
} as const;

/** The input record a task is processing, as it was read: what a late record is made of. */
export interface LateInput {
  readonly origin: RecordOrigin;
  readonly rawKey: Buffer | null;
  readonly rawValue: Buffer | null;
  /** The time the task processes it with (the source's timestamp extractor applied): the late record's timestamp. */
  readonly timestamp: number;
  /** Its headers as read (with ORIGIN_HEADER when it came through a repartition topic with tracing on). */
  readonly headers: Headers;
}

/** Counts of routed late records, by reason: RecordCounts' fields. */
export const LATE_COUNT_FIELD: Record<LateReason, 'lateSessionRouted' | 'lateWindowRouted'> = {
  'session-closed': 'lateSessionRouted',
  'window-closed': 'lateWindowRouted',
};

export interface LateRecordRouterOptions {
  readonly settings: LateRecordsSettings;
  readonly taskId: string;
  /** The task's output: under exactly-once, its transaction. */
  readonly sink: RecordSink;
  readonly limits: WriteLimitsByTopic | undefined;
  readonly maxRecordBytes: number;
  readonly wallClock: () => number;
  readonly counts: RecordCounts;
  readonly dropped: DroppedRecordsLog;
}

/**
 * A task's late-records output: a record late for its window goes to the late-records topic as the task
 * read it, with headers naming what it missed, instead of being dropped. Only late records come here.
 */
export class LateRecordRouter {
  constructor(private readonly options: LateRecordRouterOptions) {}

  get topic(): string {
    return this.options.settings.topic;
  }

  /** Sends `input` to the late-records topic; throws ProductionError when the topic would refuse it. */
  route(input: LateInput, processor: string, missed: MissedWindow, detail: string): void {
    const { origin } = input;
    const headers: Headers = { ...input.headers };
    const inputOrigin = headers[ORIGIN_HEADER];
    delete headers[ORIGIN_HEADER];
    headers[LATE_RECORD_HEADERS.reason] = Buffer.from(missed.reason);
    headers[LATE_RECORD_HEADERS.windowStart] = Buffer.from(String(missed.start));
    headers[LATE_RECORD_HEADERS.windowEnd] = Buffer.from(String(missed.end));
    headers[LATE_RECORD_HEADERS.closeTime] = Buffer.from(String(missed.closeTime));
    headers[LATE_RECORD_HEADERS.streamTime] = Buffer.from(String(missed.streamTime));
    headers[LATE_RECORD_HEADERS.task] = Buffer.from(this.options.taskId);
    headers[LATE_RECORD_HEADERS.processor] = Buffer.from(processor);
    headers[LATE_RECORD_HEADERS.store] = Buffer.from(missed.store);
    headers[LATE_RECORD_HEADERS.topic] = Buffer.from(origin.topic);
    headers[LATE_RECORD_HEADERS.partition] = Buffer.from(String(origin.partition));
    headers[LATE_RECORD_HEADERS.offset] = Buffer.from(origin.offset);
    if (inputOrigin !== undefined) headers[LATE_RECORD_HEADERS.inputOrigin] = Buffer.from(String(inputOrigin));
    const { topic } = this;
    const { limits, maxRecordBytes, wallClock } = this.options;
    const refused = refusal(limits?.get(topic), maxRecordBytes, input.rawKey, input.rawValue, headers, input.timestamp, wallClock);
    if (refused !== undefined) {
      throw new ProductionError(
        `The late record of ${processor} (${origin.topic}-${origin.partition}@${origin.offset}, ${detail}) cannot be sent to the ` +
          `late-records topic ${topic}: it ${refused}. Raise that setting on ${topic}, or leave lateRecords out to drop and count late records.`,
      );
    }
    this.options.sink.send({ topic, key: input.rawKey, value: input.rawValue, timestamp: input.timestamp, headers, partition: undefined });
    this.options.counts[LATE_COUNT_FIELD[missed.reason]]++;
    this.options.dropped.record(processor, 'late-routed', `${origin.topic}-${origin.partition}@${origin.offset}: ${detail} (sent to ${topic})`);
  }
}

/**
 * The late-records topic of a configuration, checked against the topology: it must be none of the topics
 * the topology reads or writes (a late record read back would be late again). Throws ConfigError.
 */
export function checkLateRecordsTopic(topology: Topology, settings: LateRecordsSettings | undefined): string | undefined {
  if (settings === undefined) return undefined;
  const { topic } = settings;
  const subtopologies = [...topology.subtopologies, ...topology.globalSubtopologies];
  const read = subtopologies.some((s) => s.sourceTopics.includes(topic));
  const written = subtopologies.some((s) => s.sinkTopics.includes(topic)) || topology.internalTopics.some((t) => t.name === topic);
  if (read || written) {
    throw new ConfigError(
      `lateRecords.topic '${topic}' is a topic the topology ${read ? 'reads' : 'writes'}: name a topic of its own for late records ` +
        `(e.g. '${topology.applicationId}-late-records'); a downstream application reads it.`,
    );
  }
  return topic;
}

/** Checks at start that the late-records topic exists (it is not created by the application); returns it. */
export async function checkLateRecordsTopicExists(
  existingTopics: () => Promise<ReadonlySet<string>>,
  topology: Topology,
  settings: LateRecordsSettings | undefined,
): Promise<string[]> {
  const topic = checkLateRecordsTopic(topology, settings);
  if (topic === undefined) return [];
  if (!(await existingTopics()).has(topic)) {
    throw new ConfigError(
      `The late-records topic ${topic} (lateRecords.topic) does not exist: create it (any partition count) before starting; ` +
        '`kstreams topics create --topology <module>` lists it when the module exports its config.',
    );
  }
  return [topic];
}
