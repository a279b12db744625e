/**
 * Our side of the differential suite: builds each case's topology with our DSL, runs its records through our
 * TopologyTestDriver, and returns the canonical output (the same form DifferentialRunner.java prints).
 *
 * Where our API lacks an option a case needs, the case's outcome is `unsupported` (it is then neither
 * compared nor counted as agreeing). Options are looked up at run time, so a case starts to run, and to be
 * compared, as soon as the option exists; nothing here has to change.
 */
import {
  Consumed,
  EmitStrategy,
  Grouped,
  Joined,
  JoinWindows,
  Materialized,
  Produced,
  Serdes,
  SessionWindows,
  SlidingWindows,
  StreamJoined,
  StreamsBuilder,
  TableJoined,
  Stores,
  Suppressed,
  BufferConfig,
  valueJoinerWithKey,
  type StrictBufferConfig,
  TimeWindows,
  TopologyTestDriver,
  WindowedSerdes,
  type KGroupedStream,
  type KeyValueStore,
  type KTable,
  type ProcessorContext,
  type Serde,
  type TestInputTopic,
  type Topology,
  type Windowed,
} from '../../src/index.js';
import {
  LONG_OPS,
  STRING_OPS,
  joinValues,
  joinValuesWithKey,
  globalKey,
  globalStoreKey,
  globalStoreRemapped,
  globalStoreView,
  rekeyed,
  type CaseOutcome,
  type DifferentialCase,
  type OutputRecord,
  type TableOp,
  type TableSpec,
  type Value,
  type ValueOps,
} from './cases.js';
import { runVersionedStoreOps } from './versioned-store-ops.js';

const CACHE_BYTES = 10 * 1024 * 1024;

class Unsupported extends Error {}

/** A case's output, and the description of the topology that gave it. */
interface Run {
  readonly records: OutputRecord[];
  readonly description: string;
}

/** The caching switches of Kafka Streams' Materialized, which ours may not have yet. */
interface CachingSwitches<K, V> {
  withCachingDisabled?: () => Materialized<K, V>;
  withCachingEnabled?: () => Materialized<K, V>;
}

function consumed<V extends Value>(c: DifferentialCase, valueSerde: Serde<V>): Consumed<string, V> {
  const plain = Consumed.with(Serdes.String(), valueSerde);
  if (!c.extractor) return plain;
  // The event time is the (long) value; a record without one keeps its own timestamp.
  return plain.withTimestampExtractor((record) => (record.value === null ? record.timestamp : Number(record.value)));
}

function materialized<V>(c: DifferentialCase, valueSerde: Serde<V>): Materialized<string, V> {
  const m = Materialized.with<string, V>(Serdes.String(), valueSerde);
  if (c.caching !== 'store-off' && c.caching !== 'store-on') return m;
  const method = c.caching === 'store-off' ? 'withCachingDisabled' : 'withCachingEnabled';
  const switches = m as unknown as CachingSwitches<string, V>;
  const call = switches[method];
  if (typeof call !== 'function') throw new Unsupported(`Materialized.${method}()`);
  return call.call(m);
}

/** The topology's output as it is written: keys of windowed results as `key@start-end`. */
function keyText(key: string | Windowed<string> | null): string | null {
  if (key === null) return null;
  if (typeof key === 'string') return key;
  return `${key.key}@${key.window.start}-${key.window.end}`;
}

function drive<V extends Value>(
  topology: Topology,
  c: DifferentialCase,
  valueSerde: Serde<V>,
  keyOut: Serde<string> | Serde<Windowed<string>>,
  valueOut: Serde<Value>,
): Run {
  const driver = new TopologyTestDriver(topology, { cacheMaxBytes: c.caching === 'off' ? 0 : CACHE_BYTES });
  try {
    const input = driver.createInputTopic('in', Serdes.String(), valueSerde);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- it sets the type argument: without it inference picks Serde<string>
    const output = driver.createOutputTopic('out', keyOut as Serde<string | Windowed<string>>, valueOut);
    for (const r of c.records) input.pipeInput(r.key, r.value as V | null, r.ts);
    const records = output.readRecordsToList().map((r) => ({ key: keyText(r.key), value: r.value, ts: r.timestamp }));
    return { records, description: describedAsKafkaStreams(topology) };
  } finally {
    driver.close();
  }
}

