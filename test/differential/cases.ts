/**
 * The shape of a differential case and of its canonical output, shared by the generator, both runners and
 * the comparison. A case is plain JSON: the Java runner (java/src/main/java/differential/DifferentialRunner.java)
 * reads the same objects, one per line.
 */

export type ValueType = 'string' | 'long';
export type Value = string | number;
export type Op = 'count' | 'reduce' | 'aggregate';

export type WindowSpec =
  | { readonly type: 'none' }
  | { readonly type: 'session'; readonly gap: number; readonly grace: number; readonly noGrace: boolean }
  | {
      /** `sliding`: SlidingWindows with time difference `size` (and `advance` = `size`). */
      readonly type: 'tumbling' | 'hopping' | 'sliding';
      readonly size: number;
      readonly advance: number;
      readonly grace: number;
      readonly noGrace: boolean;
    };

/**
 * The record cache of the aggregation's store:
 * - `off`: `statestore.cache.max.bytes` = 0 (ours: `cacheMaxBytes: 0`);
 * - `on`: a 10 MiB cache (Kafka Streams' default), caching left at the store's default (enabled);
 * - `store-off` / `store-on`: a 10 MiB cache and `Materialized.withCachingDisabled()` / `withCachingEnabled()`.
 */
export type Caching = 'off' | 'on' | 'store-off' | 'store-on';
export const CACHING_MODES: readonly Caching[] = ['off', 'on', 'store-off', 'store-on'];

export interface InputRecord {
  readonly key: string | null;
  readonly value: Value | null;
  readonly ts: number;
  /** The topic it is piped to; default `in` (table and join cases also read `tbl`). */
  readonly topic?: string;
}

/** An operator of a table case, run on the table read from `in`, in order. */
export type TableOp = 'filter' | 'filterNot' | 'mapValues' | 'transformValues';

/**
 * `stream-stream-join` cases: the stream `in` joined (inner, left or outer) with the stream `tbl` inside
 * `JoinWindows.ofTimeDifferenceAndGrace(timeDifference, grace)`, joiner `v1 + "/" + v2`. `tick`: the
 * drivers' wall clock advances 1 s before each record, so that the throttled emit pass of left/outer
 * results without partner runs at every record (without it, it runs once per driver).
 */
export interface StreamJoinCaseSpec {
  readonly kind: 'inner' | 'left' | 'outer';
  readonly timeDifference: number;
  readonly grace: number;
  readonly tick: boolean;
  /** The stream `in` is re-keyed first (`selectKey` to the lower-case key), so it is repartitioned. */
  readonly rekey?: boolean;
}

/**
 * The table side of `table` and `stream-table-join` cases:
 * - `materialized`: the source table is `Materialized.as('store')` (its caching switches apply to it);
 *   otherwise it is given no Materialized and is materialized only when a join needs it;
 * - `ops`: `filter(v not the marker)`, `filterNot(key is 'b')`, `mapValues` (strings + "!", longs * 2);
 * - `join`: the stream `in` joined (inner) or left-joined with the table `tbl`, joiner `v1 + "/" + v2`;
 *   (`table-table-join` cases: the table `in`, with the operators, joined, left- or outer-joined with the
 *   table `tbl`, which is given no Materialized);
 * - `rekey`: the stream is re-keyed first (`selectKey` to the lower-case key), so it is repartitioned.
 *
 * `table-fk-join` cases: the table `in`, with the operators, joined (inner or left) on the foreign key
 * `foreignKeyOf(value)` with the table `tbl` (given no Materialized); `storedJoin` as for table-table joins.
 */
