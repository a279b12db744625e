import type { FetchedRecord } from '../client/fetched-batch.js';
import type { ResolvedStreamsConfig } from '../config/streams-config.js';
import { asError } from '../errors/as-error.js';
import type { Topology } from '../processor/topology.js';
import type { ActiveTask } from './active-task.js';
import type { Committer } from './commit/committer.js';
import { toHeaders, type InputBuffers, type QueuedRecord, type RunningTask } from './input-buffers.js';
import type { RecordQueue } from './record-queue.js';
import { RecordAccounting } from './record-accounting.js';
import { TaskScheduler } from './task-scheduler.js';
import type { ThreadErrors, ThreadState } from './thread-state.js';
import { WriteOrderGate } from './write-order-gate.js';

/**
 * The processing of a thread's running tasks, as Kafka Streams' TaskExecutor: rounds of at most
 * `maxPollRecords` records, each synchronous (no promise per record, no allocation per record), taken in
 * event-time order across tasks (see TaskScheduler), held back where the write-order gate says so, with
 * each task's producer bound as back-pressure; then the wall-clock punctuation of the tasks that ran.
 * Between rounds the loop waits here for work. A record that cannot be read or processed goes to the record
 * error policies, or fails the thread.
 */
export class TaskExecutor {
  /** Skipped and dead-lettered records, counted and logged as the TopologyTestDriver does. */
  readonly failedRecords: RecordAccounting;
  private readonly scheduler = new TaskScheduler<RunningTask>((r) => r.task.subtopologyId);
  /** Keeps what tasks write to repartition topics close to event-time order; undefined when turned off. */
  private readonly gate: WriteOrderGate<ActiveTask> | undefined;
  /** Per sub-topology: true when it writes a repartition topic (its tasks pass the gate). */
  private readonly gated: boolean[];
  /** Per sub-topology, during a round: the largest timestamp its tasks may process (see WriteOrderGate). */
  private readonly limits: number[];
  /** The tasks that processed in the current round (they punctuate at its end). */
  private readonly touched = new Set<RunningTask>();
  /** Ends the loop's wait for work. */
  private wakeUp: (() => void) | undefined;

  constructor(
    topology: Topology,
    private readonly config: ResolvedStreamsConfig,
    private readonly inputs: InputBuffers,
    private readonly state: ThreadState,
    /** Every task of the thread (the producer bound is shared among them). */
    private readonly tasks: ReadonlyMap<string, ActiveTask>,
    /** Tells which tasks are committing (they do not process meanwhile). */
    private readonly committer: Committer,
    private readonly errors: ThreadErrors,
  ) {
    this.failedRecords = new RecordAccounting(config, config.logger);
    this.gated = topology.subtopologies.map((s) => s.nodes.some((n) => n.kind === 'sink' && typeof n.topic !== 'function' && n.topic.internal));
    this.limits = this.gated.map(() => Number.POSITIVE_INFINITY);
    this.gate = config.maxRepartitionSkewMs >= 0 ? new WriteOrderGate(config.maxRepartitionSkewMs, (t) => t.pipeline) : undefined;
  }

  /** Records waiting in a task's producer beyond which the task waits (the instance's bound, shared). */
  private get producerBound(): number {
    return Math.max(500, Math.floor(this.config.maxBufferedRecords / Math.max(1, this.tasks.size)));
  }

  /** Processes one round; returns how many records it took. Errors end in the record error policies or fail(). */
  process(now: number): number {
    const budget = this.config.maxPollRecords;
    const touched = this.touched;
    touched.clear();
    let done = 0;
    while (done < budget && !this.state.stopped) {
      this.updateLimits();
      const slice = this.scheduler.next(this.inputs.running.values(), (r) => this.headOf(r, now));
      if (slice === undefined) break;
      touched.add(slice.task);
      const sub = slice.task.task.subtopologyId;
      done += this.processSlice(slice.task, Math.min(slice.until, this.limits[sub]!), budget - done, now);
    }
    // From here the producers send what the round enqueued.
    this.gate?.sealed();
    return done;
  }

  /** The end of a round: wall-clock punctuation of the tasks that processed, and their producers send. */
  punctuate(now: number): void {
    for (const r of this.touched) {
      if (this.state.stopped || r.task.state !== 'running') continue;
      try {
        r.task.streamTask.punctuateWallClock(now);
      } catch (err) {
        this.errors.fail(asError(err));
        break;
      }
      r.task.pipeline.kick();
    }
    this.touched.clear();
    if (this.config.eventTime !== undefined) this.tickEventTime(now);
  }

  /**
   * The event-time mode: every running task's clock moves with the wall clock (upstream waits, idle advance),
   * whether it processed or not; what closed is emitted now, and sent with the task's next commit.
   */
  private tickEventTime(now: number): void {
    for (const r of this.inputs.running.values()) {
      if (this.state.stopped || r.task.state !== 'running' || this.committer.isCommitting(r.task)) continue;
      // A partition never fetched with records has no known end: not at its end, so a replay never advances by the clock.
      let atEnd = true;
      for (const q of r.group.queues) if (q.fetchedLag !== 0n) atEnd = false;
      try {
        r.task.streamTask.tickEventTime(now, r.group.size === 0, atEnd);
      } catch (err) {
        this.errors.fail(asError(err));
        return;
      }
      r.task.pipeline.kick();
    }
  }

  /** Forgets a task that stopped running (its output no longer holds the others back). */
  forget(task: ActiveTask): void {
    this.gate?.remove(task);
  }

