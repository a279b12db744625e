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
 * exactly-once). When the stream time moved since the last marker, and at least every `heartbeatMs` even
 * when it did not: a downstream task that restarted reads only the markers after its committed offset, and
 * must hear from an idle upstream task too before its stream time moves (and an idle task is not dead).
 */
export class ProgressPublisher {
  private published: number;
  private publishedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly taskId: string,
    /** The repartition topics the task writes; empty: it publishes nothing. */
    private readonly topics: readonly string[],
    private readonly sink: RecordSink,
    initial: number,
    private readonly heartbeatMs: number,
  ) {
    this.published = initial;
  }

  /** True when a marker of `progress` is due at wall clock `now` (the task should commit to publish it). */
  pending(progress: number, now: number): boolean {
    if (this.topics.length === 0 || !Number.isFinite(progress)) return false;
    return progress > this.published || now - this.publishedAt >= this.heartbeatMs;
  }

  publish(progress: number, now: number): void {
    if (!this.pending(progress, now)) return;
    this.published = progress;
    this.publishedAt = now;
    const headers = { [PROGRESS_HEADER]: progressHeaderValue(this.taskId, progress) };
    const timestamp = Math.max(0, progress);
    for (const topic of this.topics) {
      const partitions = this.sink.partitionsFor(topic) ?? 0;
      for (let partition = 0; partition < partitions; partition++) this.sink.send({ topic, key: null, value: null, timestamp, headers, partition });
    }
  }
}
