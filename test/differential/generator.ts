/**
 * Seeded generation of differential cases. Case `index` of seed `seed` depends on those two numbers only
 * (not on how many cases are generated), so `replay.ts --seed S --case K` rebuilds exactly the case a run
 * reported.
 *
 * Cases are spread round-robin over families, `<window>-<op>-<scenario>`, each built to exercise one thing:
 * - window: `session` (grace > 0), `session0` (grace 0, half of them `ofInactivityGapWithNoGrace`),
 *   `tumbling`, `hopping`, `sliding` (SlidingWindows), `none` (a non-windowed aggregation);
 * - op: `count`, `reduce`, `aggregate`;
 * - scenario:
 *   - `inorder`: non-decreasing timestamps, steps chosen to land on exact gap / size / grace boundaries;
 *   - `ooo`: out of order, including records at and past the grace boundary (late);
 *   - `nullkeys`: in-order keyed records, and null-key records whose timestamps often jump ahead;
 *   - `filter`: as `nullkeys`, with records a `filter` drops before the grouping instead of null keys;
 *   - `nullvalues`: in-order timestamps, some values null;
 *   - `suppress`: `suppress(untilWindowCloses)` on an out-of-order input (windowed only);
 *   - `mixed`: all of the above at once;
 *   - `close`: `emitStrategy(onWindowClose)` on an out-of-order input (windowed only).
 * plus `passthrough-default-serdes`: `stream('in').to('out')` with no serdes, and `extractor-session-count`: a
 * session count on the event time that a timestamp extractor takes from each record's value (produce times
 * increase; event times are out of order, some negative).
 * Tables and joins (see TableSpec and StreamJoinCaseSpec in cases.ts):
 * - `table-<plain|filter|filterNot|mapValues|chain>-<mat|unmat>`: builder.table with or without a store
 *   name, its operators, toStream; a quarter of the updates are tombstones, some keys null;
 *   `table-stored-*` (operators with their own stores), `table-fromstream-*` (`toTable`), `table-fromagg-*`
 *   (a stream's reduce as the table, so that old values come from an aggregation and its cache),
 *   `table-suppress-*` (then `suppress(untilTimeLimit)`);
 * - `stream-table-<inner|left>-<mat|unmat|rekey>`: a stream joined with a table, records interleaved;
 * - `table-groupby-<count|reduce|aggregate>-<mat|unmat|fromagg>`: a table re-grouped by a key from its value;
 * - `table-table-<inner|left|outer>-<mat|unmat|stored>`: updates and tombstones on both sides;
 * - `stream-globaltable-<join|leftjoin>`: a stream joined with a GlobalKTable through a key selector that
 *   lower-cases keys and maps some to null (and, half the time, the null key to `a`); tombstones and null keys
 *   in the global topic;
 * - `global-store-<get|fk|scan>`: `addGlobalStore` over `tbl` with a processor of its own, read by a processor
 *   of the stream `in` (by key and lower-cased key, by the value's foreign key, or a scan), records interleaved;
 * - `table-fk-<inner|left>-tablejoined`: foreign-key joins given `TableJoined.as(name)` or
 *   `TableJoined.with(partitioner, otherPartitioner)`;
 * - `stream-stream-<inner|left|outer>[-tick|-rekey]`: out-of-order and late records of both streams (`rekey`:
 *   the left stream re-keyed, so repartitioned, first).
 * The cache mode goes round CACHE_CYCLE, one mode per round over the families.
 */
import type { Caching, DifferentialCase, InputRecord, Op, TableOp, TableSpec, Value, VersionedStoreSpec, ValueType, WindowSpec } from './cases.js';

/** A small, fast, seedable PRNG (mulberry32). */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** Mixes a run's seed and a case's index into the case's own seed. */
function caseSeed(seed: number, index: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}

type WindowKind = 'session' | 'session0' | 'tumbling' | 'hopping' | 'sliding' | 'none';
type Scenario = 'inorder' | 'ooo' | 'nullkeys' | 'filter' | 'nullvalues' | 'suppress' | 'mixed' | 'close';

const WINDOW_KINDS: readonly WindowKind[] = ['session', 'session0', 'tumbling', 'hopping', 'sliding', 'none'];
const OPS: readonly Op[] = ['count', 'reduce', 'aggregate'];
const SCENARIOS: readonly Scenario[] = ['inorder', 'ooo', 'nullkeys', 'filter', 'nullvalues', 'suppress', 'mixed', 'close'];

export const PASSTHROUGH_FAMILY = 'passthrough-default-serdes';
export const EXTRACTOR_FAMILY = 'extractor-session-count';

