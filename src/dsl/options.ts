import { ConfigError } from '../errors/errors.js';
import { BufferConfig, StrictBufferConfig } from './buffer-config.js';
import type { Serde } from '../serdes/serde.js';
import type { VersionedBytesStoreSupplier } from '../stores/stores.js';
import type { StreamPartitioner } from '../processor/stream-partitioner.js';
import type { TimestampExtractor } from '../processor/timestamp-extractor.js';

export type { StreamPartitioner } from '../processor/stream-partitioner.js';
export type { TopicNameExtractor } from '../processor/topic-name-extractor.js';

/**
 * How a stream reads its source topic: serdes, the timestamp extractor that gives each record its event
 * time, and the source's name. A stream read without serdes reads raw Buffers (or the builder's default
 * serdes), and its type says so: type arguments come only with the serdes that make them true.
 */
export class Consumed<K, V> {
  private constructor(
    /** Reads the record keys; undefined: the builder's default, else raw Buffers. */
    readonly keySerde?: Serde<K>,
    /** Reads the record values; undefined: the builder's default, else raw Buffers. */
    readonly valueSerde?: Serde<V>,
    /** The source node's name; undefined: a generated `KSTREAM-SOURCE-…` name. */
    readonly processorName?: string,
    /** Gives each record its event time; undefined: the record's own timestamp. */
    readonly timestampExtractor?: TimestampExtractor<K, V>,
  ) {}
  /** Reads keys and values with these serdes, e.g. `Consumed.with(Serdes.String(), Serdes.Json<PageView>())`. */
  static with<K, V>(keySerde: Serde<K>, valueSerde: Serde<V>): Consumed<K, V> {
    return new Consumed(keySerde, valueSerde);
  }
  /** A named source without serdes: its records are typed `unknown` (raw Buffers unless the builder has defaults). */
  static as(processorName: string): Consumed<unknown, unknown> {
    return new Consumed<unknown, unknown>(undefined, undefined, processorName);
  }
  /** The same, with the source node named `processorName`. */
  withName(processorName: string): Consumed<K, V> {
    return new Consumed(this.keySerde, this.valueSerde, processorName, this.timestampExtractor);
  }
  /** Event time from the data (for example the time the web server reported a view), not the produce time. */
  withTimestampExtractor(extractor: TimestampExtractor<K, V>): Consumed<K, V> {
    return new Consumed(this.keySerde, this.valueSerde, this.processorName, extractor);
  }
}

/** How a stream writes to a topic. */
export class Produced<K, V> {
  private constructor(
    /** Writes the keys; undefined: the serde the stream's key type came with. */
    readonly keySerde?: Serde<K>,
    /** Writes the values; undefined: the serde the stream's value type came with. */
    readonly valueSerde?: Serde<V>,
    /** The sink node's name; undefined: a generated `KSTREAM-SINK-…` name. */
    readonly processorName?: string,
    /** Picks each record's partition; undefined: murmur2 of the serialized key, as Kafka's producer does. */
    readonly partitioner?: StreamPartitioner<K, V>,
  ) {}
  /** Writes keys and values with these serdes, e.g. `Produced.with(Serdes.String(), Serdes.Json<Stats>())`. */
  static with<K, V>(keySerde: Serde<K>, valueSerde: Serde<V>): Produced<K, V> {
    return new Produced(keySerde, valueSerde);
  }
  /** A named sink that writes with the stream's own serdes. */
  static as<K, V>(processorName: string): Produced<K, V> {
    return new Produced<K, V>(undefined, undefined, processorName);
  }
  /** The same, with the sink node named `processorName`. */
  withName(processorName: string): Produced<K, V> {
    return new Produced(this.keySerde, this.valueSerde, processorName, this.partitioner);
  }
  /** The same, choosing each record's partition with `partitioner` instead of hashing its key. */
  withStreamPartitioner(partitioner: StreamPartitioner<K, V>): Produced<K, V> {
    return new Produced(this.keySerde, this.valueSerde, this.processorName, partitioner);
  }
}

