import type { ResolvedEventTimeConfig } from '../config/event-time-config.js';
import type { Logger } from '../logging/logger.js';
import type { EventTimeView } from '../processor/internals/internal-processor-context.js';
import type { Topology } from '../processor/topology.js';
import { formatTaskId } from '../processor/task-id.js';
import type { ProgressMarker } from './progress-marker.js';

interface Upstream {
  /** Its latest progress; -Infinity until its first marker since this task started. */
  progress: number;
  /** Wall clock of its latest marker (or of this task's start). */
  heardAt: number;
  /** Waited for longer than `maxUpstreamWaitMs`: left out of the bound until its next marker. */
  excluded: boolean;
}

export interface EventTimeClockOptions {
  readonly config: ResolvedEventTimeConfig;
  readonly taskId: string;
  /**
   * The tasks whose markers bound this one (those writing the repartition topics it reads); undefined when it
   * reads none (or markers are off); an empty list when they are not known, then learnt from the markers.
   */
  readonly upstreamTasks: readonly string[] | undefined;
  /** The stream time the task resumes from (committed); the clock never goes below it. */
  readonly initial: number;
  readonly now: number;
  readonly logger: Logger;
}

/**
 * The stream time of one task in the event-time mode, in one place (see the README's "Event time across
 * instances"). A processor that observed `observed` works with
 *
 *   streamTime(observed) = min(max(observed, idle floor), upstream bound)
 *
 * where the upstream bound is the smallest progress of the upstream tasks (their markers), never lower than
 * before nor than the committed stream time, and the idle floor is wall clock − `maxEventDelayMs` once the
 * task's input is caught up and quiet for `idleAdvanceAfterMs`. Both only rise, so stream time never goes
 * back. Pure apart from the logger: the task feeds it markers, records and ticks with the wall clock.
 */
export class EventTimeClock implements EventTimeView {
  private readonly upstream = new Map<string, Upstream>();
  private upstreamBound: number;
  private idleFloor = Number.NEGATIVE_INFINITY;
  /** Wall clock of the last data record, or of the last time input was not caught up. */
  private lastActivity: number;
  private readonly listeners: Array<() => void> = [];
  /** Upstream tasks given up on after `maxUpstreamWaitMs` (a metric). */
  waitsExpired = 0;

  constructor(private readonly options: EventTimeClockOptions) {
    this.lastActivity = options.now;
    this.upstreamBound = options.upstreamTasks === undefined ? Number.POSITIVE_INFINITY : options.initial;
    for (const id of options.upstreamTasks ?? []) this.upstream.set(id, { progress: Number.NEGATIVE_INFINITY, heardAt: options.now, excluded: false });
  }

  streamTime(observed: number): number {
    const raised = observed > this.idleFloor ? observed : this.idleFloor;
    return raised < this.upstreamBound ? raised : this.upstreamBound;
  }