/** Table cases: `table-<ops>-<mat|unmat>`, a table read from `in`, its operators, toStream. */
const TABLE_OPS: Readonly<Record<string, readonly TableOp[] | 'random'>> = {
  plain: [],
  filter: ['filter'],
  filterNot: ['filterNot'],
  mapValues: ['mapValues'],
  /** KTable.transformValues, alone and before a filter (which asks it for old values). */
  transform: ['transformValues'],
  transformfilter: ['transformValues', 'filter'],
  chain: 'random',
  /** A chain whose operators each keep their results in a store. */
  stored: 'random',
  /** `stream('in').toTable()`, then a random chain. */
  fromstream: 'random',
  /** A stream's reduce, then a random chain (`mat`: each operator stores its results). */
  fromagg: 'random',
  /** A random chain (maybe empty), then suppress(untilTimeLimit). */
  suppress: 'random',
};
/** Stream-table join cases: `stream-table-<inner|left>-<mat|unmat|rekey>`. */
const JOIN_KINDS = ['inner', 'left'] as const;
const JOIN_VARIANTS = ['mat', 'unmat', 'rekey'] as const;
/** Table groupBy cases: `table-groupby-<op>-<mat|unmat>`. */
const GROUPBY_OPS: readonly Op[] = ['count', 'reduce', 'aggregate'];
export const TABLE_FAMILIES: readonly string[] = [
  ...Object.keys(TABLE_OPS).flatMap((ops) => [`table-${ops}-mat`, `table-${ops}-unmat`]),
  ...JOIN_KINDS.flatMap((join) => JOIN_VARIANTS.map((variant) => `stream-table-${join}-${variant}`)),
  ...GROUPBY_OPS.flatMap((op) => [`table-groupby-${op}-mat`, `table-groupby-${op}-unmat`, `table-groupby-${op}-fromagg`]),
  ...['inner', 'left', 'outer'].flatMap((join) => [`table-table-${join}-mat`, `table-table-${join}-unmat`, `table-table-${join}-stored`]),
  /** Foreign-key joins: `table-fk-<inner|left>-<mat|unmat|stored>`. */
  ...['inner', 'left'].flatMap((join) => [`table-fk-${join}-mat`, `table-fk-${join}-unmat`, `table-fk-${join}-stored`]),
  /** Foreign-key joins given a TableJoined (name, partitioners), their descriptions compared too. */
  ...['inner', 'left'].map((join) => `table-fk-${join}-tablejoined`),
];

/** Stream-global table join cases. */
export const GLOBAL_JOIN_FAMILIES: readonly string[] = ['stream-globaltable-join', 'stream-globaltable-leftjoin'];

/** Stream-stream join cases: `stream-stream-<inner|left|outer>[-tick]`. */
export const STREAM_JOIN_FAMILIES: readonly string[] = ['inner', 'left', 'outer'].flatMap((kind) => [
  `stream-stream-${kind}`,
  `stream-stream-${kind}-tick`,
  `stream-stream-${kind}-rekey`,
]);

/**
 * Records of both streams (`in` and `tbl`), keys a to c: timestamps forward in steps that land on the time
 * difference and grace, with steps back (out of order, some past the grace: too late to join); a few null
 * keys and values.
 */
function streamJoinRecords(valueType: ValueType, rnd: Random, difference: number, grace: number): InputRecord[] {
  const keys = ['a', 'b', 'c'].slice(0, rnd.int(1, 3));
  const records: InputRecord[] = [];
  let maxTs = rnd.pick([0, rnd.int(0, 30)]);
  for (let i = rnd.int(3, 16); i > 0; i--) {
    const step = rnd.pick([0, 1, difference - 1, difference, difference + 1, grace, difference + grace, difference + grace + 1, rnd.int(0, 3 * difference)]);
    const ts = rnd.chance(0.3) ? Math.max(0, maxTs - step) : maxTs + step;
    maxTs = Math.max(maxTs, ts);
    const key = rnd.chance(0.05) ? null : rnd.pick(keys);
    const value = rnd.chance(0.05) ? null : valueFor(valueType, rnd);
    records.push({ key, value, ts, topic: rnd.chance(0.5) ? 'in' : 'tbl' });
  }
  return records;
}

/** Cogroup cases: `cogroup-plain`, `cogroup-rekey` (the stream `in` re-keyed, so repartitioned). */
export const COGROUP_FAMILIES: readonly string[] = ['cogroup-plain', 'cogroup-rekey'];

/**
 * Windowed cogroups (`in` and `tbl` cogrouped, then windowed): `cogroup-windowed-<tumbling|hopping|sliding|session>`,
 * records of both topics in and out of order (some late), a few null keys and values.
 */