/** Serdes and name of a grouping; the name also names its repartition topic (`<app>-<name>-repartition`). */
export class Grouped<K, V> {
  private constructor(
    /** Writes and reads the keys in the repartition topic; undefined: the stream's key serde. */
    readonly keySerde?: Serde<K>,
    /** Writes and reads the values in the repartition topic; undefined: the stream's value serde. */
    readonly valueSerde?: Serde<V>,
    /** Names the grouping's repartition topic; undefined: a generated name. */
    readonly name?: string,
  ) {}
  /** Groups with these serdes for the repartition topic (needed after a key or value change without serdes). */
  static with<K, V>(keySerde: Serde<K>, valueSerde: Serde<V>): Grouped<K, V> {
    return new Grouped(keySerde, valueSerde);
  }
  /** A named grouping: its repartition topic is `<app>-<name>-repartition`, stable across topology changes. */
  static as<K, V>(name: string): Grouped<K, V> {
    return new Grouped<K, V>(undefined, undefined, name);
  }
  /** The same, named `name`. */
  withName(name: string): Grouped<K, V> {
    return new Grouped(this.keySerde, this.valueSerde, name);
  }
}

/** Explicit repartitioning: name, serdes and partition count of the repartition topic. */
export class Repartitioned<K, V> {
  private constructor(
    /** Writes and reads the keys of the repartition topic; undefined: the stream's key serde. */
    readonly keySerde?: Serde<K>,
    /** Writes and reads the values of the repartition topic; undefined: the stream's value serde. */
    readonly valueSerde?: Serde<V>,
    /** Names the repartition topic (`<app>-<name>-repartition`); undefined: a generated name. */
    readonly name?: string,
    /** The repartition topic's partition count; undefined: that of the sub-topology that writes it. */
    readonly numberOfPartitions?: number,
  ) {}
  /** Repartitions with these serdes. */
  static with<K, V>(keySerde: Serde<K>, valueSerde: Serde<V>): Repartitioned<K, V> {
    return new Repartitioned(keySerde, valueSerde);
  }
  /** A named repartition topic (`<app>-<name>-repartition`). */
  static as<K, V>(name: string): Repartitioned<K, V> {
    return new Repartitioned<K, V>(undefined, undefined, name);
  }
  /** The same, named `name`. */
  withName(name: string): Repartitioned<K, V> {
    return new Repartitioned(this.keySerde, this.valueSerde, name, this.numberOfPartitions);
  }
  /** The same, with `count` partitions (and so `count` tasks downstream). */
  withNumberOfPartitions(count: number): Repartitioned<K, V> {
    return new Repartitioned(this.keySerde, this.valueSerde, this.name, count);
  }
}

/**
 * How an aggregation keeps its state: the store's name (which also names its changelog topic
 * `<app>-<name>-changelog`), serdes, retention and whether changes are logged.
 */