  /** Per gated sub-topology: the oldest output not acknowledged yet, plus the skew allowed. */
  private updateLimits(): void {
    const gate = this.gate;
    if (gate === undefined) return;
    this.limits.fill(Number.POSITIVE_INFINITY);
    for (const { task } of this.inputs.running.values()) {
      const sub = task.subtopologyId;
      if (this.gated[sub] === true) this.limits[sub] = Math.min(this.limits[sub]!, gate.oldest(task) + gate.skew);
    }
  }

  /** The timestamp of the record a task would process next, or undefined when it cannot process now. */
  private headOf(r: RunningTask, now: number): number | undefined {
    const { task } = r;
    if (task.state !== 'running' || this.committer.isCommitting(task)) return undefined;
    if (task.pipeline.pending > this.producerBound) return undefined;
    const head = this.nextQueue(r, now)?.peek()?.timestamp;
    return head === undefined || head > this.limits[task.subtopologyId]! ? undefined : head;
  }

  /** The task's next queue; a head that cannot be prepared goes to the error policy (or fails the thread). */
  private nextQueue(r: RunningTask, now: number): RecordQueue<QueuedRecord> | undefined {
    for (;;) {
      try {
        return r.group.next(now);
      } catch (err) {
        const queue = r.group.failed;
        const raw = queue?.rawHead;
        if (queue === undefined || raw === undefined || !this.recordFailed(r.task, queue, raw, err)) return undefined;
        queue.skipHead();
      }
    }
  }

  /** Applies the record error policy; false when the thread failed instead. */
  private recordFailed(task: ActiveTask, queue: RecordQueue<QueuedRecord>, raw: FetchedRecord, err: unknown): boolean {
    const headers = toHeaders(raw.headers);
    const failed = { topic: queue.topic, partition: queue.partition, offset: raw.offset, key: raw.key, value: raw.value, timestamp: Number(raw.timestamp), headers };
    if (this.failedRecords.handle(err, failed, task.pipeline)) return true;
    this.errors.fail(asError(err));
    return false;
  }

  /** Processes a task's records while they are due before `until`; returns how many it took. */
  private processSlice(r: RunningTask, until: number, max: number, now: number): number {
    const stream = r.task.streamTask;
    const enqueuedBefore = r.task.pipeline.enqueuedTotal;
    let from = Number.NaN;
    let n = 0;
    while (n < max) {
      const queue = this.nextQueue(r, now);
      const head = queue?.peek();
      if (queue === undefined || head === undefined || head.timestamp > until) break;
      queue.take();
      if (n === 0) from = head.timestamp;
      n++;
      try {
        stream.processPrepared(head.input);
      } catch (err) {
        if (!this.recordFailed(r.task, queue, head.raw, err)) break;
      }
      if (this.state.stopped || r.task.state !== 'running') break;
    }
    if (n > 0 && this.gated[r.task.subtopologyId] === true) this.gate?.slice(r.task, from, enqueuedBefore);
    return n;
  }

  /** Ends the loop's wait for work (a fetch, a task, a finished commit, the thread's end). */
  wake(): void {
    const wakeUp = this.wakeUp;
    this.wakeUp = undefined;
    wakeUp?.();
  }

  /**
   * Waits for a fetch, a task, a finished commit, a producer below its bound, the end of a task's idle
   * wait, or the thread's end. A re-check after a second at most guards against a missed wake-up.
   *
   * Resolves only after the event loop has turned (setImmediate), however the wait ended: a wake-up from a
   * promise that settles at once (a commit that had nothing to do, a producer that failed) would otherwise
   * let the loop go round in microtasks alone, and then no timer, heartbeat or acknowledgement ever runs
   * again while every round adds a flush waiter (issue 31: a worker spun into a 4 GB heap that way).
   */
  waitForWork(): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      let ended = false;
      const done = (): void => {
        if (ended) return;
        ended = true;
        clearTimeout(timer);
        if (this.wakeUp === done) this.wakeUp = undefined;
        setImmediate(resolve);
      };
      this.wakeUp = done;
      const now = Date.now();
      let delay = 1000;
      for (const r of this.inputs.running.values()) {
        const deadline = r.group.nextIdleDeadline;
        if (deadline !== undefined && deadline > now) delay = Math.min(delay, deadline - now);
        const pipeline = r.task.pipeline;
        // Acknowledgements move the gate; a failed pipeline is handled by its commit, not here.
        if (this.gate?.waiting(r.task) === true) pipeline.flush().then(done, () => {});
        if (r.task.state === 'running' && pipeline.pending > this.producerBound) {
          pipeline.drainBelow(this.producerBound >> 1).then(done, (err: unknown) => {
            // A task taken down meanwhile (suspended in an outage, handed over, recovered): the end of its
            // old pipeline is no news, even when the send kafkajs kept retrying fails only after the broker
            // came back ("old epoch": the task's new producer fenced it). Under exactly-once the task's next
            // commit meets a failure of its current pipeline and recovers the task (a fenced producer is
            // re-created, not fatal). Under at-least-once the thread decides, as for any failed send; thrown
            // into the loop it would stop it for good, and a broker outage is survivable.
            if (r.task.state === 'running' && this.config.processingGuarantee !== 'exactly_once_v2') this.errors.handleError(asError(err));
            done();
          });
        }
      }
      timer = setTimeout(done, delay);
    });
  }
}
