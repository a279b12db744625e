import type { KafkaStreamsState } from './kafka-streams-state.js';
import { recordMetrics, type RecordMetrics } from './record-accounting.js';
import { addRecordCounts, emptyRecordCounts, type RecordCounts } from './record-counts.js';
import type { StreamThread } from './stream-thread.js';

/** Figures of one task. */
export interface TaskMetrics {
  /** `<sub-topology>_<partition>`. */
  readonly taskId: string;
  /** Records the task processed. */
  readonly processedTotal: number;
  /** Records behind the end of each input partition (`topic-partition`), as of the last fetch. */
  readonly recordsLag: Readonly<Record<string, number>>;
  /** Records the task dropped as late (their window had closed). */
  readonly droppedLateTotal: number;
  /** Records the task sent to the late-records topic (lateRecords). */
  readonly lateRecordsTotal: number;
  /** Punctuations the task ran. */
  readonly punctuateTotal: number;
  /** Their average duration. */
  readonly punctuateLatencyAvgMs: number;
  /** Reads answered by the write cache / all reads, per store (NaN before the first read). */
  readonly cacheHitRatio: Readonly<Record<string, number>>;
  /**
   * The event-time mode: upstream tasks this task gave up waiting for after `eventTime.maxUpstreamWaitMs`
   * (each also logged as a WARN naming it); 0 when the mode is off.
   */
  readonly upstreamWaitsExpiredTotal: number;
  /** The task's stream time (ms; -Infinity before its first record); in the event-time mode, the bounded one. */
  readonly streamTimeMs: number;
}

/** Figures of one instance, for sizing and alerting (the record counts as the TopologyTestDriver's, see RecordMetrics). */
export interface StreamsMetrics extends RecordMetrics {
  /** The instance's state. */
  readonly state: KafkaStreamsState;
  /** The tasks this instance processes. */
  readonly activeTasks: string[];
  /** Tasks this instance keeps warm replicas of (`numStandbyReplicas`). */
  readonly standbyTasks: string[];
  /** Changelog records the replicas applied. */
  readonly standbyRecordsTotal: number;
  /** Commits done. */
  readonly commitTotal: number;
  /** Their average duration. */
  readonly commitLatencyAvgMs: number;
  /** Changelog records restored into stores. */
  readonly restoredRecordsTotal: number;
  /** Changelog records still to restore, over the restorations in progress. */
  readonly restoreRemainingRecords: number;
  /** Records behind the end of the input, over this instance's tasks. */
  readonly recordsLag: number;
  /**
   * Fetched records waiting to be processed, over this instance's partitions: each partition's queue holds up
   * to `bufferedRecordsPerPartition` before its partition is paused, plus what one fetch brought.
   */
  readonly bufferedRecords: number;
  /** The most records one partition's queue has held since the start: what the fetch bounds allowed. */
  readonly maxBufferedRecordsPerPartition: number;
  /** Records written (output, repartition, changelog, dead letters). */
  readonly producedRecordsTotal: number;
  /** Produce requests those records were sent in. */
  readonly produceRequestsTotal: number;
  /** Figures per active task. */
  readonly tasks: readonly TaskMetrics[];
}

/** The ids of the thread's active tasks, sorted. */
export function activeTaskIds(thread: StreamThread | undefined): string[] {
  return [...(thread?.activeTasks.keys() ?? [])].sort();
}

/**
 * An instance's figures now, summed over its thread's tasks (counters since start). `retired`: the counters
 * of threads the instance replaced, so that totals never go back.
 */
export function collectStreamsMetrics(state: KafkaStreamsState, thread: StreamThread | undefined, retired: RecordCounts): StreamsMetrics {
  // Counters of tasks the thread no longer runs (handed over, recovered, closed) stay in the totals.
  const totals = addRecordCounts(emptyRecordCounts(), retired);
  if (thread !== undefined) addRecordCounts(totals, thread.retiredTaskCounters);
  let recordsLag = 0;
  const tasks: TaskMetrics[] = [];
  for (const task of thread?.activeTasks.values() ?? []) {
    const c = task.streamTask.counters;
    addRecordCounts(totals, c);
    const lag: Record<string, number> = {};
    for (const { topic, partition, value } of task.recordsLag) {
      lag[`${topic}-${partition}`] = Number(value);
      recordsLag += Number(value);
    }
    const cacheHitRatio: Record<string, number> = {};
    for (const [name, store] of task.streamTask.stores) {
      const { hits, misses } = store.hitRatio();
      cacheHitRatio[name] = hits / (hits + misses);
    }
    tasks.push({
      taskId: task.id,
      processedTotal: c.processed,
      recordsLag: lag,
      droppedLateTotal: c.droppedLate,
      lateRecordsTotal: c.lateSessionRouted + c.lateWindowRouted,
      punctuateTotal: c.punctuations,
      punctuateLatencyAvgMs: c.punctuations === 0 ? 0 : c.punctuateMsTotal / c.punctuations,
      cacheHitRatio,
      upstreamWaitsExpiredTotal: task.streamTask.upstreamWaitsExpired,
      streamTimeMs: task.streamTask.streamTime,
    });
  }
  const counters = thread?.counters ?? { commits: 0, commitLatencyTotalMs: 0, restoredRecords: 0 };
  const produced = thread?.producerStats ?? { records: 0, batches: 0 };
  let restoreRemaining = 0;
  for (const r of thread?.restoreProgress.inProgress.values() ?? []) restoreRemaining += Number(r.remaining);
  return {
    state,
    activeTasks: activeTaskIds(thread),
    standbyTasks: thread?.standbys?.taskIds ?? [],
    standbyRecordsTotal: thread?.standbys?.appliedRecords ?? 0,
    ...recordMetrics(totals, thread?.failedRecords),
    commitTotal: counters.commits,
    commitLatencyAvgMs: counters.commits === 0 ? 0 : counters.commitLatencyTotalMs / counters.commits,
    restoredRecordsTotal: counters.restoredRecords,
    restoreRemainingRecords: restoreRemaining,
    recordsLag,
    bufferedRecords: thread?.bufferedRecords ?? 0,
    maxBufferedRecordsPerPartition: thread?.maxBufferedRecordsPerPartition ?? 0,
    producedRecordsTotal: produced.records,
    produceRequestsTotal: produced.batches,
    tasks: tasks.sort((a, b) => (a.taskId < b.taskId ? -1 : 1)),
  };
}
