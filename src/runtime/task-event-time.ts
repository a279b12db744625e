import type { ResolvedEventTimeConfig } from '../config/event-time-config.js';
import { ProcessingError, ProductionError, StateStoreError } from '../errors/errors.js';
import type { Logger } from '../logging/logger.js';
import type { EventTimeView } from '../processor/internals/internal-processor-context.js';
import type { Subtopology, Topology } from '../processor/topology.js';
import { EventTimeClock } from './event-time-clock.js';
import { ProgressPublisher, type ProgressMarker } from './progress-marker.js';
import type { RecordSink } from './record-sink.js';

export interface TaskEventTimeOptions {
  /** The mode's settings; `upstreamTasks` as `upstreamTasksOf` gives them. */
  readonly eventTime: { readonly config: ResolvedEventTimeConfig; readonly upstreamTasks: readonly string[] | undefined };
  readonly taskId: string;
  readonly topology: Topology;
  readonly subtopology: Subtopology;
  /** The task's own sink: progress markers go after everything it wrote (its transaction under exactly-once). */
  readonly sink: RecordSink;
  /** The task's stream time to start from (committed). */
  readonly initial: number;
  readonly wallClock: () => number;
  readonly logger: Logger;
}

/** What the task does when its stream time rises without a record (see `TaskEventTime.advance`). */
export interface TaskEventTimeHooks {
  /** No record is being processed: forget the last one's metadata, input and origin. */
  readonly leaveRecord: () => void;
  /** Fires the stream-time punctuators due at `now` (nothing when none is scheduled). */
  readonly punctuate: (now: number) => void;
}

/**
 * The event-time mode (our extension) as one task runs it: its EventTimeClock fed with markers, records and
 * ticks, the stream time its processors closed by, the processors' view of the clock, and the progress it
 * publishes. A task has none when the mode is off, and then keeps Kafka Streams' stream time exactly.
 */
export class TaskEventTime {
  private readonly clock: EventTimeClock;
  /** The stream time the processors last closed by (a record, or the advance listeners). */
  private advancedTo: number;
  private readonly progress: ProgressPublisher;
  private readonly wallClock: () => number;

  constructor(
    options: TaskEventTimeOptions,
    private readonly hooks: TaskEventTimeHooks,
  ) {
    const { eventTime, taskId, initial } = options;
    this.wallClock = options.wallClock;
    this.clock = new EventTimeClock({
      config: eventTime.config,
      taskId,
      upstreamTasks: eventTime.config.progressMarkers ? eventTime.upstreamTasks : undefined,
      initial,
      now: options.wallClock(),
      logger: options.logger,
    });
    this.advancedTo = initial;
    const repartitions = new Set(options.topology.internalTopics.filter((t) => t.kind === 'repartition').map((t) => t.name));
    const progressTopics = eventTime.config.progressMarkers ? options.subtopology.sinkTopics.filter((topic) => repartitions.has(topic)) : [];
    // Heartbeats well within the downstream's wait, so a live idle task is never given up on.
    const heartbeatMs = Math.max(1, Math.floor(eventTime.config.maxUpstreamWaitMs / 3));
    this.progress = new ProgressPublisher(taskId, progressTopics, options.sink, initial, heartbeatMs);
  }

  /** The task's stream time, `observed` (Kafka Streams' own) bounded by the clock: see EventTimeClock. */
  streamTime(observed: number): number {
    return this.clock.streamTime(observed);
  }

  /** The count of upstream tasks given up on (see EventTimeClock). */
  get waitsExpired(): number {
    return this.clock.waitsExpired;
  }

  /** The stream time the processors have closed by: a store's expiry trails it, so a rise emits what closed before it expires. */
  get closedBy(): number {
    return this.advancedTo;
  }

  /** A progress marker read from an upstream task (`observed`: the task's own stream time). */
  marker(marker: ProgressMarker, observed: number): void {
    this.clock.marker(marker, this.wallClock());
    this.advance(observed);
  }

  /** After a record was processed: stream-time punctuation at the bounded stream time, which the processors closed by. */
  recordProcessed(observed: number): void {
    this.clock.recordSeen(this.wallClock());
    const now = this.clock.streamTime(observed);
    this.hooks.punctuate(now);
    if (now > this.advancedTo) this.advancedTo = now;
  }

  /** See `StreamTask.tickEventTime`. */
  tick(now: number, drained: boolean, atEnd: boolean, observed: number): void {
    this.clock.tick(now, drained, atEnd);
    this.advance(observed);
  }

  /** When the stream time rose without a record: the processors' advance listeners, then stream-time punctuation. */
  private advance(observed: number): void {
    const now = this.clock.streamTime(observed);
    if (!(now > this.advancedTo)) return;
    this.hooks.leaveRecord();
    for (const listener of this.clock.advanceListeners) listener();
    this.hooks.punctuate(now);
    this.advancedTo = now;
  }

  /** True when there is progress to publish (`publishProgress`): the task should commit. */
  hasProgressToPublish(observed: number): boolean {
    return this.progress.pending(this.clock.streamTime(observed), this.wallClock());
  }

  /** With markers: writes the task's progress into the repartition topics it writes (see ProgressPublisher). */
  publishProgress(observed: number): void {
    this.progress.publish(this.clock.streamTime(observed), this.wallClock());
  }

  /**
   * The clock as one processor sees it: its advance listeners run with it as the current node (`enter`, then
   * `leave`), and what they throw names it.
   */
  viewFor(nodeName: string, enter: () => void, leave: () => void): EventTimeView {
    const clock = this.clock;
    return {
      streamTime: (observed) => clock.streamTime(observed),
      onAdvance: (listener) =>
        clock.onAdvance(() => {
          enter();
          try {
            listener();
          } catch (err) {
            if (err instanceof ProcessingError || err instanceof ProductionError || err instanceof StateStoreError) throw err;
            throw new ProcessingError(undefined, nodeName, err);
          } finally {
            leave();
          }
        }),
    };
  }
}