function runAggregate<V extends Value>(c: DifferentialCase, valueSerde: Serde<V>, ops: ValueOps<V>): Run {
  const builder = new StreamsBuilder();
  let stream = builder.stream('in', consumed(c, valueSerde));
  if (c.filter) stream = stream.filter((_k, v) => !ops.dropped(v));
  const grouped: KGroupedStream<string, V> = stream.groupByKey(Grouped.with(Serdes.String(), valueSerde));
  const valueOut = (c.op === 'count' ? Serdes.Int64() : valueSerde) as Serde<Value>;
  const reducer = (left: V, right: V): V => ops.reduce(left, right);
  const aggregator = (_k: string, value: V, agg: V): V => ops.aggregate(agg, value);
  const w = c.window;
  let keyOut: Serde<string> | Serde<Windowed<string>>;
  let table: KTable<string, Value> | KTable<Windowed<string>, Value>;
  if (w.type === 'none') {
    keyOut = Serdes.String();
    table =
      c.op === 'count'
        ? grouped.count(materialized(c, Serdes.Int64()))
        : c.op === 'reduce'
          ? grouped.reduce(reducer, materialized(c, valueSerde))
          : grouped.aggregate(() => ops.init(), aggregator, materialized(c, valueSerde));
  } else {
    let windowed: KTable<Windowed<string>, Value>;
    if (w.type === 'session') {
      const windows = w.noGrace
        ? SessionWindows.ofInactivityGapWithNoGrace(w.gap)
        : SessionWindows.ofInactivityGapAndGrace(w.gap, w.grace);
      keyOut = WindowedSerdes.sessionWindowed(Serdes.String());
      const sessions = grouped.windowedBy(windows);
      if (c.onWindowClose === true) sessions.emitStrategy(EmitStrategy.onWindowClose());
      windowed =
        c.op === 'count'
          ? sessions.count(materialized(c, Serdes.Int64()))
          : c.op === 'reduce'
            ? sessions.reduce(reducer, materialized(c, valueSerde))
            : sessions.aggregate(() => ops.init(), aggregator, (_k, left, right) => ops.merge(left, right), materialized(c, valueSerde));
    } else {
      let windows: TimeWindows | SlidingWindows;
      if (w.type === 'sliding') {
        windows = w.noGrace ? SlidingWindows.ofTimeDifferenceWithNoGrace(w.size) : SlidingWindows.ofTimeDifferenceAndGrace(w.size, w.grace);
      } else {
        windows = w.noGrace ? TimeWindows.ofSizeWithNoGrace(w.size) : TimeWindows.ofSizeAndGrace(w.size, w.grace);
        if (w.advance !== w.size) windows = windows.advanceBy(w.advance);
      }
      keyOut = WindowedSerdes.timeWindowed(Serdes.String(), w.size);
      const timed = grouped.windowedBy(windows);
      if (c.onWindowClose === true) timed.emitStrategy(EmitStrategy.onWindowClose());
      windowed =
        c.op === 'count'
          ? timed.count(materialized(c, Serdes.Int64()))
          : c.op === 'reduce'
            ? timed.reduce(reducer, materialized(c, valueSerde))
            : timed.aggregate(() => ops.init(), aggregator, materialized(c, valueSerde));
    }
    table = c.suppress ? windowed.suppress(Suppressed.untilWindowCloses(strictBuffer(c))) : windowed;
  }
  (table as KTable<unknown, Value>)
    .toStream()
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- it sets the type argument: without it inference picks Serde<string>
    .to('out', Produced.with(keyOut as Serde<unknown>, valueOut));
  return drive(builder.build({ applicationId: 'differential' }), c, valueSerde, keyOut, valueOut);
}

/** The case's suppression buffer (cases.ts, bufferBound), before its full strategy. */
function strictBuffer(c: DifferentialCase): StrictBufferConfig {
  let buffer = BufferConfig.unbounded();
  if (c.bufferBound?.maxRecords !== undefined) buffer = buffer.withMaxRecords(c.bufferBound.maxRecords);
  if (c.bufferBound?.maxBytes !== undefined) buffer = buffer.withMaxBytes(c.bufferBound.maxBytes);
  return buffer;
}

