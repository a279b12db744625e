import type { RecordMetadata, StreamRecord } from './record.js';

/**
 * The low-level Processor API, for what the DSL cannot say. A processor instance belongs to one task and is
 * called from one thread of control at a time: `init` once, then `process` for each record in offset order
 * (and punctuators in between), then `close` once. All three are synchronous.
 */
export interface Processor<KIn, VIn, KOut = never, VOut = never> {
  init?(context: ProcessorContext<KOut, VOut>): void;
  process(record: StreamRecord<KIn, VIn>): void;
  close?(): void;
}

/** Creates a fresh processor for each task; never return a shared instance. */
export type ProcessorSupplier<KIn, VIn, KOut = never, VOut = never> = () => Processor<KIn, VIn, KOut, VOut>;

/** When a punctuator fires: on stream time (driven by record timestamps) or on the wall clock. */
export type PunctuationType = 'STREAM_TIME' | 'WALL_CLOCK_TIME';

export type Punctuator = (timestamp: number) => void;

export interface Cancellable {
  cancel(): void;
}

/** What a processor may do beyond returning: forward records, use stores, schedule punctuations. */
export interface ProcessorContext<KOut, VOut> {
  readonly applicationId: string;
  /** `<subtopology>_<partition>`, for example `1_3`. */
  readonly taskId: string;
  /** Forwards to all children, or to the named child only. */
  forward(record: StreamRecord<KOut, VOut>, childName?: string): void;
  /** A store connected to this processor; throws if it is not connected. */
  getStateStore<S>(name: string): S;
  schedule(intervalMs: number, type: PunctuationType, punctuator: Punctuator): Cancellable;
  /** The origin of the record being processed; undefined inside a punctuator. */
  recordMetadata(): RecordMetadata | undefined;
  /** The largest timestamp this task has seen (stream time), or -Infinity before the first record. */
  currentStreamTimeMs(): number;
  currentSystemTimeMs(): number;
}