export interface TableSpec {
  readonly materialized: boolean;
  readonly ops: readonly TableOp[];
  /** Each operator is given `Materialized.as('op<i>')` (with the case's caching switch): its results are stored. */
  readonly storedOps?: boolean;
  /** The table is `stream(topic).toTable(...)` instead of `table(topic, ...)`. */
  readonly fromStream?: boolean;
  /**
   * The table is an aggregation, `stream(topic).groupByKey().reduce(reduce, Materialized.with(...))` with the
   * case's caching switch: its changes (with old values where asked) feed the operators.
   */
  readonly fromAggregate?: boolean;
  /** After the operators: `suppress(Suppressed.untilTimeLimit(ofMillis(n), unbounded()))`. */
  readonly suppressLimit?: number;
  /** Foreign-key joins: the operators of the right table `tbl` (never stored). */
  readonly otherOps?: readonly TableOp[];
  /** Table-table joins: the result is `Materialized.as('joined')` (String values, the case's caching switch). */
  readonly storedJoin?: boolean;
  readonly join?: 'inner' | 'left' | 'outer';
  readonly rekey?: boolean;
  /**
   * `stream-globaltable-join` cases: `tbl` is read as a GlobalKTable (`Materialized.as('store')` when
   * `materialized`; no operators), and the stream `in` looks up the key `globalKey(selector, key)`.
   */
  readonly selector?: GlobalKeySelector;
  /**
   * `table-groupby` cases: `groupBy((k, v) -> (group(v), v))` then count, reduce (adder `reduce`,
   * subtractor `subtract`) or aggregate (`init`, the same adder and subtractor), with the case's caching.
   */
  readonly groupBy?: Op;
  /**
   * `versioned-*` cases: the table is `Materialized.as(Stores.persistentVersionedKeyValueStore("store",
   * historyRetentionMs))` (never cached); a stream-table join gets `Joined.withGracePeriod(graceMs)` when given.
   */
  readonly versioned?: {
    readonly historyRetentionMs: number;
    readonly graceMs?: number;
    /**
     * `versioned-*-ops` cases with `storedOps`: each operator's results are
     * `Materialized.as(Stores.persistentVersionedKeyValueStore("op<i>", opsRetentionMs))` instead of a
     * timestamped store (unset: `Materialized.as("op<i>")` with the case's caching switch).
     */
    readonly opsRetentionMs?: number;
  };
  /**
   * Foreign-key joins given a `TableJoined` (`table-fk-*-tablejoined`): `TableJoined.as(name)` when `name`,
   * else `TableJoined.with(partitioner, otherPartitioner)` (then `.withName(name)` when both). Partitioners
   * `zero` place every key in partition 0, `default` are null (the default partitioner): with one partition
   * neither changes the output, the name changes the processors', topics' and stores' names.
   */
  readonly tableJoined?: { readonly name?: string; readonly partitioners?: 'zero' | 'default' };
}

/**
 * `global-store` cases: `builder.addGlobalStore(Stores.keyValueStoreBuilder(<store>("global"), String, V)
 * .withLoggingDisabled(), "tbl", Consumed.with(String, V)[.withName("global-updater")], processor)`, whose
 * processor keeps `globalStored(old, value, timestamp, offset)` per key (a null key kept under `none`, a null
 * value deletes), and the stream `in` processed (`process`) by a processor that reads the store and forwards
 * `globalStoreView(...)` with the record's key and timestamp:
 * - `get`: the value under its key and under the lower-cased key;
 * - `foreignKey`: the value under its key and under `foreignKey(value)`;
 * - `scan`: every entry (`all()`), in key order.
 * The store's caching switch is the case's (`store-on`: `withCachingEnabled()`; otherwise Stores' default,
 * off); it forwards nothing, so a cache in front of it changes nothing that can be seen.
 */
export interface GlobalStoreCaseSpec {
  readonly read: 'get' | 'foreignKey' | 'scan';
  /** `Stores.inMemoryKeyValueStore` (ours `persistent: false`) instead of `persistentKeyValueStore`. */
  readonly inMemory: boolean;
  /** `Consumed.withName("global-updater")`: the source and the processor named after it. */
  readonly named: boolean;
  /**
   * The global store is added before the stream (otherwise after it). Only the witness of
   * `global-store-numbered-after-stream-subtopologies` (known-differences.ts) sets it.
   */
  readonly globalFirst?: boolean;
}