export const COGROUP_WINDOWED_FAMILIES: readonly string[] = ['tumbling', 'hopping', 'sliding', 'session'].map((w) => `cogroup-windowed-${w}`);

/**
 * Versioned tables (`Stores.persistentVersionedKeyValueStore`): `versioned-table-<source|fromstream>` (a table
 * with out-of-order updates, some older than the history retention), `versioned-stream-table-<inner|left>`
 * (the stream joined as of its record times) and `...-grace` (with `Joined.withGracePeriod`).
 */
export const VERSIONED_FAMILIES: readonly string[] = [
  'versioned-table-source',
  'versioned-table-fromstream',
  ...['inner', 'left'].flatMap((join) => [`versioned-stream-table-${join}`, `versioned-stream-table-${join}-grace`]),
];

/**
 * `StreamsBuilder.addGlobalStore` with a processor of its own over `tbl`, read by the stream `in`'s processor
 * (GlobalStoreCaseSpec in cases.ts): `global-store-<get|fk|scan>`, descriptions compared too.
 */
export const GLOBAL_STORE_FAMILIES: readonly string[] = ['global-store-get', 'global-store-fk', 'global-store-scan'];

/**
 * `versioned-store-ops`: a versioned store on its own (VersionedStoreSpec), put / delete / get / get as of a
 * time on keys a to c; timestamps move forward and back across the history retention's boundary and the
 * segment interval's (small given ones, or Kafka Streams' default from the retention, 2 s for retentions up
 * to 6 s), puts older than the retention, tombstones (put null, delete), and queries as of times just
 * before and at observed time − history retention.
 */
export const VERSIONED_STORE_FAMILIES: readonly string[] = ['versioned-store-ops'];

/**
 * Operators on a versioned table (`versioned-table-ops`: its changes to `out`; `versioned-stream-table-ops-
 * <inner|left>`: a stream joined with it, some with a grace period): one or two of filter, filterNot,
 * mapValues, transformValues, unmaterialized (read through the versioned parent, as of the stream record's
 * time) or stored, in versioned stores (`opsRetentionMs`) or in timestamped ones.
 */
export const VERSIONED_OPS_FAMILIES: readonly string[] = ['versioned-table-ops', 'versioned-stream-table-ops-inner', 'versioned-stream-table-ops-left'];

/** Every family, in the order cases are dealt to them. */
export const FAMILIES: readonly string[] = [
  ...WINDOW_KINDS.flatMap((window) =>
    OPS.flatMap((op) =>
      SCENARIOS.filter((s) => !(s === 'suppress' && window === 'none'))
        // emitStrategy(onWindowClose) of windowed aggregations only.
        .filter((s) => !(s === 'close' && window === 'none'))
        .map((s) => `${window}-${op}-${s}`),
    ),
  ),
  PASSTHROUGH_FAMILY,
  EXTRACTOR_FAMILY,
  ...TABLE_FAMILIES,
  ...STREAM_JOIN_FAMILIES,
  ...GLOBAL_JOIN_FAMILIES,
  ...COGROUP_FAMILIES,
  ...VERSIONED_FAMILIES,
  ...COGROUP_WINDOWED_FAMILIES,
  ...GLOBAL_STORE_FAMILIES,
  ...VERSIONED_STORE_FAMILIES,
  ...VERSIONED_OPS_FAMILIES,
];

function windowFor(kind: WindowKind, rnd: Random): WindowSpec {
  switch (kind) {
    case 'none':
      return { type: 'none' };
    case 'session':
      return { type: 'session', gap: rnd.pick([5, 10]), grace: rnd.pick([1, 3, 5, 10]), noGrace: false };
    case 'session0':
      return { type: 'session', gap: rnd.pick([5, 10]), grace: 0, noGrace: rnd.chance(0.5) };
    case 'sliding': {
      const size = rnd.pick([5, 10]);
      const grace = rnd.pick([0, 0, 3, 5, 10]);
      return { type: 'sliding', size, advance: size, grace, noGrace: grace === 0 && rnd.chance(0.5) };
    }
    case 'tumbling':
    case 'hopping': {
      const size = rnd.pick([10, 20]);
      const advance = kind === 'tumbling' ? size : rnd.pick([size / 2, size / 5]);
      const grace = rnd.pick([0, 0, 3, 5, 10]);
      return { type: kind, size, advance, grace, noGrace: grace === 0 && rnd.chance(0.5) };
    }
  }
}

/** The time scale of a window: steps of this size cross its boundaries. */
function scaleOf(window: WindowSpec): { unit: number; grace: number } {
  switch (window.type) {
    case 'none':
      return { unit: 10, grace: 0 };
    case 'session':
      return { unit: window.gap, grace: window.grace };
    default:
      return { unit: window.advance, grace: window.grace };
  }
}