export class Materialized<K, V> {
  private constructor(
    /** The store's name (queryable with `KafkaStreams.store`); undefined: a generated name. */
    readonly storeName?: string,
    /** Writes and reads the store's keys; undefined: the grouping's key serde. */
    readonly keySerde?: Serde<K>,
    /** Writes and reads the store's values; undefined: the aggregation's value serde, which it then needs. */
    readonly valueSerde?: Serde<V>,
    /** How long windows and sessions are kept; undefined: the window's size (or gap) plus grace. */
    readonly retentionMs?: number,
    /** False: no changelog topic (see `withLoggingDisabled`). */
    readonly loggingEnabled: boolean = true,
    /** Extra topic configs of the changelog. */
    readonly changelogConfig: Readonly<Record<string, string>> = {},
    /** Undefined: on (Kafka Streams' default for the DSL's stores). */
    readonly cachingEnabled?: boolean,
    /** A versioned store (`builder.table`, `toTable`, `filter`, `filterNot`, `mapValues`, `transformValues`): its history retention and segment interval. */
    readonly versioned?: VersionedBytesStoreSupplier,
  ) {}
  /**
   * A store named `storeName`; its changelog is `<app>-<storeName>-changelog`. E.g.
   * `Materialized.as<string, Stats>('session-stats').withValueSerde(statsSerde)`. Given a
   * `Stores.persistentVersionedKeyValueStore(...)`, a versioned store (for `builder.table`, `toTable`, and the results of `filter`, `filterNot`, `mapValues`, `transformValues`).
   */
  static as<K, V>(store: string | VersionedBytesStoreSupplier): Materialized<K, V> {
    if (typeof store === 'string') return new Materialized<K, V>(store);
    return new Materialized<K, V>(store.name, undefined, undefined, undefined, true, {}, false, store);
  }
  /** A store with a generated name and these serdes. */
  static with<K, V>(keySerde: Serde<K>, valueSerde: Serde<V>): Materialized<K, V> {
    return new Materialized<K, V>(undefined, keySerde, valueSerde);
  }
  private copy(changes: Partial<Materialized<K, V>>): Materialized<K, V> {
    const m = { ...this, ...changes };
    return new Materialized(m.storeName, m.keySerde, m.valueSerde, m.retentionMs, m.loggingEnabled, m.changelogConfig, m.cachingEnabled, m.versioned);
  }
  /** The same, with the store's keys written by `serde`. */
  withKeySerde(serde: Serde<K>): Materialized<K, V> {
    return this.copy({ keySerde: serde });
  }
  /** The same, with the store's values written by `serde`. */
  withValueSerde(serde: Serde<V>): Materialized<K, V> {
    return this.copy({ valueSerde: serde });
  }
  /** How long windows and sessions stay queryable; at least the window's size (or gap) plus grace. */
  withRetention(retentionMs: number): Materialized<K, V> {
    return this.copy({ retentionMs });
  }
  /** Extra topic configs for the changelog topic. */
  withLoggingEnabled(config: Record<string, string> = {}): Materialized<K, V> {
    return this.copy({ loggingEnabled: true, changelogConfig: { ...config } });
  }
  /** No changelog: the store cannot be restored after a crash or a move. */
  withLoggingDisabled(): Materialized<K, V> {
    return this.copy({ loggingEnabled: false, changelogConfig: {} });
  }
  /**
   * The default: results are forwarded when the store's cache flushes (each commit, or when the cache is
   * full), the latest per key, so a key updated many times between commits produces one output record.
   */
  withCachingEnabled(): Materialized<K, V> {
    return this.copy({ cachingEnabled: true });
  }
  /** Every update of a result is forwarded at once. */
  withCachingDisabled(): Materialized<K, V> {
    return this.copy({ cachingEnabled: false });
  }
}

/** A processor name chosen by the user instead of a generated one. */
export class Named {
  private constructor(
    /** The chosen name. */
    readonly name: string,
  ) {}
  /** Names an operator's processor `name` (stable names keep state across topology changes). */
  static as(name: string): Named {
    return new Named(name);
  }
}

/**
 * Suppression of a table's updates: final results of windows, or rate limiting of any table, in a buffer
 * bounded by a {@link BufferConfig} (unbounded unless one is given).
 */