/** The table of a table or join case, with its operators (TableSpec). */
function tableOf<V extends Value>(builder: StreamsBuilder, c: DifferentialCase, topic: string, valueSerde: Serde<V>, ops: ValueOps<V>): KTable<string, V> {
  const spec = c.table!;
  const consumed = Consumed.with(Serdes.String(), valueSerde);
  const store =
    spec.versioned !== undefined
      ? Materialized.as<string, V>(Stores.persistentVersionedKeyValueStore('store', spec.versioned.historyRetentionMs))
          .withKeySerde(Serdes.String())
          .withValueSerde(valueSerde)
      : spec.materialized
        ? materializedAs(c, valueSerde)
        : undefined;
  let table =
    spec.fromAggregate === true
      ? builder
          .stream(topic, consumed)
          .groupByKey(Grouped.with(Serdes.String(), valueSerde))
          .reduce((l, r) => ops.reduce(l, r), materialized(c, valueSerde))
      : spec.fromStream === true
        ? builder.stream(topic, consumed).toTable(store)
        : builder.table(topic, consumed, store);
  const opsRetentionMs = spec.versioned?.opsRetentionMs;
  const storedOp = (i: number): Materialized<string, V> =>
    opsRetentionMs === undefined
      ? materializedAs(c, valueSerde, `op${i}`)
      : Materialized.as<string, V>(Stores.persistentVersionedKeyValueStore(`op${i}`, opsRetentionMs)).withKeySerde(Serdes.String()).withValueSerde(valueSerde);
  table = withOps(table, spec.ops, ops, (i) => (spec.storedOps === true ? storedOp(i) : undefined));
  if (spec.suppressLimit !== undefined) {
    // An identity mapValues (on both sides) that gives the table its value serde back for the buffer.
    table = table.mapValues((v) => v, Materialized.with<string, V>(Serdes.String(), valueSerde));
    table = table.suppress(
      Suppressed.untilTimeLimit(spec.suppressLimit, c.bufferBound?.whenFull === 'emitEarly' ? strictBuffer(c).emitEarlyWhenFull() : strictBuffer(c)),
    );
  }
  return table;
}

/** The operators of a table case, in order (TableOp); `stored(i)` keeps the i-th one's results in a store. */
function withOps<V extends Value>(
  table: KTable<string, V>,
  tableOps: readonly TableOp[],
  ops: ValueOps<V>,
  stored: (i: number) => Materialized<string, V> | undefined = () => undefined,
): KTable<string, V> {
  tableOps.forEach((op, i) => {
    if (op === 'filter') table = table.filter((_k, v) => !ops.dropped(v), stored(i));
    else if (op === 'filterNot') table = table.filterNot((k) => k === 'b', stored(i));
    else if (op === 'transformValues') {
      const transformer = () => ({ transform: (k: string, v: V | null) => (v === null ? null : ops.transformed(k, v)) as V });
      const store = stored(i);
      table = store === undefined ? table.transformValues(transformer) : table.transformValues(transformer, store);
    } else table = table.mapValues((v) => ops.mapped(v), stored(i));
  });
  return table;
}

/** `Materialized.as('store')` with the case's caching switch. */
function materializedAs<V>(c: DifferentialCase, valueSerde: Serde<V>, name = 'store'): Materialized<string, V> {
  const m = Materialized.as<string, V>(name).withKeySerde(Serdes.String()).withValueSerde(valueSerde);
  if (c.caching === 'store-off') return m.withCachingDisabled();
  if (c.caching === 'store-on') return m.withCachingEnabled();
  return m;
}