/**
 * `versioned-store` cases: `Stores.persistentVersionedKeyValueStore("store", historyRetentionMs[,
 * segmentIntervalMs])` (Kafka Streams' default segment interval when none is given) added to a processor of
 * the stream `in` (String keys and values). Each record is one operation on the record's key, at the record's
 * timestamp: `put:<value>`, `put-null`, `delete`, `get`, `get:<asOfTimestamp>`.
 * The processor forwards the answer (same key and timestamp) to `out`.
 */
export interface VersionedStoreSpec {
  readonly historyRetentionMs: number;
  readonly segmentIntervalMs?: number;
}

/**
 * How the answer of a versioned-store operation prints, the same in DifferentialRunner.java: a put's validTo
 * as `put:<validTo>` (`put:undefined` for PUT_RETURN_CODE_VALID_TO_UNDEFINED, `put:not-put` for
 * PUT_RETURN_CODE_NOT_PUT), a record as `<value>@<timestamp>` or `<value>@<timestamp>-<validTo>`, no record as
 * `null`.
 */
export function versionedRecordText(record: { value: string; timestamp: number; validTo?: number } | undefined): string {
  if (record === undefined) return 'null';
  return record.validTo === undefined ? `${record.value}@${record.timestamp}` : `${record.value}@${record.timestamp}-${record.validTo}`;
}

export interface BufferBound {
  readonly maxRecords?: number;
  readonly maxBytes?: number;
  readonly whenFull: 'emitEarly' | 'shutDown';
}

export interface DifferentialCase {
  /** `<seed>:<index>`: replay with `npx tsx test/differential/replay.ts --seed <seed> --case <index>`. */
  readonly id: string;
  readonly seed: number;
  readonly index: number;
  /** What the case is built to exercise, e.g. `session-reduce-nullvalues` (see generator.ts). */
  readonly family: string;
  /**
   * `aggregate`: in → [filter] → groupByKey → [windowedBy] → count/reduce/aggregate → [suppress] → out.
   * `passthrough`: `stream('in').to('out')` with no serdes given (default serdes).
   */
  readonly topology:
    | 'aggregate'
    | 'passthrough'
    | 'table'
    | 'stream-table-join'
    | 'stream-globaltable-join'
    | 'table-groupby'
    | 'table-table-join'
    | 'table-fk-join'
    | 'stream-stream-join'
    /**
     * `in` and `tbl` grouped by key and cogrouped: `in` aggregated with `aggregate`, `tbl` with `merge`
     * (ValueOps), from `init`, Materialized with the case's caching; `rekey`: `in` re-keyed (lower case) first.
     */
    | 'cogroup'
    /** See GlobalStoreCaseSpec. */
    | 'global-store'
    /**
     * `versioned-store-ops`: the Processor API on a versioned store alone (VersionedStoreSpec): each record of
     * `in` is one operation on it, and each answer is forwarded to `out`.
     */
    | 'versioned-store';
  /** Global-store cases: see GlobalStoreCaseSpec. */
  readonly globalStore?: GlobalStoreCaseSpec;
  /** Versioned-store cases: see VersionedStoreSpec. */
  readonly versionedStore?: VersionedStoreSpec;
  /** Cogroup cases: `in` is re-keyed first, so it is repartitioned. */
  readonly cogroupRekey?: boolean;
  /** Stream-stream join cases: see StreamJoinCaseSpec. */
  readonly streamJoin?: StreamJoinCaseSpec;
  /** Table and join cases: see TableSpec. */
  readonly table?: TableSpec;
  readonly valueType: ValueType;
  readonly op: Op;
  readonly window: WindowSpec;
  /** `suppress(Suppressed.untilWindowCloses(unbounded()))` after a windowed aggregation. */
  readonly suppress: boolean;
  /**
   * The suppression's buffer (windowed `suppress` or a table's `suppressLimit`) is bounded instead of
   * unbounded: `BufferConfig.unbounded()` `.withMaxRecords(n)` / `.withMaxBytes(n)`, then
   * `.emitEarlyWhenFull()` for `emitEarly` (time limits only; final results take `shutDown`).
   */
  readonly bufferBound?: BufferBound;
  /**
   * Stream-table and stream-stream joins: the joiner is `joinValuesWithKey` given as a ValueJoinerWithKey
   * (Java) / `valueJoinerWithKey(...)` (ours), the key first.
   */
  readonly joinerWithKey?: boolean;
  /** Windowed aggregations (session, time, sliding): `emitStrategy(EmitStrategy.onWindowClose())`. */
  readonly onWindowClose?: boolean;
  /** A `filter` before the grouping that drops the records whose value is the marker (see valueOps). */
  readonly filter: boolean;
  readonly caching: Caching;
  /**
   * Timestamps from the data: a `Consumed` timestamp extractor that takes each record's event time from its
   * (long) value, and the record's own timestamp (the produce time) when the value is null.
   */
  readonly extractor: boolean;
  readonly records: readonly InputRecord[];
}