export class Suppressed {
  private constructor(
    /** The kind of suppression: final results of windows, or a time limit per key. */
    readonly kind: 'untilWindowCloses' | 'untilTimeLimit',
    /** The buffer's bounds and what happens beyond them. */
    readonly bufferConfig: BufferConfig,
    /** The suppression processor's name; undefined: a generated one. */
    readonly name?: string,
    /** `untilTimeLimit`: how long a key's updates are held after its first. */
    readonly timeLimitMs?: number,
  ) {}
  /**
   * Emits exactly one final result per window once stream time passes its end plus grace, nothing before.
   * The buffer is unbounded, or bounded and stopping the application when full
   * (`BufferConfig.maxRecords(n).shutDownWhenFull()`): a final result is never emitted early.
   */
  static untilWindowCloses(bufferConfig: StrictBufferConfig = BufferConfig.unbounded()): Suppressed {
    if (!(bufferConfig instanceof StrictBufferConfig)) {
      throw new ConfigError(
        'Suppressed.untilWindowCloses takes a strict buffer (BufferConfig.unbounded() or ...shutDownWhenFull()): ' +
          'a final result emitted early would not be final',
      );
    }
    return new Suppressed('untilWindowCloses', bufferConfig);
  }
  /**
   * Holds each key's updates for `timeToWaitForMoreEventsMs` of stream time after the first, then emits the
   * latest (deletions too): at most one update per key and period. `bufferConfig` bounds the buffer
   * (default unbounded): `Suppressed.untilTimeLimit(60_000, BufferConfig.maxRecords(10_000))` emits the
   * oldest keys early when more than 10 000 wait.
   */
  static untilTimeLimit(timeToWaitForMoreEventsMs: number, bufferConfig: BufferConfig = BufferConfig.unbounded()): Suppressed {
    if (!Number.isFinite(timeToWaitForMoreEventsMs) || timeToWaitForMoreEventsMs < 0) {
      throw new ConfigError(`the time limit must be a finite number of ms >= 0, got ${timeToWaitForMoreEventsMs}`);
    }
    return new Suppressed('untilTimeLimit', bufferConfig, undefined, timeToWaitForMoreEventsMs);
  }
  /** The same, with the processor named `name` (and its buffer `<name>-store`). */
  withName(name: string): Suppressed {
    return new Suppressed(this.kind, this.bufferConfig, name, this.timeLimitMs);
  }
}

/** A branch of `split()`: its name, and optionally a function that continues it. */
export class Branched<K, V> {
  private constructor(
    /** The branch's name, which names its stream in the map `split()` returns. */
    readonly name?: string,
    /** Continues the branch's stream; what it returns (if anything) is the branch's entry in the map. */
    readonly chain?: (stream: import('./kstream.js').KStream<K, V>) => import('./kstream.js').KStream<K, V> | void,
  ) {}
  /** A branch named `name` whose stream is returned as is. */
  static as<K, V>(name: string): Branched<K, V> {
    return new Branched<K, V>(name);
  }
  /** A branch continued by `chain`, e.g. `Branched.withConsumer((s) => s.to('errors'), 'errors')`. */
  static withConsumer<K, V>(
    chain: (stream: import('./kstream.js').KStream<K, V>) => void,
    name?: string,
  ): Branched<K, V> {
    return new Branched<K, V>(name, chain);
  }
}

/**
 * Serdes and name of a stream-table join: the name names the join processor and, when the stream must be
 * repartitioned first (its key may have changed), the topic `<app>-<name>-repartition`; the serdes serve that
 * topic.
 */
export class Joined<K, V, VO> {
  private constructor(
    /** The key serde of the repartition topic and of the joined stream; defaults to the stream's, then the table's. */
    readonly keySerde?: Serde<K>,
    /** The stream's value serde, used by the repartition topic; defaults to the stream's. */
    readonly valueSerde?: Serde<V>,
    /** The table's value serde; accepted as Kafka Streams does, but the table's own serde is what reads it. */
    readonly otherValueSerde?: Serde<VO>,
    /** The join processor's name, also the base of its repartition topic's name. */
    readonly name?: string,
    /** Versioned tables only: how long stream records wait before they are joined (see withGracePeriod). */
    readonly gracePeriodMs?: number,
  ) {}
  /**
   * Serdes for the join (Kafka Streams' `Joined.with`): needed when the stream is repartitioned and its
   * serdes are not known (after `selectKey` or `map` without new serdes).
   *
   * @example
   * ```ts
   * orders.selectKey((_k, o) => o.userId).join(users, (order, user) => ({ order, user }), Joined.with(Serdes.String(), orderSerde, userSerde));
   * ```
   */
  static with<K, V, VO>(keySerde: Serde<K>, valueSerde: Serde<V>, otherValueSerde?: Serde<VO>): Joined<K, V, VO> {
    return new Joined(keySerde, valueSerde, otherValueSerde);
  }
  /** A join named `name`, serdes left to their defaults (Kafka Streams' `Joined.as`). */
  static as<K, V, VO>(name: string): Joined<K, V, VO> {
    return new Joined<K, V, VO>(undefined, undefined, undefined, name);
  }
  /** The same options with the join named `name`; keeps the serdes. */
  withName(name: string): Joined<K, V, VO> {
    return new Joined(this.keySerde, this.valueSerde, this.otherValueSerde, name, this.gracePeriodMs);
  }
  /**
   * A grace period for a join with a versioned table (Kafka Streams' `Joined.withGracePeriod`): each stream
   * record waits in a buffer (store `<name>-Buffer`, logged) until the stream time passes its timestamp +
   * `gracePeriodMs`, then is joined with the table as of its timestamp, so a table update that arrives a
   * little late still meets the stream records it is valid for. The stream's serdes must be known.
   */
  withGracePeriod(gracePeriodMs: number): Joined<K, V, VO> {
    if (!(gracePeriodMs >= 0)) throw new ConfigError(`Joined.withGracePeriod: the grace period must be >= 0 ms, got ${gracePeriodMs}`);
    return new Joined(this.keySerde, this.valueSerde, this.otherValueSerde, this.name, gracePeriodMs);
  }
}