/** `table` and `stream-table-join` cases (see TableSpec). */
function runTable<V extends Value>(c: DifferentialCase, valueSerde: Serde<V>, ops: ValueOps<V>): Run {
  const builder = new StreamsBuilder();
  const spec = c.table!;
  let valueOut: Serde<Value> = valueSerde;
  if (c.topology === 'table') {
    tableOf(builder, c, 'in', valueSerde, ops).toStream().to('out', Produced.with(Serdes.String(), valueSerde));
  } else if (c.topology === 'table-table-join') {
    valueOut = Serdes.String();
    const left = tableOf(builder, c, 'in', valueSerde, ops);
    const right = builder.table('tbl', Consumed.with(Serdes.String(), valueSerde));
    const joiner = (l: V | null, r: V | null): string => joinValues(l, r);
    const stored = spec.storedJoin === true ? materializedAs(c, Serdes.String(), 'joined') : undefined;
    const joined =
      spec.join === 'inner'
        ? left.join(right, joiner, stored)
        : spec.join === 'left'
          ? left.leftJoin(right, joiner, stored)
          : left.outerJoin(right, joiner, stored);
    joined.toStream().to('out', Produced.with(Serdes.String(), Serdes.String()));
  } else if (c.topology === 'table-fk-join') {
    valueOut = Serdes.String();
    const left = tableOf(builder, c, 'in', valueSerde, ops);
    const right = withOps(builder.table('tbl', Consumed.with(Serdes.String(), valueSerde)), spec.otherOps ?? [], ops);
    const joiner = (l: V, r: V | null): string => joinValues(l, r);
    const foreignKey = (v: V): string | null => ops.foreignKey(v);
    const stored = spec.storedJoin === true ? materializedAs(c, Serdes.String(), 'joined') : undefined;
    const tableJoined = tableJoinedOf(spec.tableJoined);
    const joined =
      tableJoined === undefined
        ? spec.join === 'inner' ? left.join(right, foreignKey, joiner, stored) : left.leftJoin(right, foreignKey, joiner, stored)
        : spec.join === 'inner' ? left.join(right, foreignKey, joiner, tableJoined, stored) : left.leftJoin(right, foreignKey, joiner, tableJoined, stored);
    joined.toStream().to('out', Produced.with(Serdes.String(), Serdes.String()));
  } else if (c.topology === 'stream-globaltable-join') {
    valueOut = Serdes.String();
    const stream = builder.stream('in', Consumed.with(Serdes.String(), valueSerde));
    const consumed = Consumed.with(Serdes.String(), valueSerde);
    const table = spec.materialized ? builder.globalTable('tbl', consumed, materializedAs(c, valueSerde)) : builder.globalTable('tbl', consumed);
    const selector = (k: string | null): string | null => globalKey(spec.selector!, k);
    const joiner = valueJoinerWithKey((key: string | null, left: V, right: V | null) => joinValuesWithKey(key, left, right));
    (spec.join === 'left' ? stream.leftJoin(table, selector, joiner) : stream.join(table, selector, joiner)).to('out', Produced.with(Serdes.String(), Serdes.String()));
  } else if (spec.groupBy !== undefined) {
    const grouped = tableOf(builder, c, 'in', valueSerde, ops).groupBy(
      (_k, v) => ({ key: ops.group(v) as string, value: v }),
      Grouped.with(Serdes.String(), valueSerde),
    );
    const adder = (_k: string, v: V, agg: V): V => ops.reduce(agg, v);
    const subtractor = (_k: string, v: V, agg: V): V => ops.subtract(agg, v);
    if (spec.groupBy === 'count') valueOut = Serdes.Int64();
    const result: KTable<string, Value> =
      spec.groupBy === 'count'
        ? grouped.count(materialized(c, Serdes.Int64()))
        : spec.groupBy === 'reduce'
          ? grouped.reduce((agg, v) => ops.reduce(agg, v), (agg, v) => ops.subtract(agg, v), materialized(c, valueSerde))
          : grouped.aggregate(() => ops.init(), adder, subtractor, materialized(c, valueSerde));
    result.toStream().to('out', Produced.with(Serdes.String(), valueOut));
  } else {
    valueOut = Serdes.String();
    let stream = builder.stream('in', Consumed.with(Serdes.String(), valueSerde));
    if (spec.rekey === true) stream = stream.selectKey((k) => rekeyed(k) as string);
    const table = tableOf(builder, c, 'tbl', valueSerde, ops);
    const joiner =
      c.joinerWithKey === true
        ? valueJoinerWithKey((key: string, left: V, right: V | null) => joinValuesWithKey(key, left, right))
        : (left: V, right: V | null): string => joinValues(left, right);
    const plainJoined = Joined.with(Serdes.String(), valueSerde, valueSerde);
    const graceMs = spec.versioned?.graceMs;
    const joined = graceMs === undefined ? plainJoined : plainJoined.withGracePeriod(graceMs);
    (spec.join === 'left' ? stream.leftJoin(table, joiner, joined) : stream.join(table, joiner, joined)).to('out', Produced.with(Serdes.String(), Serdes.String()));
  }
  return driveTopics(builder.build({ applicationId: 'differential' }), c, valueSerde, valueOut);
}