/** One output record; a windowed key prints as `key@start-end`. */
export interface OutputRecord {
  readonly key: string | null;
  readonly value: Value | null;
  readonly ts: number;
}

export type CaseOutcome =
  /**
   * `description`: `topology.describe().toString()`, compared as well: the same processor, store and internal
   * topic names, sub-topologies, in the same order (ours as ours.ts' describedAsKafkaStreams prints it).
   */
  | { readonly kind: 'records'; readonly records: readonly OutputRecord[]; readonly description?: string }
  /** The run threw; both sides throwing counts as agreement, whatever the messages. */
  | { readonly kind: 'error'; readonly message: string }
  /** Our API lacks an option the case needs (e.g. Materialized.withCachingDisabled()). */
  | { readonly kind: 'unsupported'; readonly reason: string };

/**
 * The functions a case aggregates with, per value type: deterministic, total on null, and written the same
 * way in DifferentialRunner.java (`STRINGS` and `LONGS`). Concatenations keep the order of arguments visible;
 * `null` prints as "null" in both languages' string concatenation.
 */
export interface ValueOps<V extends Value> {
  init(): V;
  aggregate(agg: V | null, value: V | null): V;
  merge(left: V | null, right: V | null): V;
  reduce(left: V | null, right: V | null): V;
  /** The marker a `filter` case drops. */
  dropped(value: V | null): boolean;
  /** A table case's `mapValues`. */
  mapped(value: V): V;
  /** A table case's `transformValues` (a ValueTransformerWithKey; null stays null). */
  transformed(key: string, value: V): V;
  /** A table groupBy's subtractor. */
  subtract(agg: V, value: V): V;
  /** A table groupBy's new key; null for some values (skipped). */
  group(value: V): string | null;
  /** A foreign-key join's foreign key (a key of `tbl`, a to c); null for some values. */
  foreignKey(value: V): string | null;
  /**
   * What a global-store case's processor keeps for a key (GlobalStoreCaseSpec): the value joined to what was
   * there, with the record's timestamp and offset (so that both drivers must hand the processor the same ones).
   */
  globalStored(old: V | null, value: V, timestamp: number, offset: number): V;
}

const nz = (value: number | null, otherwise: number): number => (value === null ? otherwise : value);

export const STRING_OPS: ValueOps<string> = {
  init: () => '',
  aggregate: (agg, value) => `${agg}|${value}`,
  merge: (left, right) => `${left}&${right}`,
  reduce: (left, right) => `${left}+${right}`,
  dropped: (value) => value === 'X',
  mapped: (value) => `${value}!`,
  transformed: (key, value) => `${value}~${key}`,
  subtract: (agg, value) => `${agg}-${value}`,
  group: (value) => (value === 'e' ? null : value === 'a' || value === 'b' ? 'g1' : 'g2'),
  foreignKey: (value) => (value.startsWith('e') ? null : value.startsWith('d') ? 'a' : value.substring(0, 1)),
  globalStored: (old, value, timestamp, offset) => `${old === null ? '' : `${old}+`}${value}@${timestamp}#${offset}`,
};