/**
 * Serdes and names of a stream-stream join: `name` names its processors (and repartition topics
 * `<name>-left-repartition` / `<name>-right-repartition`), `storeName` its stores; the serdes serve its window
 * stores and repartition topics (Kafka Streams' StreamJoined).
 */
export class StreamJoined<K, V, VO> {
  private constructor(
    /** The key serde of both window stores and repartition topics; defaults to this stream's, then the other's. */
    readonly keySerde?: Serde<K>,
    /** This (left) stream's value serde, for its window store and repartition topic. */
    readonly valueSerde?: Serde<V>,
    /** The other (right) stream's value serde, for its window store and repartition topic. */
    readonly otherValueSerde?: Serde<VO>,
    /** The base name of the join's processors and repartition topics. */
    readonly name?: string,
    /** The base name of the join's two window stores (and so of their changelogs). */
    readonly storeName?: string,
    /** Whether the join's stores have changelog topics (true unless {@link StreamJoined.withLoggingDisabled}). */
    readonly loggingEnabled: boolean = true,
  ) {}
  /**
   * Serdes for both sides' window stores and repartition topics (Kafka Streams' `StreamJoined.with`).
   *
   * @example
   * ```ts
   * views.join(clicks, (view, click) => `${view}/${click}`, JoinWindows.ofTimeDifferenceAndGrace(60_000, 10_000),
   *   StreamJoined.with(Serdes.String(), Serdes.String(), Serdes.String()));
   * ```
   */
  static with<K, V, VO>(keySerde: Serde<K>, valueSerde: Serde<V>, otherValueSerde: Serde<VO>): StreamJoined<K, V, VO> {
    return new StreamJoined(keySerde, valueSerde, otherValueSerde);
  }
  /** Stores named after `storeName`, serdes left to their defaults (Kafka Streams' `StreamJoined.as`). */
  static as<K, V, VO>(storeName: string): StreamJoined<K, V, VO> {
    return new StreamJoined<K, V, VO>(undefined, undefined, undefined, undefined, storeName);
  }
  /** The same options with processors and repartition topics named after `name`. */
  withName(name: string): StreamJoined<K, V, VO> {
    return new StreamJoined(this.keySerde, this.valueSerde, this.otherValueSerde, name, this.storeName, this.loggingEnabled);
  }
  /** The same options with the window stores (and their changelogs) named after `storeName`. */
  withStoreName(storeName: string): StreamJoined<K, V, VO> {
    return new StreamJoined(this.keySerde, this.valueSerde, this.otherValueSerde, this.name, storeName, this.loggingEnabled);
  }
  /** No changelogs for the join's stores: they cannot be restored after a crash or a move. */
  withLoggingDisabled(): StreamJoined<K, V, VO> {
    return new StreamJoined(this.keySerde, this.valueSerde, this.otherValueSerde, this.name, this.storeName, false);
  }
}