/** A forward step that often lands exactly on, just before or just after a boundary. */
function forwardStep(rnd: Random, unit: number, grace: number): number {
  return rnd.pick([0, 1, 2, unit - 1, unit, unit + 1, grace, grace + 1, unit + grace, unit + grace + 1, rnd.int(0, 3 * unit)]);
}

/** A backward step: within the window, at the grace boundary, or well past it (late). */
function backwardStep(rnd: Random, unit: number, grace: number): number {
  return rnd.pick([1, 2, unit - 1, unit, grace, grace + 1, unit + grace, unit + grace + 1, rnd.int(0, 2 * unit + grace + 3)]);
}

function valueFor(type: ValueType, rnd: Random): Value {
  return type === 'string' ? rnd.pick(['a', 'b', 'c', 'd', 'e']) : rnd.int(1, 9);
}

const DROPPED: Record<ValueType, Value> = { string: 'X', long: -1 };

function generateRecords(scenario: Scenario, valueType: ValueType, window: WindowSpec, rnd: Random): InputRecord[] {
  const { unit, grace } = scaleOf(window);
  const keys = ['a', 'b', 'c'].slice(0, rnd.int(1, 3));
  const count = rnd.int(3, 16);
  const records: InputRecord[] = [];
  let maxTs = rnd.pick([0, 0, rnd.int(0, 30)]);
  // Timestamp of the next record that reaches the aggregation (keyed, kept by the filter).
  let keptTs = maxTs;
  const outOfOrder = scenario === 'ooo' || scenario === 'suppress' || scenario === 'mixed' || scenario === 'close';
  for (let i = 0; i < count; i++) {
    const key = rnd.pick(keys);
    let value: Value | null = valueFor(valueType, rnd);
    const special =
      (scenario === 'nullkeys' || scenario === 'filter' || scenario === 'mixed') && i > 0 && rnd.chance(0.3);
    if (special) {
      // A record that never reaches the aggregation (null key, or dropped by the filter), often far ahead.
      const ts = keptTs + rnd.pick([unit, unit + grace, unit + grace + 1, 2 * unit + grace, rnd.int(0, 4 * unit)]);
      const nullKey = scenario === 'nullkeys' || (scenario === 'mixed' && rnd.chance(0.5));
      records.push(nullKey ? { key: null, value, ts } : { key, value: DROPPED[valueType], ts });
      maxTs = Math.max(maxTs, ts);
      continue;
    }
    if ((scenario === 'nullvalues' || scenario === 'mixed') && rnd.chance(0.3)) value = null;
    let ts: number;
    if (outOfOrder && i > 0 && rnd.chance(0.4)) ts = Math.max(0, maxTs - backwardStep(rnd, unit, grace));
    else ts = (i === 0 ? keptTs : keptTs + forwardStep(rnd, unit, grace));
    keptTs = Math.max(keptTs, ts);
    maxTs = Math.max(maxTs, ts);
    records.push({ key, value, ts });
  }
  return records;
}

/**
 * The cache mode of each round over the families: every family gets every mode once `CACHE_CYCLE.length`
 * rounds are dealt, `off` and `on` twice as often as the per-store switches.
 */
export const CACHE_CYCLE: readonly Caching[] = ['off', 'on', 'off', 'on', 'store-off', 'store-on'];

/**
 * Updates of a table (and, for joins, stream records between them): keys a to c, a quarter of the table's
 * values null (tombstones, of present and absent keys), some null keys, timestamps mostly forward with some
 * steps back. Join cases send each record to the stream `in` or the table `tbl`; re-keyed streams use
 * upper-case keys too.
 */
function tableRecords(
  valueType: ValueType,
  rnd: Random,
  join: boolean,
  rekey: boolean,
  filter: boolean,
  streamNulls = 0.1,
): InputRecord[] {
  const keys = ['a', 'b', 'c'].slice(0, rnd.int(1, 3));
  const records: InputRecord[] = [];
  let ts = rnd.pick([0, rnd.int(0, 20)]);
  for (let i = rnd.int(3, 16); i > 0; i--) {
    ts = rnd.chance(0.25) ? Math.max(0, ts - rnd.int(1, 10)) : ts + rnd.pick([0, 1, 2, 5, rnd.int(0, 20)]);
    const topic = join && rnd.chance(0.5) ? 'tbl' : 'in';
    const stream = join && topic === 'in';
    let key: string | null = rnd.pick(keys);
    if (stream && rekey && rnd.chance(0.5)) key = key.toUpperCase();
    if (rnd.chance(0.06)) key = null;
    let value: Value | null = valueFor(valueType, rnd);
    if (filter && (!stream || streamNulls > 0.1) && rnd.chance(0.25)) value = DROPPED[valueType];
    if (rnd.chance(stream ? streamNulls : 0.25)) value = null;
    records.push(join ? { key, value, ts, topic } : { key, value, ts });
  }
  return records;
}