/** A foreign-key join's TableJoined (TableSpec.tableJoined); partitioners `zero` place every key in partition 0. */
function tableJoinedOf(options: TableSpec['tableJoined']): TableJoined<string, string> | undefined {
  if (options === undefined) return undefined;
  if (options.partitioners === undefined) return TableJoined.as(options.name!);
  const partitioner = options.partitioners === 'zero' ? (): number => 0 : undefined;
  const tableJoined = TableJoined.with<string, string>(partitioner, partitioner);
  return options.name === undefined ? tableJoined : tableJoined.withName(options.name);
}

/**
 * `global-store` cases (GlobalStoreCaseSpec): a global store over `tbl` fed by a processor of its own, read
 * by the processor of the stream `in`. Our Processor API stores have no record cache (Kafka Streams' are
 * uncached unless `withCachingEnabled()`); a cache in front of a store that forwards nothing changes nothing
 * that can be seen, so `store-on` runs as the others.
 */
function runGlobalStore<V extends Value>(c: DifferentialCase, valueSerde: Serde<V>, ops: ValueOps<V>): Run {
  const spec = c.globalStore!;
  const builder = new StreamsBuilder();
  const consumed = Consumed.with(Serdes.String(), valueSerde);
  const store = Stores.keyValueStore('global', Serdes.String(), valueSerde, { persistent: !spec.inMemory, loggingEnabled: false });
  const addGlobalStore = (): void => {
    builder.addGlobalStore(store, 'tbl', spec.named ? consumed.withName('global-updater') : consumed, () => {
      let context!: ProcessorContext<never, never>;
      let values!: KeyValueStore<string, V>;
      return {
        init: (ctx) => {
          context = ctx;
          values = ctx.getStateStore('global');
        },
        process: (record) => {
          const key = globalStoreKey(record.key);
          if (record.value === null) {
            values.delete(key);
            return;
          }
          const offset = Number(context.recordMetadata()?.offset ?? -1);
          values.put(key, ops.globalStored(values.get(key) ?? null, record.value, record.timestamp, offset));
        },
      };
    });
  };
  // Added after the stream, except by the witness of known-differences.ts' global-store-numbered-after-stream-
  // subtopologies: Kafka Streams numbers a global store added first as sub-topology 0, ours after the others.
  if (spec.globalFirst === true) addGlobalStore();
  builder
    .stream('in', consumed)
    .process<string, string>(() => {
      let context!: ProcessorContext<string, string>;
      let values!: KeyValueStore<string, V>;
      return {
        init: (ctx) => {
          context = ctx;
          values = ctx.getStateStore('global');
        },
        process: (record) => {
          let reads: (Value | null)[];
          if (spec.read === 'scan') reads = values.all().map((kv) => `${kv.key}=${kv.value}`);
          else {
            const remapped = globalStoreRemapped(spec.read, ops, record.key, record.value);
            reads = [values.get(globalStoreKey(record.key)) ?? null, remapped === null ? '-' : (values.get(remapped) ?? null)];
          }
          context.forward({ ...record, value: globalStoreView(record.value, reads) });
        },
      };
    })
    .to('out', Produced.with(Serdes.String(), Serdes.String()));
  if (spec.globalFirst !== true) addGlobalStore();
  return driveTopics(builder.build({ applicationId: 'differential' }), c, valueSerde, Serdes.String() as Serde<Value>);
}