export const LONG_OPS: ValueOps<number> = {
  init: () => 0,
  aggregate: (agg, value) => nz(agg, 0) + nz(value, 100),
  merge: (left, right) => nz(left, 0) + nz(right, 0),
  reduce: (left, right) => nz(left, 0) + nz(right, 100),
  dropped: (value) => value !== null && value < 0,
  mapped: (value) => value * 2,
  transformed: (key, value) => value * 3 + key.length,
  subtract: (agg, value) => agg - value,
  group: (value) => (value === 9 ? null : `g${value % 3}`),
  foreignKey: (value) => [`a`, `b`, `c`, null][((value % 4) + 4) % 4]!,
  globalStored: (old, value, timestamp, offset) => nz(old, 0) + value * 10 + timestamp * 100 + offset,
};

/** The joiner of join cases, the same in DifferentialRunner.java: a null prints as "null" in both languages. */
export const joinValues = (left: Value | null, right: Value | null): string => `${left}/${right}`;

/**
 * The key selectors of global-table join cases, the same in DifferentialRunner.java: both lower-case the key
 * (stream keys come in upper case too) and map one key to null; `nullToA` also maps the null key to `a`.
 */
export type GlobalKeySelector = 'lower' | 'nullToA';
export function globalKey(selector: GlobalKeySelector, key: string | null): string | null {
  if (key === null) return selector === 'nullToA' ? 'a' : null;
  if (key === (selector === 'nullToA' ? 'c' : 'C')) return null;
  return key.toLowerCase();
}

/** The joiner of global-table join cases (ValueJoinerWithKey): the stream's key first. */
export const joinValuesWithKey = (key: string | null, left: Value | null, right: Value | null): string => `${key}:${left}/${right}`;

/** The key under which a global-store case's processor keeps a record of `tbl`: a null key under `none`. */
export const globalStoreKey = (key: string | null): string => key ?? 'none';

/**
 * The second key the stream's processor of a global-store case reads (`get`: lower case; `foreignKey`: the
 * value's foreign key); null: none is read. The first is `globalStoreKey(key)`.
 */
export function globalStoreRemapped<V extends Value>(read: 'get' | 'foreignKey', ops: ValueOps<V>, key: string | null, value: V | null): string | null {
  if (read === 'get') return key === null ? null : key.toLowerCase();
  return value === null ? null : ops.foreignKey(value);
}

/**
 * The value the stream's processor of a global-store case forwards, the same in DifferentialRunner.java:
 * its own value, then what it read (`null` where the store has nothing; `-` where nothing was read), or for
 * `scan` every entry as `key=value`.
 */
export function globalStoreView(value: Value | null, reads: readonly (Value | null)[]): string {
  return `${value}>${reads.map((r) => `${r}`).join('/')}`;
}

/** The `selectKey` of re-keyed join cases. */
export const rekeyed = (key: string | null): string | null => (key === null ? null : key.toLowerCase());