/** The TableJoined of `table-fk-*-tablejoined` cases (TableSpec.tableJoined). */
const TABLE_JOINED_OPTIONS: readonly NonNullable<TableSpec['tableJoined']>[] = [
  { name: 'fkj' },
  { partitioners: 'zero' },
  { partitioners: 'default' },
  { partitioners: 'zero', name: 'fkj' },
];

function versionedStoreSpec(rnd: Random): VersionedStoreSpec {
  const historyRetentionMs = rnd.pick([0, 1, 5, 10, 30, 3_000, 6_000]);
  // Kafka Streams' default segment interval is max(retention / 3, 2 s) up to a minute of retention.
  const segmentIntervalMs = rnd.pick([undefined, undefined, 1, 2, 3, 7, 10, 25, 1_000]);
  return segmentIntervalMs === undefined ? { historyRetentionMs } : { historyRetentionMs, segmentIntervalMs };
}

/** Operations on a versioned store (see VERSIONED_STORE_FAMILIES), as `in` records: key, operation, timestamp. */
function versionedStoreOps(rnd: Random, spec: VersionedStoreSpec): InputRecord[] {
  const retention = spec.historyRetentionMs;
  const segment = spec.segmentIntervalMs ?? Math.max(Math.floor(retention / 3), 2_000);
  const unit = Math.max(1, Math.min(retention, segment, 50));
  const keys = ['a', 'b', 'c'].slice(0, rnd.int(1, 3));
  const records: InputRecord[] = [];
  let observed = rnd.pick([0, rnd.int(0, 20)]);
  const seen: number[] = [observed];
  const near = (t: number): number => Math.max(0, t + rnd.pick([-1, 0, 0, 1]));
  const someTime = (): number =>
    rnd.pick([
      near(observed - retention),
      near(observed - retention - unit),
      near(Math.floor(observed / segment) * segment),
      rnd.pick(seen),
      near(rnd.pick(seen)),
      Math.max(0, observed - rnd.int(0, 2 * retention + 3)),
      observed,
    ]);
  for (let i = rnd.int(8, 40), n = 0; i > 0; i--) {
    const key = rnd.pick(keys);
    const kind = rnd.pick(['put', 'put', 'put', 'put', 'put-null', 'delete', 'get', 'asof', 'asof', 'asof']);
    let ts: number;
    if (kind === 'get' || kind === 'asof') ts = observed;
    else if (rnd.chance(0.55)) {
      ts = observed + rnd.pick([0, 1, unit - 1, unit, unit + 1, retention, retention + 1, segment, segment + 1, rnd.int(0, 3 * unit)]);
      if (rnd.chance(0.05)) ts += rnd.pick([segment * 3, retention * 3 + 7]);
    } else ts = someTime();
    observed = Math.max(observed, ts);
    seen.push(ts);
    const op = kind === 'put' ? `put:v${n++}` : kind === 'asof' ? `get:${someTime()}` : kind;
    records.push({ key, value: op, ts });
  }
  return records;
}