/** `cogroup` cases: `in` (maybe re-keyed) and `tbl` cogrouped into one aggregate. */
function runCogroup<V extends Value>(c: DifferentialCase, valueSerde: Serde<V>, ops: ValueOps<V>): Run {
  const builder = new StreamsBuilder();
  const grouped = Grouped.with(Serdes.String(), valueSerde);
  let left = builder.stream('in', Consumed.with(Serdes.String(), valueSerde));
  if (c.cogroupRekey === true) left = left.selectKey((k) => rekeyed(k) as string);
  const right = builder.stream('tbl', Consumed.with(Serdes.String(), valueSerde)).groupByKey(grouped);
  const cogrouped = left
    .groupByKey(grouped)
    .cogroup<V>((_k, v, agg) => ops.aggregate(agg, v))
    .cogroup(right, (_k, v, agg) => ops.merge(agg, v));
  const w = c.window;
  if (w.type === 'none') {
    cogrouped.aggregate(() => ops.init(), materialized(c, valueSerde)).toStream().to('out', Produced.with(Serdes.String(), valueSerde));
    return driveTopics(builder.build({ applicationId: 'differential' }), c, valueSerde, valueSerde as Serde<Value>);
  }
  // Windowed cogroups (`cogroup-windowed-*`): the windowed key written as "key@start-end".
  let windowed: KTable<Windowed<string>, V>;
  if (w.type === 'session') {
    const windows = w.noGrace ? SessionWindows.ofInactivityGapWithNoGrace(w.gap) : SessionWindows.ofInactivityGapAndGrace(w.gap, w.grace);
    windowed = cogrouped.windowedBy(windows).aggregate(() => ops.init(), (_k, l, r) => ops.merge(l, r), materialized(c, valueSerde));
  } else if (w.type === 'sliding') {
    const windows = w.noGrace ? SlidingWindows.ofTimeDifferenceWithNoGrace(w.size) : SlidingWindows.ofTimeDifferenceAndGrace(w.size, w.grace);
    windowed = cogrouped.windowedBy(windows).aggregate(() => ops.init(), materialized(c, valueSerde));
  } else {
    let windows = w.noGrace ? TimeWindows.ofSizeWithNoGrace(w.size) : TimeWindows.ofSizeAndGrace(w.size, w.grace);
    if (w.advance !== w.size) windows = windows.advanceBy(w.advance);
    windowed = cogrouped.windowedBy(windows).aggregate(() => ops.init(), materialized(c, valueSerde));
  }
  windowed
    .toStream((k) => keyText(k)!)
    .to('out', Produced.with(Serdes.String(), valueSerde));
  return driveTopics(builder.build({ applicationId: 'differential' }), c, valueSerde, valueSerde as Serde<Value>);
}

/** `stream-stream-join` cases (see StreamJoinCaseSpec). */
function runStreamJoin<V extends Value>(c: DifferentialCase, valueSerde: Serde<V>): Run {
  const spec = c.streamJoin!;
  const builder = new StreamsBuilder();
  let left = builder.stream('in', Consumed.with(Serdes.String(), valueSerde));
  if (spec.rekey === true) left = left.selectKey((k) => rekeyed(k) as string);
  const right = builder.stream('tbl', Consumed.with(Serdes.String(), valueSerde));
  const windows = JoinWindows.ofTimeDifferenceAndGrace(spec.timeDifference, spec.grace);
  const joined = StreamJoined.with(Serdes.String(), valueSerde, valueSerde);
  const joiner =
    c.joinerWithKey === true
      ? valueJoinerWithKey((key: string, l: V | null, r: V | null) => joinValuesWithKey(key, l, r))
      : (l: V | null, r: V | null): string => joinValues(l, r);
  const out =
    spec.kind === 'inner'
      ? left.join(right, joiner, windows, joined)
      : spec.kind === 'left'
        ? left.leftJoin(right, joiner, windows, joined)
        : left.outerJoin(right, joiner, windows, joined);
  out.to('out', Produced.with(Serdes.String(), Serdes.String()));
  return driveTopics(builder.build({ applicationId: 'differential' }), c, valueSerde, Serdes.String() as Serde<Value>, spec.tick);
}