/** A case in one line, for failure messages. */
export function describeCase(c: DifferentialCase): string {
  const w = c.window;
  const window =
    w.type === 'none'
      ? 'no window'
      : w.type === 'session'
        ? `session gap ${w.gap} ${w.noGrace ? 'NoGrace' : `grace ${w.grace}`}`
        : `${w.type} size ${w.size}${w.type === 'hopping' ? ` advance ${w.advance}` : ''} ${w.noGrace ? 'NoGrace' : `grace ${w.grace}`}`;
  if (c.topology === 'passthrough') return `stream('in').to('out'), default serdes, caching ${c.caching}`;
  if (c.globalStore !== undefined) {
    const g = c.globalStore;
    const store = `${g.inMemory ? 'inMemory' : 'persistent'}KeyValueStore('global')`;
    return `addGlobalStore(${store}, 'tbl'${g.named ? ", withName('global-updater')" : ''}, put/delete); stream('in').process(read ${g.read}) of ${c.valueType}s, caching ${c.caching}`;
  }
  if (c.streamJoin !== undefined) {
    const j = c.streamJoin;
    const method = j.kind === 'inner' ? 'join' : `${j.kind}Join`;
    return `stream('in')${j.rekey === true ? '.selectKey(lower case)' : ''}.${method}(stream('tbl'), ofTimeDifferenceAndGrace(${j.timeDifference}, ${j.grace}))${j.tick ? ', wall clock +1 s per record' : ''} of ${c.valueType}s`;
  }
  if (c.table !== undefined) {
    const t = c.table;
    const topic = `'${c.topology === 'stream-table-join' ? 'tbl' : 'in'}'`;
    const store = t.materialized ? "Materialized.as('store')" : '';
    const source =
      t.fromAggregate === true
        ? `stream(${topic}).groupByKey().reduce()`
        : t.fromStream === true
          ? `stream(${topic}).toTable(${store})`
          : `table(${topic}${store === '' ? '' : `, ${store}`})`;
    const suppressed = t.suppressLimit === undefined ? '' : `.suppress(untilTimeLimit(${t.suppressLimit}))`;
    const tableJoined =
      t.tableJoined === undefined
        ? ''
        : `, TableJoined.${t.tableJoined.partitioners === undefined ? `as('${t.tableJoined.name}')` : `with(${t.tableJoined.partitioners}, ${t.tableJoined.partitioners})${t.tableJoined.name === undefined ? '' : `.withName('${t.tableJoined.name}')`}`}`;
    const table = `${source}${t.ops.map((op, i) => `.${op}(${t.storedOps === true ? `Materialized.as('op${i}')` : ''})`).join('')}${suppressed}`;
    if (c.topology === 'stream-globaltable-join') {
      const method = t.join === 'left' ? 'leftJoin' : 'join';
      return `stream('in').${method}(globalTable('tbl'${store === '' ? '' : `, ${store}`}), ${t.selector}) of ${c.valueType}s, caching ${c.caching}`;
    }
    const what =
      c.topology === 'table'
        ? `${table}.toStream()`
        : c.topology === 'table-groupby'
          ? `${table}.groupBy(group).${t.groupBy}()`
          : c.topology === 'table-table-join'
            ? `${table}.${t.join === 'inner' ? 'join' : `${t.join}Join`}(table('tbl')${t.storedJoin === true ? ", Materialized.as('joined')" : ''}).toStream()`
          : c.topology === 'table-fk-join'
            ? `${table}.${t.join === 'inner' ? 'join' : `${t.join}Join`}(table('tbl')${(t.otherOps ?? []).map((op) => `.${op}()`).join('')}, foreignKey${tableJoined}${t.storedJoin === true ? ", Materialized.as('joined')" : ''}).toStream()`
        : `stream('in')${t.rekey === true ? '.selectKey(lower case)' : ''}.${t.join === 'left' ? 'leftJoin' : 'join'}(${table})`;
    return `${what} of ${c.valueType}s, caching ${c.caching}`;
  }
  return [
    `${c.op} of ${c.valueType}s`,
    window,
    c.filter ? 'filter before' : '',
    c.suppress ? 'suppress(untilWindowCloses)' : '',
    c.onWindowClose === true ? 'emitStrategy(onWindowClose)' : '',
    c.extractor ? 'event time = value (timestamp extractor)' : '',
    `caching ${c.caching}`,
  ]
    .filter((s) => s !== '')
    .join(', ');
}

export function formatRecord(r: InputRecord | OutputRecord): string {
  const value = r.value === null ? 'null' : typeof r.value === 'string' ? JSON.stringify(r.value) : String(r.value);
  const topic = 'topic' in r && r.topic !== undefined && r.topic !== 'in' ? `${r.topic}:` : '';
  return `${topic}${r.key === null ? 'null' : r.key}=${value}@${r.ts}`;
}

export function formatOutcome(outcome: CaseOutcome): string {
  switch (outcome.kind) {
    case 'records':
      return outcome.records.length === 0 ? '(no records)' : outcome.records.map(formatRecord).join(', ');
    case 'error':
      return `error: ${outcome.message}`;
    case 'unsupported':
      return `unsupported by ours: ${outcome.reason}`;
  }
}