function tableCase(family: string, rnd: Random): { spec: TableSpec; records: InputRecord[]; valueType: ValueType } {
  const valueType: ValueType = rnd.pick(['string', 'long']);
  const parts = family.split('-');
  if (parts[1] === 'groupby') {
    const ops: TableOp[] = rnd.chance(0.3) ? [rnd.pick<TableOp>(['filter', 'filterNot', 'mapValues'])] : [];
    const spec: TableSpec = {
      materialized: parts[3] === 'mat',
      ops,
      groupBy: parts[2] as Op,
      ...(parts[3] === 'fromagg' ? { fromAggregate: true } : {}),
    };
    return { spec, valueType, records: tableRecords(valueType, rnd, false, false, ops.includes('filter')) };
  }
  if (parts[1] === 'table' || parts[1] === 'fk') {
    const ops: TableOp[] = rnd.chance(0.3) ? [rnd.pick<TableOp>(['filter', 'filterNot', 'mapValues'])] : [];
    const otherOps: TableOp[] = parts[1] === 'fk' && rnd.chance(0.3) ? [rnd.pick<TableOp>(['filter', 'filterNot', 'mapValues'])] : [];
    const tableJoined = parts[3] === 'tablejoined' ? rnd.pick(TABLE_JOINED_OPTIONS) : undefined;
    const stored = parts[3] === 'stored' || (tableJoined !== undefined && rnd.chance(0.5));
    const spec: TableSpec = {
      materialized: parts[3] === 'mat' || (stored && rnd.chance(0.5)),
      ops,
      join: parts[2] as 'inner' | 'left' | 'outer',
      ...(stored ? { storedJoin: true } : {}),
      ...(otherOps.length > 0 ? { otherOps } : {}),
      ...(tableJoined === undefined ? {} : { tableJoined }),
    };
    const filter = ops.includes('filter') || otherOps.includes('filter');
    return { spec, valueType, records: tableRecords(valueType, rnd, true, false, filter, 0.25) };
  }
  if (parts[0] === 'table') {
    const named = TABLE_OPS[parts[1]!]!;
    const ops: TableOp[] =
      named === 'random' ? Array.from({ length: rnd.int(2, 3) }, () => rnd.pick<TableOp>(['filter', 'filterNot', 'mapValues'])) : [...named];
    const fromAgg = parts[1] === 'fromagg';
    const spec: TableSpec = {
      materialized: parts[2] === 'mat' && !fromAgg,
      ops: parts[1] === 'fromstream' || parts[1] === 'suppress' ? ops.slice(0, rnd.int(0, ops.length)) : ops,
      ...(parts[1] === 'stored' || (fromAgg && parts[2] === 'mat') ? { storedOps: true } : {}),
      ...(parts[1] === 'fromstream' ? { fromStream: true } : {}),
      ...(fromAgg ? { fromAggregate: true } : {}),
      ...(parts[1] === 'suppress' ? { suppressLimit: rnd.pick([0, 3, 5, 10, 20]) } : {}),
    };
    return { spec, valueType, records: tableRecords(valueType, rnd, false, false, ops.includes('filter')) };
  }
  const join = parts[2] as 'inner' | 'left';
  const variant = parts[3]!;
  const ops: TableOp[] = rnd.chance(0.3) ? [rnd.pick<TableOp>(['filter', 'filterNot', 'mapValues'])] : [];
  const spec: TableSpec = { materialized: variant === 'mat' || (variant === 'rekey' && rnd.chance(0.5)), ops, join, rekey: variant === 'rekey' };
  return { spec, valueType, records: tableRecords(valueType, rnd, true, variant === 'rekey', ops.includes('filter')) };
}

/** Case `index` of run `seed`. */
export function generateCase(seed: number, index: number): DifferentialCase {
  return withKeyJoiner(withBufferBound(generateUnboundedCase(seed, index)));
}

/** Half the stream-table and stream-stream join cases join with the key first (ValueJoinerWithKey). */
function withKeyJoiner(c: DifferentialCase): DifferentialCase {
  if (c.topology !== 'stream-table-join' && c.topology !== 'stream-stream-join') return c;
  return new Random(caseSeed(c.seed, c.index) ^ 0x6a09e667).chance(0.5) ? { ...c, joinerWithKey: true } : c;
}

/**
 * Bounds the suppression buffer of about half the suppress cases, from a generator of its own so that the
 * rest of each case stays as it was. Bytes only without a record cache in front of the buffer: ours does not
 * count the topic name of a record that leaves a cache (see README, limits), Kafka Streams does.
 */
function withBufferBound(c: DifferentialCase): DifferentialCase {
  const timeLimit = c.table?.suppressLimit !== undefined;
  if (!c.suppress && !timeLimit) return c;
  const rnd = new Random(caseSeed(c.seed, c.index) ^ 0x2545f491);
  if (!rnd.chance(0.5)) return c;
  const bytesAllowed = c.caching === 'off' || c.caching === 'store-off';
  const byBytes = bytesAllowed && rnd.chance(0.5);
  const whenFull = timeLimit && rnd.chance(0.7) ? 'emitEarly' : 'shutDown';
  const bufferBound = byBytes ? { maxBytes: rnd.int(30, 160), whenFull } as const : { maxRecords: rnd.int(0, 3), whenFull } as const;
  return { ...c, bufferBound };
}