  onAdvance(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** The processors' advance listeners, for the task to run with their node current. */
  get advanceListeners(): readonly (() => void)[] {
    return this.listeners;
  }

  /** The smallest progress of the upstream tasks taken into account (+Infinity without upstream tasks). */
  get bound(): number {
    return this.upstreamBound;
  }

  /** A data record was processed: the input is not quiet. */
  recordSeen(now: number): void {
    this.lastActivity = now;
  }

  /** A marker of an upstream task was read. */
  marker(marker: ProgressMarker, now: number): void {
    if (this.options.upstreamTasks === undefined) return;
    const u = this.upstream.get(marker.upstream);
    if (u === undefined) {
      // A task the topology did not announce (partition counts unknown, or changed): it counts from now on.
      this.upstream.set(marker.upstream, { progress: marker.progress, heardAt: now, excluded: false });
    } else {
      if (u.excluded) this.options.logger.info(`task ${this.options.taskId}: upstream task ${marker.upstream} reports progress again (${marker.progress})`);
      u.excluded = false;
      u.heardAt = now;
      if (marker.progress > u.progress) u.progress = marker.progress;
    }
    this.recomputeBound();
  }

  /**
   * Called at each round's end with the wall clock: gives up on upstream tasks silent for longer than
   * `maxUpstreamWaitMs` while they hold the others back, and moves the idle floor when the task's input is
   * caught up and quiet. Caught up: nothing buffered (`drained`) and, for a task that reads its input from
   * outside, nothing left on the broker (`atEnd`). A task bound by upstream markers needs no more than
   * `drained`: the bound already waits for every upstream task (each idle-advances only when caught up
   * itself), and a record still on the broker was written after the upstream's last marker, so at or after
   * its progress − its disorder. (Under exactly-once a repartition partition is seldom seen at its end: the
   * upstream tasks' transactions keep it open.)
   */
  tick(now: number, drained: boolean, atEnd: boolean): void {
    const caughtUp = drained && (atEnd || this.options.upstreamTasks !== undefined);
    const { maxUpstreamWaitMs, maxEventDelayMs, idleAdvanceAfterMs } = this.options.config;
    if (this.upstream.size > 0) {
      let ahead = Number.NEGATIVE_INFINITY;
      for (const u of this.upstream.values()) if (!u.excluded && u.progress > ahead) ahead = u.progress;
      let changed = false;
      for (const [id, u] of this.upstream) {
        if (u.excluded || !(u.progress < ahead) || now - u.heardAt <= maxUpstreamWaitMs) continue;
        u.excluded = true;
        changed = true;
        this.waitsExpired++;
        const last = Number.isFinite(u.progress) ? `its last progress ${u.progress}` : 'no progress from it since this task started';
        this.options.logger.warn(
          `task ${this.options.taskId}: no progress marker from upstream task ${id} for ${now - u.heardAt} ms (${last}); ` +
            `going on without it after eventTime.maxUpstreamWaitMs (${maxUpstreamWaitMs}): its records older than stream time − grace will be late`,
        );
      }
      if (changed) this.recomputeBound();
    }
    if (maxEventDelayMs === undefined) return;
    if (!caughtUp) {
      this.lastActivity = now;
      return;
    }
    if (now - this.lastActivity >= idleAdvanceAfterMs) {
      const floor = now - maxEventDelayMs;
      if (floor > this.idleFloor) this.idleFloor = floor;
    }
  }

  private recomputeBound(): void {
    let min = Number.POSITIVE_INFINITY;
    let any = false;
    for (const u of this.upstream.values()) {
      if (u.excluded) continue;
      any = true;
      if (u.progress < min) min = u.progress;
    }
    if (any && min > this.upstreamBound) this.upstreamBound = min;
  }
}

/**
 * The tasks that write the repartition topics a sub-topology reads: every task of each sub-topology whose
 * sinks write one (a sub-topology runs as many tasks as its largest source topic has partitions). Undefined
 * when it reads no repartition topic; an empty list when a partition count is unknown (learnt from markers).
 */
export function upstreamTasksOf(topology: Topology, subtopologyId: number, partitionsFor: (topic: string) => number | undefined): string[] | undefined {
  const reads = new Set(topology.subtopologies[subtopologyId]!.sourceTopics);
  const repartitions = new Set(topology.internalTopics.filter((t) => t.kind === 'repartition' && reads.has(t.name)).map((t) => t.name));
  if (repartitions.size === 0) return undefined;
  const tasks: string[] = [];
  for (const writer of topology.subtopologies) {
    if (!writer.sinkTopics.some((topic) => repartitions.has(topic))) continue;
    let count = 0;
    for (const topic of writer.sourceTopics) count = Math.max(count, partitionsFor(topic) ?? 0);
    if (count === 0) return [];
    for (let partition = 0; partition < count; partition++) tasks.push(formatTaskId({ subtopology: writer.id, partition }));
  }
  return tasks;
}