/** Pipes each record to its topic (`in` or `tbl`) and reads `out` (string keys). */
function driveTopics<V extends Value>(
  topology: Topology,
  c: DifferentialCase,
  valueSerde: Serde<V>,
  valueOut: Serde<Value>,
  tick = false,
): Run {
  const driver = new TopologyTestDriver(topology, { cacheMaxBytes: c.caching === 'off' ? 0 : CACHE_BYTES });
  try {
    const inputs = new Map<string, TestInputTopic<string, V>>();
    const output = driver.createOutputTopic('out', Serdes.String(), valueOut);
    for (const r of c.records) {
      const topic = r.topic ?? 'in';
      let input = inputs.get(topic);
      if (input === undefined) inputs.set(topic, (input = driver.createInputTopic(topic, Serdes.String(), valueSerde)));
      if (tick) driver.advanceWallClockTime(1000);
      input.pipeInput(r.key, r.value as V | null, r.ts);
    }
    const records = output.readRecordsToList().map((r) => ({ key: r.key, value: r.value, ts: r.timestamp }));
    return { records, description: describedAsKafkaStreams(topology) };
  } finally {
    driver.close();
  }
}

/**
 * Our description less two deliberate differences (README, "Limits known today"); everything else must be
 * the same as Kafka Streams':
 * - ours names internal topics with the application id, as the running application names them; Kafka
 *   Streams' `describe()` prints them without it;
 * - `emitStrategy(onWindowClose())` keeps its emit index in a store of its own (`<store>-emit-index`).
 */
function describedAsKafkaStreams(topology: Topology): string {
  let text = topology.describe().toString();
  for (const { name } of topology.internalTopics) {
    const bare = name.slice(`${topology.applicationId}-`.length);
    text = text.replaceAll(`(topic: ${name})`, `(topic: ${bare})`).replaceAll(`[${name}]`, `[${bare}]`);
  }
  return text.replace(/\(stores: \[([^\]]*)\]\)/g, (_all, list: string) => {
    const stores = list.split(', ').filter((name) => !name.endsWith('-emit-index'));
    return `(stores: [${stores.join(', ')}])`;
  });
}

/** `stream('in').to('out')` with no serdes given; input written and output read as UTF-8 strings. */
function runPassthrough(c: DifferentialCase): Run {
  const builder = new StreamsBuilder();
  builder.stream('in').to('out');
  const topology = builder.build({ applicationId: 'differential' });
  const driver = new TopologyTestDriver(topology, { cacheMaxBytes: c.caching === 'off' ? 0 : CACHE_BYTES });
  try {
    const input = driver.createInputTopic('in', Serdes.String(), Serdes.String());
    const output = driver.createOutputTopic('out', Serdes.Buffer(), Serdes.Buffer());
    for (const r of c.records) input.pipeInput(r.key, r.value === null ? null : String(r.value), r.ts);
    const records = output.readRecordsToList().map((r) => ({
      key: r.key === null ? null : r.key.toString('utf8'),
      value: r.value === null ? null : r.value.toString('utf8'),
      ts: r.timestamp,
    }));
    return { records, description: describedAsKafkaStreams(topology) };
  } finally {
    driver.close();
  }
}

/** Runs one case through our TopologyTestDriver. Never throws: a failure is the case's outcome. */
export function runOurs(c: DifferentialCase): CaseOutcome {
  try {
    const run =
      c.topology === 'passthrough'
        ? runPassthrough(c)
        : c.globalStore !== undefined
          ? c.valueType === 'long'
            ? runGlobalStore(c, Serdes.Int64(), LONG_OPS)
            : runGlobalStore(c, Serdes.String(), STRING_OPS)
        : c.topology === 'versioned-store'
          ? runVersionedStoreOps(c, describedAsKafkaStreams)
        : c.topology === 'cogroup'
          ? c.valueType === 'long'
            ? runCogroup(c, Serdes.Int64(), LONG_OPS)
            : runCogroup(c, Serdes.String(), STRING_OPS)
        : c.streamJoin !== undefined
          ? c.valueType === 'long'
            ? runStreamJoin(c, Serdes.Int64())
            : runStreamJoin(c, Serdes.String())
          : c.table !== undefined
          ? c.valueType === 'long'
            ? runTable(c, Serdes.Int64(), LONG_OPS)
            : runTable(c, Serdes.String(), STRING_OPS)
          : c.valueType === 'long'
          ? runAggregate(c, Serdes.Int64(), LONG_OPS)
          : runAggregate(c, Serdes.String(), STRING_OPS);
    return { kind: 'records', records: run.records, description: run.description };
  } catch (error) {
    if (error instanceof Unsupported) return { kind: 'unsupported', reason: error.message };
    const e = error as Error;
    return { kind: 'error', message: `${e.name}: ${e.message}` };
  }
}