function generateUnboundedCase(seed: number, index: number): DifferentialCase {
  const rnd = new Random(caseSeed(seed, index));
  const family = FAMILIES[index % FAMILIES.length]!;
  const caching = CACHE_CYCLE[Math.floor(index / FAMILIES.length) % CACHE_CYCLE.length]!;
  const valueType: ValueType = rnd.pick(['string', 'long']);
  const id = `${seed}:${index}`;
  if (family === PASSTHROUGH_FAMILY) {
    const records: InputRecord[] = [];
    for (let i = rnd.int(1, 5), ts = 0; i > 0; i--, ts += rnd.int(0, 5)) {
      records.push({ key: rnd.chance(0.2) ? null : rnd.pick(['a', 'b']), value: rnd.chance(0.2) ? null : `v${rnd.int(0, 99)}`, ts });
    }
    return {
      id, seed, index, family, topology: 'passthrough', valueType: 'string', op: 'count',
      window: { type: 'none' }, suppress: false, filter: false, caching, extractor: false, records,
    };
  }
  if (family === EXTRACTOR_FAMILY) {
    const window = windowFor('session', rnd);
    const events = generateRecords('ooo', 'long', window, rnd);
    const records = events.map((r, i) => ({
      key: r.key,
      value: rnd.chance(0.1) ? -rnd.int(1, 5) : rnd.chance(0.1) ? null : r.ts,
      ts: 1000 + 10 * i,
    }));
    return {
      id, seed, index, family, topology: 'aggregate', valueType: 'long', op: 'count',
      window, suppress: false, filter: false, caching, extractor: true, records,
    };
  }
  if (COGROUP_FAMILIES.includes(family)) {
    const rekey = family === 'cogroup-rekey';
    return {
      id, seed, index, family, valueType, op: 'aggregate', topology: 'cogroup', ...(rekey ? { cogroupRekey: true } : {}),
      window: { type: 'none' }, suppress: false, filter: false, caching, extractor: false,
      records: tableRecords(valueType, rnd, true, rekey, false),
    };
  }
  if (COGROUP_WINDOWED_FAMILIES.includes(family)) {
    const kind = family.slice('cogroup-windowed-'.length);
    const window = windowFor(kind === 'session' ? rnd.pick(['session', 'session0'] as const) : (kind as WindowKind), rnd);
    const records = generateRecords(rnd.pick(['inorder', 'ooo', 'nullkeys', 'nullvalues', 'mixed'] as const), valueType, window, rnd)
      .map((r) => ({ ...r, topic: rnd.chance(0.5) ? 'in' : 'tbl' }));
    return {
      id, seed, index, family, valueType, op: 'aggregate', topology: 'cogroup',
      window, suppress: false, filter: false, caching, extractor: false, records,
    };
  }
  if (STREAM_JOIN_FAMILIES.includes(family)) {
    const parts = family.split('-');
    const type: ValueType = rnd.pick(['string', 'long']);
    const timeDifference = rnd.pick([0, 5, 10]);
    const grace = rnd.pick([0, 0, 3, 10]);
    const rekey = parts[3] === 'rekey';
    const streamJoin = { kind: parts[2] as 'inner' | 'left' | 'outer', timeDifference, grace, tick: parts[3] === 'tick', ...(rekey ? { rekey } : {}) };
    let records = streamJoinRecords(type, rnd, Math.max(timeDifference, 1), grace);
    if (rekey) records = records.map((r) => (r.topic === 'in' && r.key !== null && rnd.chance(0.5) ? { ...r, key: r.key.toUpperCase() } : r));
    return {
      id, seed, index, family, valueType: type, op: 'count', topology: 'stream-stream-join', streamJoin,
      window: { type: 'none' }, suppress: false, filter: false, caching, extractor: false,
      records,
    };
  }
  if (GLOBAL_JOIN_FAMILIES.includes(family)) {
    const type: ValueType = rnd.pick(['string', 'long']);
    const table: TableSpec = {
      materialized: rnd.chance(0.5),
      ops: [],
      join: family.endsWith('leftjoin') ? 'left' : 'inner',
      selector: rnd.pick(['lower', 'nullToA'] as const),
    };
    return {
      id, seed, index, family, valueType: type, op: 'count', topology: 'stream-globaltable-join', table,
      window: { type: 'none' }, suppress: false, filter: false, caching, extractor: false,
      records: tableRecords(type, rnd, true, true, false, 0.25),
    };
  }
  if (VERSIONED_STORE_FAMILIES.includes(family)) {
    const versionedStore = versionedStoreSpec(rnd);
    return {
      id, seed, index, family, valueType: 'string', op: 'count', topology: 'versioned-store', versionedStore,
      window: { type: 'none' }, suppress: false, filter: false, caching, extractor: false,
      records: versionedStoreOps(rnd, versionedStore),
    };
  }
  if (VERSIONED_OPS_FAMILIES.includes(family)) {
    const type: ValueType = rnd.pick(['string', 'long']);
    const join = family.startsWith('versioned-stream-table-ops-') ? (family.endsWith('-left') ? 'left' : 'inner') : undefined;
    const ops = Array.from({ length: rnd.int(1, 2) }, () => rnd.pick<TableOp>(['filter', 'filterNot', 'mapValues', 'transformValues']));
    const storedOps = rnd.chance(0.5);
    const graceMs = join !== undefined && rnd.chance(0.4) ? rnd.pick([0, 3, 10]) : undefined;
    // With a grace period the history mostly reaches back at least that far; sometimes not (both sides refuse it).
    const retention = (): number =>
      graceMs === undefined ? rnd.pick([0, 5, 10, 30]) : graceMs > 0 && rnd.chance(0.15) ? graceMs - 1 : graceMs + rnd.pick([0, 5, 20]);
    const historyRetentionMs = retention();
    const opsRetentionMs = storedOps && rnd.chance(0.7) ? retention() : undefined;
    const versioned = {
      historyRetentionMs,
      ...(graceMs === undefined ? {} : { graceMs }),
      ...(opsRetentionMs === undefined ? {} : { opsRetentionMs }),
    };
    const table: TableSpec = { materialized: true, ops, versioned, ...(storedOps ? { storedOps } : {}), ...(join === undefined ? {} : { join }) };
    return {
      id, seed, index, family, valueType: type, op: 'count', topology: join === undefined ? 'table' : 'stream-table-join',
      window: { type: 'none' }, suppress: false, filter: false, caching, extractor: false, table,
      records: tableRecords(type, rnd, join !== undefined, false, ops.includes('filter')),
    };
  }
  if (VERSIONED_FAMILIES.includes(family)) {
    const type: ValueType = rnd.pick(['string', 'long']);
    const join = family.startsWith('versioned-stream-table-') ? (family.includes('-left') ? 'left' : 'inner') : undefined;
    const graceMs = family.endsWith('-grace') ? rnd.pick([0, 3, 10]) : undefined;
    // With a grace period the history mostly reaches back at least that far; sometimes not (both sides refuse it).
    const historyRetentionMs =
      graceMs === undefined ? rnd.pick([0, 5, 10, 30]) : graceMs > 0 && rnd.chance(0.15) ? graceMs - 1 : graceMs + rnd.pick([0, 5, 20]);
    const versioned = { historyRetentionMs, ...(graceMs === undefined ? {} : { graceMs }) };
    const table: TableSpec = {
      materialized: true,
      ops: [],
      versioned,
      ...(join === undefined ? {} : { join }),
      ...(family.endsWith('-fromstream') ? { fromStream: true } : {}),
    };
    return {
      id, seed, index, family, valueType: type, op: 'count', topology: join === undefined ? 'table' : 'stream-table-join',
      window: { type: 'none' }, suppress: false, filter: false, caching, extractor: false, table,
      records: tableRecords(type, rnd, join !== undefined, false, false),
    };
  }
  if (GLOBAL_STORE_FAMILIES.includes(family)) {
    const type: ValueType = rnd.pick(['string', 'long']);
    const read = family === 'global-store-fk' ? 'foreignKey' : family === 'global-store-scan' ? 'scan' : 'get';
    return {
      id, seed, index, family, valueType: type, op: 'count', topology: 'global-store',
      globalStore: { read, inMemory: rnd.chance(0.5), named: rnd.chance(0.3) },
      window: { type: 'none' }, suppress: false, filter: false, caching, extractor: false,
      records: tableRecords(type, rnd, true, true, false, 0.25),
    };
  }
  if (TABLE_FAMILIES.includes(family)) {
    const { spec, records, valueType: type } = tableCase(family, rnd);
    return {
      id, seed, index, family, valueType: type, op: 'count',
      topology:
        spec.groupBy !== undefined
          ? 'table-groupby'
          : family.startsWith('table-table-')
            ? 'table-table-join'
            : family.startsWith('table-fk-')
              ? 'table-fk-join'
              : spec.join !== undefined
                ? 'stream-table-join'
                : 'table',
      window: { type: 'none' }, suppress: false, filter: false, caching, extractor: false, records, table: spec,
    };
  }
  const [windowKind, op, scenario] = family.split('-') as [WindowKind, Op, Scenario];
  const window = windowFor(windowKind, rnd);
  const filter = scenario === 'filter' || (scenario === 'mixed' && rnd.chance(0.5));
  const suppress = scenario === 'suppress' || (scenario === 'mixed' && window.type !== 'none' && rnd.chance(0.5));
  let records = generateRecords(scenario, valueType, window, rnd);
  if (!filter) {
    // Without a filter the marker is an ordinary value; keep it out so that the case reads plainly.
    records = records.map((r) => (r.key !== null && r.value === DROPPED[valueType] ? { ...r, value: valueFor(valueType, rnd) } : r));
  }
  return {
    id, seed, index, family, topology: 'aggregate', valueType, op, window, suppress, filter, caching, extractor: false, records,
    ...(scenario === 'close' ? { onWindowClose: true } : {}),
  };
}

export function generateCases(seed: number, count: number): DifferentialCase[] {
  return Array.from({ length: count }, (_, index) => generateCase(seed, index));
}
