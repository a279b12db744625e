import type { RecordMetadata, StreamRecord } from './record.js';

/**
 * The low-level Processor API, for what the DSL cannot say. A processor instance belongs to one task and is
 * called from one thread of control at a time: `init` once, then `process` for each record in offset order
 * (and punctuators in between), then `close` once. All three are synchronous.
 */
export interface Processor<KIn, VIn, KOut = never, VOut = never> {
  /** Called once before the first record: keep the context, open stores, schedule punctuations. */
  init?(context: ProcessorContext<KOut, VOut>): void;
  /** Called for each record, in offset order; forward results with `context.forward`. */
  process(record: StreamRecord<KIn, VIn>): void;
  /** Called once when the task closes (rebalance, shutdown); release what `init` acquired. */
  close?(): void;
}

/** Creates a fresh processor for each task; never return a shared instance. */
export type ProcessorSupplier<KIn, VIn, KOut = never, VOut = never> = () => Processor<KIn, VIn, KOut, VOut>;

/** When a punctuator fires: on stream time (driven by record timestamps) or on the wall clock. */
export type PunctuationType = 'STREAM_TIME' | 'WALL_CLOCK_TIME';

/** Called by a punctuation with the stream time or wall-clock time it fired at. */
export type Punctuator = (timestamp: number) => void;

/** A scheduled punctuation. */
export interface Cancellable {
  /** Stops it; it does not fire again. */
  cancel(): void;
}

/** What a processor may do beyond returning: forward records, use stores, schedule punctuations. */
export interface ProcessorContext<KOut, VOut> {
  /** The application's id. */
  readonly applicationId: string;
  /** `<subtopology>_<partition>`, for example `1_3`. */
  readonly taskId: string;
  /** Forwards to all children, or to the named child only. */
  forward(record: StreamRecord<KOut, VOut>, childName?: string): void;
  /** A store connected to this processor; throws if it is not connected. */
  getStateStore<S>(name: string): S;
  /** Calls `punctuator` every `intervalMs` of stream time or of wall-clock time, e.g. `context.schedule(60_000, 'WALL_CLOCK_TIME', (now) => this.flush(now))`. */
  schedule(intervalMs: number, type: PunctuationType, punctuator: Punctuator): Cancellable;
  /** The origin of the record being processed; undefined inside a punctuator. */
  recordMetadata(): RecordMetadata | undefined;
  /** The largest timestamp this task has seen (stream time), or -Infinity before the first record. */
  currentStreamTimeMs(): number;
  /** The wall clock (the TopologyTestDriver's simulated one in tests). */
  currentSystemTimeMs(): number;
}
