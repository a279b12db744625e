/**
 * Errors the library raises. Each carries what a reader needs to act: which record, which topic, which store,
 * and what to change.
 */

/** Base class: every error of this library is a `StreamsError`. */
export class StreamsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A topology that cannot run as declared; raised by `build()` with what to change. */
export class TopologyError extends StreamsError {}

/** A configuration value that is missing or wrong. */
export class ConfigError extends StreamsError {}

/** Where a record came from, for error messages and dead-letter headers. */
export interface RecordOrigin {
  /** The topic the record was read from. */
  readonly topic: string;
  /** Its partition. */
  readonly partition: number;
  /** Its offset (a decimal string, as kafkajs gives it). */
  readonly offset: string;
}

/** A key or value that its serde could not decode. */
export class DeserializationError extends StreamsError {
  /** The message without the advice on routing such records elsewhere (for logs of records already routed). */
  readonly problem: string;

  constructor(
    /** Where the record was read. */
    readonly origin: RecordOrigin,
    /** Which part failed. */
    readonly part: 'key' | 'value',
    /** The serde that failed, e.g. `Avro<example.PageView>`. */
    readonly serdeName: string,
    cause: unknown,
  ) {
    const problem =
      `Could not deserialize the ${part} of the record at ${origin.topic}-${origin.partition}@${origin.offset} ` +
      `with the ${serdeName} serde: ${cause instanceof Error ? cause.message : String(cause)}`;
    super(`${problem}. To go on past such records, set deserializationExceptionHandler: 'logAndContinue' or a dead-letter topic to route such records elsewhere`, {
      cause,
    });
    this.problem = problem;
  }
}

/** A user function (predicate, mapper, aggregator, processor) threw while processing a record. */
export class ProcessingError extends StreamsError {
  constructor(
    /** Where the record being processed was read (undefined in a punctuation). */
    readonly origin: RecordOrigin | undefined,
    /** The processor whose function threw. */
    readonly processorName: string,
    cause: unknown,
    /** Where a record read from a repartition topic entered the application (`topic-partition@offset`). */
    readonly inputOrigin?: string,
  ) {
    const from = inputOrigin === undefined ? '' : ` (from the input record at ${inputOrigin})`;
    const where = origin === undefined ? '' : ` on the record at ${origin.topic}-${origin.partition}@${origin.offset}${from}`;
    super(
      `Processor ${processorName} failed${where}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

/** A state store could not be opened, read, written or restored. */
export class StateStoreError extends StreamsError {}

/**
 * A suppression buffer configured to shut down when full (`BufferConfig...shutDownWhenFull()`) passed a
 * limit (Kafka Streams' StreamsException "buffer exceeded its max capacity"). A store error, so fatal
 * whatever the processing exception handler says: the record that overfilled it is not skipped.
 */
export class SuppressionBufferFullError extends StateStoreError {}

/** The runtime hit a Kafka problem it cannot work around (missing topic, wrong partition count, fencing). */
export class StreamsRuntimeError extends StreamsError {}

/** A store holds values written with a schema the current schema cannot read. */
export class SchemaEvolutionError extends StreamsError {
  constructor(
    /** The store. */
    readonly storeName: string,
    /** The schema its values were written with. */
    readonly writerSchema: string,
    /** The application's schema now. */
    readonly readerSchema: string,
    /** Why the reader cannot read the writer's values. */
    readonly incompatibility: string,
  ) {
    super(
      `Store '${storeName}' holds values written with schema ${writerSchema}, which the application's current ` +
        `schema ${readerSchema} cannot read: ${incompatibility}. Make the change compatible (add fields with ` +
        `defaults, remove fields, or widen types int->long->float->double), or rewind the application with ` +
        `'kstreams reset' so its state is rebuilt from the input. Nothing was changed.`,
    );
  }
}

/** An output record could not be produced (serialization, size); see `productionExceptionHandler`. */
export class ProductionError extends StreamsError {}

/**
 * A store whose files are missing or fail their checks (no CURRENT, a checksum mismatch, a truncated table).
 * Its data cannot be trusted: the task wipes it and restores it from its changelog.
 */
export class DamagedStoreError extends StateStoreError {
  constructor(
    /** The store's folder. */
    readonly path: string,
    /** What is wrong with its files. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`The store at ${path} is damaged: ${reason}`, options);
  }
}
