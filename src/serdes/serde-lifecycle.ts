import type { Serde } from './serde.js';

/** The raw key and value of one fetched record, as {@link SerdeLifecycle.prefetch} reads them. */
export interface RawRecord {
  /** The key's bytes; null for a null key. */
  readonly key: Buffer | null;
  /** The value's bytes; null for a tombstone. */
  readonly value: Buffer | null;
}

/** Where a serde is used: every topic whose records it writes or reads (sources, sinks, store changelogs). */
export interface SerdeUsage {
  /** The topics, by full name (internal topics with the application id prefix). */
  readonly topics: readonly string[];
  /**
   * Those of `topics` the application owns (its repartition topics and store changelogs): no other
   * application writes their registry subjects, so a registry serde registers its schema there even when
   * it does not auto-register elsewhere.
   */
  readonly internalTopics?: readonly string[];
  /**
   * Those of `topics` the serde writes to (sinks, repartition topics, changelogs); the others it only reads,
   * so it needs no writer schema id there. Undefined: it writes to all of them.
   */
  readonly writtenTopics?: readonly string[];
}

/**
 * The asynchronous side of a serde whose bytes depend on a remote service (a schema registry).
 * `serialize` and `deserialize` stay synchronous (they run on the hot path); what needs the network happens
 * here, at two moments the runtime awaits:
 *
 * - `initialize` once, before the first record (`KafkaStreams.start()` awaits it for every serde of the
 *   topology; with the TopologyTestDriver call {@link initializeSerdes} yourself). It may be called again
 *   with more topics; each call adds to what the serde knows.
 * - `prefetch` with each fetched batch of an input topic, before its records are queued. It returns
 *   `undefined` when it has nothing to fetch (the common case: no promise is made), and never rejects:
 *   what it could not fetch makes `deserialize` throw for the records concerned, which the
 *   deserialization exception handler then sees.
 */
export interface SerdeLifecycle {
  /** Prepares the serde for `usage` (its topics); rejects when it cannot (the registry is away, a subject is missing). */
  initialize(usage?: SerdeUsage): Promise<void>;
  /** Prepares the serde for the `part` of these fetched records; undefined when there is nothing to do. */
  prefetch?(records: readonly RawRecord[], part: 'key' | 'value'): Promise<void> | undefined;
}

/** True for a serde with an asynchronous lifecycle. */
export function hasLifecycle<T>(serde: Serde<T>): serde is Serde<T> & SerdeLifecycle {
  return typeof (serde as Partial<SerdeLifecycle>).initialize === 'function';
}

/**
 * The serdes with a lifecycle inside `serde`: itself, or those it wraps (windowed and change serdes keep
 * the serde they wrap as `inner`).
 */
export function lifecycleSerdesIn(serde: Serde<unknown> | undefined, out: Set<Serde<unknown> & SerdeLifecycle>): void {
  for (let s = serde, depth = 0; s !== undefined && depth < 4; s = (s as { inner?: Serde<unknown> }).inner, depth++) {
    if (hasLifecycle(s)) out.add(s);
  }
}
