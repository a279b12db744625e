import type { Headers } from '../processor/record.js';
import type { RecordSink } from './record-sink.js';

/**
 * The header that makes a record a progress marker (the event-time mode): `<upstream task id> <stream time>`.
 * Markers are written by tasks into the repartition topics they feed, and taken out of the stream by every
 * task that reads one, before deserialization: no processor, tool or count ever sees them.
 */
export const PROGRESS_HEADER = '__kstreams.progress';

/** What a marker says: upstream task `upstream` has reached stream time `progress`. */
export interface ProgressMarker {
  readonly upstream: string;
  readonly progress: number;
}

/** The header value of a marker. */
export function progressHeaderValue(upstream: string, progress: number): string {
  return `${upstream} ${progress}`;
}

/** The marker a record's headers carry, or undefined for an ordinary record (or a malformed header). */
export function progressMarkerOf(headers: Headers): ProgressMarker | undefined {
  const raw = headers[PROGRESS_HEADER];
  if (raw === undefined) return undefined;
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  const space = text.lastIndexOf(' ');
  const progress = Number(text.slice(space + 1));
  if (space <= 0 || !Number.isFinite(progress)) return undefined;
  return { upstream: text.slice(0, space), progress };
}

/**
 * Writes a task's progress markers: its stream time into every partition of each repartition topic it
 * writes, after everything it wrote so far (at a commit, through the task's own sink: its transaction under
 * exactly-once). Only when the stream time moved since the last marker.
 */
export class ProgressPublisher {
  private published: number;

  constructor(
    private readonly taskId: string,
    /** The repartition topics the task writes; empty: it publishes nothing. */
    private readonly topics: readonly string[],
    private readonly sink: RecordSink,
    initial: number,
  ) {
    this.published = initial;
  }

  /** True when `progress` is ahead of the last marker written (the task should commit to publish it). */
  pending(progress: number): boolean {
    return this.topics.length > 0 && progress > this.published;
  }

  publish(progress: number): void {
    if (!this.pending(progress) || !Number.isFinite(progress)) return;
    this.published = progress;
    const headers = { [PROGRESS_HEADER]: progressHeaderValue(this.taskId, progress) };
    const timestamp = Math.max(0, progress);
    for (const topic of this.topics) {
      const partitions = this.sink.partitionsFor(topic) ?? 0;
      for (let partition = 0; partition < partitions; partition++) this.sink.send({ topic, key: null, value: null, timestamp, headers, partition });
    }
  }
}
