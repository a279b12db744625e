import type { Serde } from '../serdes/serde.js';
import { TopologyError } from '../errors/errors.js';
import { BranchedKStream } from './branched-kstream.js';
import type { InternalBuilder } from './internals/internal-builder.js';
import type { ForeachAction, KeyValueMapper, Predicate, ValueJoiner, ValueMapper } from './internals/processors/functions.js';
import { kstreamKTableJoin, type JoinGrace } from './internals/processors/kstream-ktable-join.js';
import { KTable } from './ktable.js';
import { GlobalKTable } from './global-ktable.js';
import * as ops from './internals/processors/stateless.js';
import { insertRepartition } from './internals/repartition.js';
import { KGroupedStream } from './kgrouped-stream.js';
import { Materialized, Named, type Grouped, type Joined, type Produced, type Repartitioned, type StreamJoined, type TopicNameExtractor } from './options.js';
import { addTableSource } from './internals/processors/ktable-source.js';
import { bufferStore } from './internals/table-store.js';
import type { JoinWindows } from './join-windows.js';
import { joinWindow, listSerde, streamStreamJoin } from './internals/processors/kstream-kstream-join.js';
import type { ProcessorSupplier } from '../processor/processor-api.js';
import type { KeyValue } from '../processor/record.js';

type AnySupplier = ProcessorSupplier<unknown, unknown, unknown, unknown>;
type AnyJoiner = ValueJoiner<unknown, unknown, unknown>;

/**
 * A stream of records. Every operator returns a new stream; nothing runs until the built topology runs.
 * Operators that may change the key (`map`, `selectKey`, `flatMap`, ...) mark the stream for repartitioning:
 * a later grouping writes it through a repartition topic, so that all records of a key meet in one task.
 */
export class KStream<K, V> {
  /** @internal Streams are created by StreamsBuilder and by other streams' operators. */
  constructor(
    private readonly graph: InternalBuilder,
    /** @internal */ readonly nodeName: string,
    /** @internal */ readonly keySerde: Serde<K> | undefined,
    /** @internal */ readonly valueSerde: Serde<V> | undefined,
    /** @internal */ readonly repartitionRequired: boolean,
  ) {}

  private add<KR, VR>(
    prefix: string,
    named: Named | undefined,
    supplier: AnySupplier,
    keySerde: Serde<KR> | undefined,
    valueSerde: Serde<VR> | undefined,
    repartitionRequired: boolean,
    parents: readonly string[] = [this.nodeName],
  ): KStream<KR, VR> {
    const name = this.graph.processorNameFor(named?.name, prefix);
    this.graph.addProcessor({ name, parents, supplier, stores: [] });
    return new KStream<KR, VR>(this.graph, name, keySerde, valueSerde, repartitionRequired);
  }

  /** The records for which `predicate` is true, e.g. `views.filter((userId, view) => view.status < 500)`. */
  filter(predicate: Predicate<K, V>, named?: Named): KStream<K, V> {
    const supplier = ops.filter(predicate as Predicate<unknown, unknown>, true);
    return this.add('KSTREAM-FILTER-', named, supplier, this.keySerde, this.valueSerde, this.repartitionRequired);
  }

  /** The records for which `predicate` is false. */
  filterNot(predicate: Predicate<K, V>, named?: Named): KStream<K, V> {
    const supplier = ops.filter(predicate as Predicate<unknown, unknown>, false);
    return this.add('KSTREAM-FILTER-', named, supplier, this.keySerde, this.valueSerde, this.repartitionRequired);
  }

  /** A new key and value for every record, e.g. `.map((k, v) => ({ key: v.userId, value: v.bytes }))`. The key may change: a later grouping repartitions, and the new types need serdes there. */
  map<KR, VR>(mapper: KeyValueMapper<K, V, KeyValue<KR, VR>>, named?: Named): KStream<KR, VR> {
    const supplier = ops.map(mapper as KeyValueMapper<unknown, unknown, KeyValue<unknown, unknown>>);
    return this.add<KR, VR>('KSTREAM-MAP-', named, supplier, undefined, undefined, true);
  }

  /** A new value for every record, the key kept (so no repartitioning), e.g. `.mapValues((v) => v.toUpperCase())`. */
  mapValues<VR>(mapper: ValueMapper<K, V, VR>, named?: Named): KStream<K, VR> {
    const supplier = ops.mapValues(mapper as ValueMapper<unknown, unknown, unknown>);
    return this.add<K, VR>('KSTREAM-MAPVALUES-', named, supplier, this.keySerde, undefined, this.repartitionRequired);
  }

  /** A new key for every record, the value kept, e.g. `.selectKey((k, view) => view.userId)`; a later grouping repartitions. */
  selectKey<KR>(mapper: KeyValueMapper<K, V, KR>, named?: Named): KStream<KR, V> {
    const supplier = ops.selectKey(mapper as KeyValueMapper<unknown, unknown, unknown>);
    return this.add<KR, V>('KSTREAM-KEY-SELECT-', named, supplier, undefined, this.valueSerde, true);
  }

  /** Zero or more records (new keys and values) for every record; a later grouping repartitions. */
  flatMap<KR, VR>(mapper: KeyValueMapper<K, V, Iterable<KeyValue<KR, VR>>>, named?: Named): KStream<KR, VR> {
    const supplier = ops.flatMap(mapper as KeyValueMapper<unknown, unknown, Iterable<KeyValue<unknown, unknown>>>);
    return this.add<KR, VR>('KSTREAM-FLATMAP-', named, supplier, undefined, undefined, true);
  }

  /** Zero or more values for every record, each with the record's key, e.g. `.flatMapValues((line) => line.split(' '))`. */
  flatMapValues<VR>(mapper: ValueMapper<K, V, Iterable<VR>>, named?: Named): KStream<K, VR> {
    const supplier = ops.flatMapValues(mapper as ValueMapper<unknown, unknown, Iterable<unknown>>);
    return this.add<K, VR>('KSTREAM-FLATMAPVALUES-', named, supplier, this.keySerde, undefined, this.repartitionRequired);
  }

  /** Runs `action` for every record (logging, metrics) and passes the stream on unchanged. */
  peek(action: ForeachAction<K, V>, named?: Named): KStream<K, V> {
    const supplier = ops.peek(action as ForeachAction<unknown, unknown>);
    return this.add('KSTREAM-PEEK-', named, supplier, this.keySerde, this.valueSerde, this.repartitionRequired);
  }

  /** A terminal operation: runs `action` for every record. */
  foreach(action: ForeachAction<K, V>, named?: Named): void {
    this.add('KSTREAM-FOREACH-', named, ops.peek(action as ForeachAction<unknown, unknown>), undefined, undefined, false);
  }

  /** Splits the stream: each record goes to the first branch whose predicate it matches. */
  split(named?: Named): BranchedKStream<K, V> {
    const name = this.graph.processorNameFor(named?.name, 'KSTREAM-BRANCH-');
    return new BranchedKStream<K, V>(this.graph, this, name, named?.name ?? name);
  }

  /** One stream of the records of both, each keeping its own order. */
  merge(other: KStream<K, V>, named?: Named): KStream<K, V> {
    return this.add(
      'KSTREAM-MERGE-',
      named,
      ops.passThrough(),
      this.keySerde ?? other.keySerde,
      this.valueSerde ?? other.valueSerde,
      this.repartitionRequired || other.repartitionRequired,
      [this.nodeName, other.nodeName],
    );
  }

  /** Groups by the current key; repartitions first if an earlier operator may have changed the key. */
  groupByKey(grouped?: Grouped<K, V>): KGroupedStream<K, V> {
    return new KGroupedStream<K, V>(this.graph, this, grouped, this.repartitionRequired);
  }

  /** Groups by a new key computed from each record; always repartitions. */
  groupBy<KR>(selector: KeyValueMapper<K, V, KR>, grouped?: Grouped<KR, V>): KGroupedStream<KR, V> {
    // Kafka Streams' groupBy names its key selector after the Grouped name (KStreamImpl#groupBy).
    const rekeyed = this.selectKey(selector, grouped?.name === undefined ? undefined : Named.as(grouped.name));
    return new KGroupedStream<KR, V>(this.graph, rekeyed, grouped, true);
  }

  /** Writes the stream through a repartition topic now (to spread load, or to co-partition it). */
  repartition(repartitioned?: Repartitioned<K, V>): KStream<K, V> {
    const base = repartitioned?.name ?? this.graph.newProcessorName('KSTREAM-REPARTITION-');
    const keySerde = repartitioned?.keySerde ?? this.keySerde;
    const valueSerde = repartitioned?.valueSerde ?? this.valueSerde;
    const source = insertRepartition(
      this.graph,
      this.nodeName,
      base,
      keySerde,
      valueSerde,
      repartitioned?.numberOfPartitions,
    );
    return new KStream<K, V>(this.graph, source, keySerde, valueSerde, false);
  }

  /** Writes every record to a topic, or to the topic `extractor` picks for it. */
  to(topic: string | TopicNameExtractor<K, V>, produced?: Produced<K, V>): void {
    const name = this.graph.processorNameFor(produced?.processorName, 'KSTREAM-SINK-');
    const who = `Sink ${name}${typeof topic === 'string' ? ` (topic ${topic})` : ''}`;
    const hint = 'pass Produced.with(keySerde, valueSerde) to to()';
    this.graph.addSink({
      name,
      parents: [this.nodeName],
      topic: typeof topic === 'string' ? { name: topic, internal: false } : (topic as TopicNameExtractor<unknown, unknown>),
      keySerde: this.graph.serdeFor('key', who, hint, produced?.keySerde, this.keySerde),
      valueSerde: this.graph.serdeFor('value', who, hint, produced?.valueSerde, this.valueSerde),
      partitioner: produced?.partitioner as ((t: string, k: unknown, v: unknown, n: number) => number | undefined) | undefined,
    });
  }

  /**
   * Joins each record with the table's current value of its key (Kafka Streams' stream-table join): records
   * whose key is not in the table are dropped; table updates emit nothing. A stream whose key may have
   * changed is repartitioned first (`<app>-<name>-repartition`, named after `joined` or this stream).
   *
   * With a stream and JoinWindows: a stream-stream join; each record joins the other stream's records of its
   * key within the windows, whichever arrives second emits the result, stamped with the later timestamp.
   *
   * With a GlobalKTable: each record looks up the row of the key `keySelector(key, value)` selects, and is
   * joined with it (`joiner(value, row, key)`, the stream's key kept); a record whose selected key is null or
   * has no row is dropped. No repartitioning, whatever the stream's key or partition count.
   */
  join<VO, VR>(table: KTable<K, VO>, joiner: ValueJoiner<V, VO, VR, K>, joined?: Joined<K, V, VO>): KStream<K, VR>;
  join<VO, VR>(other: KStream<K, VO>, joiner: ValueJoiner<V, VO, VR, K>, windows: JoinWindows, streamJoined?: StreamJoined<K, V, VO>): KStream<K, VR>;
  join<KG, VG, VR>(globalTable: GlobalKTable<KG, VG>, keySelector: KeyValueMapper<K, V, KG | null>, joiner: ValueJoiner<V, VG, VR, K>, named?: Named): KStream<K, VR>;
  join<VO, VR>(
    other: KTable<K, VO> | KStream<K, VO> | GlobalKTable<unknown, VO>,
    joiner: ValueJoiner<V, VO, VR, K> | KeyValueMapper<K, V, unknown>,
    options?: Joined<K, V, VO> | JoinWindows | ValueJoiner<V, VO, VR, K>,
    streamJoined?: StreamJoined<K, V, VO> | Named,
  ): KStream<K, VR> {
    if (other instanceof GlobalKTable) return this.joinGlobal(other, joiner as KeyValueMapper<K, V, unknown>, options as AnyJoiner, streamJoined as Named | undefined, false);
    if (other instanceof KStream) return this.joinStream(other, joiner as AnyJoiner, options as JoinWindows, streamJoined as StreamJoined<K, V, VO> | undefined, false, false);
    return this.joinTable(other, joiner as ValueJoiner<V, VO, VR, K>, options as Joined<K, V, VO> | undefined, false);
  }

  /**
   * As `join`, but a record whose key is not in the table (or is null) is joined with null. With a stream:
   * a record that found no partner once its window and grace have passed is joined with null then.
   *
   * With a GlobalKTable: a record whose selected key has no row is joined with null. As in Kafka Streams, a
   * record with a key whose selected key is null is dropped, while a record with a null key is joined (with
   * the row of the key selected from it, if any).
   */
  leftJoin<VO, VR>(table: KTable<K, VO>, joiner: ValueJoiner<V, VO | null, VR, K>, joined?: Joined<K, V, VO>): KStream<K, VR>;
  leftJoin<VO, VR>(other: KStream<K, VO>, joiner: ValueJoiner<V, VO | null, VR, K>, windows: JoinWindows, streamJoined?: StreamJoined<K, V, VO>): KStream<K, VR>;
  leftJoin<KG, VG, VR>(globalTable: GlobalKTable<KG, VG>, keySelector: KeyValueMapper<K, V, KG | null>, joiner: ValueJoiner<V, VG | null, VR, K>, named?: Named): KStream<K, VR>;
  leftJoin<VO, VR>(
    other: KTable<K, VO> | KStream<K, VO> | GlobalKTable<unknown, VO>,
    joiner: ValueJoiner<V, VO | null, VR, K> | KeyValueMapper<K, V, unknown>,
    options?: Joined<K, V, VO> | JoinWindows | ValueJoiner<V, VO | null, VR, K>,
    streamJoined?: StreamJoined<K, V, VO> | Named,
  ): KStream<K, VR> {
    if (other instanceof GlobalKTable) return this.joinGlobal(other, joiner as KeyValueMapper<K, V, unknown>, options as AnyJoiner, streamJoined as Named | undefined, true);
    if (other instanceof KStream) return this.joinStream(other, joiner as AnyJoiner, options as JoinWindows, streamJoined as StreamJoined<K, V, VO> | undefined, true, false);
    return this.joinTable(other, joiner as ValueJoiner<V, VO, VR, K>, options as Joined<K, V, VO> | undefined, true);
  }

  /**
   * As KStreamImpl#globalTableJoin: named `KSTREAM-LEFTJOIN-` for both kinds, no store connected (global stores
   * are readable from any processor), and the stream's key and need for repartitioning kept.
   */
  private joinGlobal<VR>(
    table: GlobalKTable<unknown, unknown>,
    keySelector: KeyValueMapper<K, V, unknown>,
    joiner: AnyJoiner,
    named: Named | undefined,
    leftJoin: boolean,
  ): KStream<K, VR> {
    const name = this.graph.processorNameFor(named?.name, 'KSTREAM-LEFTJOIN-');
    const supplier = kstreamKTableJoin(table.getter, joiner, leftJoin, keySelector as KeyValueMapper<unknown, unknown, unknown>);
    this.graph.addProcessor({ name, parents: [this.nodeName], supplier, stores: [], readsGlobalStores: [table.queryableStoreName] });
    return new KStream<K, VR>(this.graph, name, this.keySerde, undefined, this.repartitionRequired);
  }

  /** A stream-stream join where a record of either side without a partner is joined with null once its window has passed. */
  outerJoin<VO, VR>(
    other: KStream<K, VO>,
    joiner: ValueJoiner<V | null, VO | null, VR, K>,
    windows: JoinWindows,
    streamJoined?: StreamJoined<K, V, VO>,
  ): KStream<K, VR> {
    return this.joinStream(other, joiner as AnyJoiner, windows, streamJoined, true, true);
  }

  /** Named and stored as Kafka Streams' KStreamImplJoin names them. */
  private joinStream<VO, VR>(
    other: KStream<K, VO>,
    joiner: AnyJoiner,
    windows: JoinWindows,
    streamJoined: StreamJoined<K, V, VO> | undefined,
    leftOuter: boolean,
    rightOuter: boolean,
  ): KStream<K, VR> {
    const graph = this.graph;
    const named = streamJoined?.name;
    const keepNullKeys = leftOuter || rightOuter;
    const keySerde = (streamJoined?.keySerde ?? this.keySerde ?? other.keySerde) as Serde<unknown> | undefined;
    const repartitioned = <T>(stream: KStream<K, T>, suffix: string, valueSerde: Serde<T> | undefined): KStream<K, T> => {
      if (!stream.repartitionRequired) return stream;
      const base = named !== undefined ? `${named}${suffix}` : stream.nodeName;
      const values = (valueSerde ?? stream.valueSerde) as Serde<unknown> | undefined;
      const source = insertRepartition(graph, stream.nodeName, base, keySerde, values, undefined, keepNullKeys, true);
      return new KStream<K, T>(graph, source, keySerde as Serde<K> | undefined, (valueSerde ?? stream.valueSerde), false);
    };
    const left = repartitioned(this, '-left', streamJoined?.valueSerde);
    const right = repartitioned(other, '-right', streamJoined?.otherValueSerde);
    const thisSuffix = rightOuter ? '-outer-this-join' : '-this-join';
    const otherSuffix = leftOuter ? '-outer-other-join' : '-other-join';
    const leftWindowedName = graph.processorNameFor(named, 'KSTREAM-WINDOWED-', '-this-windowed');
    const rightWindowedName = graph.processorNameFor(named, 'KSTREAM-WINDOWED-', '-other-windowed');
    const thisGenerated = graph.newProcessorName(rightOuter ? 'KSTREAM-OUTERTHIS-' : 'KSTREAM-JOINTHIS-');
    const otherGenerated = graph.newProcessorName(leftOuter ? 'KSTREAM-OUTEROTHER-' : 'KSTREAM-JOINOTHER-');
    const thisName = named !== undefined ? `${named}${thisSuffix}` : thisGenerated;
    const otherName = named !== undefined ? `${named}${otherSuffix}` : otherGenerated;
    const mergeName = graph.processorNameFor(named, 'KSTREAM-MERGE-', '-merge');
    const base = streamJoined?.storeName;
    // As Kafka Streams' StreamJoinedStoreFactory: `<base or generated name>-store`.
    const leftStore = `${base !== undefined ? `${base}${thisSuffix}` : thisGenerated}-store`;
    const rightStore = `${base !== undefined ? `${base}${otherSuffix}` : otherGenerated}-store`;
    const outerStore = !leftOuter
      ? undefined
      : base !== undefined
        ? `${base}${rightOuter ? '-outer-shared-join' : '-left-shared-join'}-store`
        : `KSTREAM-OUTERSHARED-${thisGenerated.slice(thisGenerated.length - 10)}-store`;
    const who = `The stream-stream join ${mergeName}`;
    const hint = 'pass StreamJoined.with(keySerde, valueSerde, otherValueSerde) to the join';
    const keys = graph.serdeFor('key', who, hint, keySerde);
    const leftValues = graph.serdeFor('value', who, hint, (streamJoined?.valueSerde ?? left.valueSerde));
    const rightValues = graph.serdeFor('value', who, hint, (streamJoined?.otherValueSerde ?? right.valueSerde));
    const logging = streamJoined?.loggingEnabled ?? true;
    const windowStore = (name: string, values: Serde<unknown>): void =>
      graph.addStore({
        name,
        type: 'window',
        keySerde: keys,
        valueSerde: listSerde(values),
        persistent: true,
        loggingEnabled: logging,
        changelogConfig: {},
        // As Kafka Streams' StreamJoinedStoreFactory: windows of size before + after, kept size + grace.
        retentionMs: windows.sizeMs + windows.gracePeriodMs,
        windowSizeMs: windows.sizeMs,
        cachingEnabled: false,
      });
    windowStore(leftStore, leftValues);
    windowStore(rightStore, rightValues);
    if (outerStore !== undefined) {
      // Scanned in key order at each emit pass: kept in memory, rebuilt from its changelog.
      graph.addStore(bufferStore(outerStore, logging));
    }
    const sides = streamStreamJoin({
      windows,
      joiner,
      leftOuter,
      rightOuter,
      leftStore,
      rightStore,
      outerStore,
      keySerde: keys,
      leftValueSerde: leftValues,
      rightValueSerde: rightValues,
    });
    graph.addProcessor({ name: leftWindowedName, parents: [left.nodeName], supplier: joinWindow(leftStore), stores: [leftStore] });
    graph.addProcessor({ name: rightWindowedName, parents: [right.nodeName], supplier: joinWindow(rightStore), stores: [rightStore] });
    // Connected as StreamStreamJoinNode#writeToTopology connects them: the other side's window store, then the
    // shared outer store (describe() lists them in that order where their hashes collide).
    const joinStores = outerStore === undefined ? [] : [outerStore];
    graph.addProcessor({ name: thisName, parents: [leftWindowedName], supplier: sides.left, stores: [rightStore, ...joinStores] });
    graph.addProcessor({ name: otherName, parents: [rightWindowedName], supplier: sides.right, stores: [leftStore, ...joinStores] });
    graph.addProcessor({ name: mergeName, parents: [thisName, otherName], supplier: ops.passThrough(), stores: [] });
    graph.addCopartitionGroup(mergeName, [left.nodeName, right.nodeName]);
    return new KStream<K, VR>(graph, mergeName, streamJoined?.keySerde ?? this.keySerde, undefined, false);
  }

  private joinTable<VO, VR>(
    table: KTable<K, VO>,
    joiner: ValueJoiner<V, VO, VR, K>,
    joined: Joined<K, V, VO> | undefined,
    leftJoin: boolean,
  ): KStream<K, VR> {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the stream that joins: this one, or its repartitioned copy
    let stream: KStream<K, V> = this;
    if (this.repartitionRequired) {
      // The key has the table's type: its serde serves the repartition topic when none is given.
      const source = insertRepartition(
        this.graph,
        this.nodeName,
        joined?.name ?? this.nodeName,
        (joined?.keySerde ?? this.keySerde ?? table.keySerde),
        (joined?.valueSerde ?? this.valueSerde),
        undefined,
        leftJoin,
        true,
      );
      stream = new KStream<K, V>(this.graph, source, joined?.keySerde ?? this.keySerde ?? table.keySerde, joined?.valueSerde ?? this.valueSerde, false);
    }
    const name = this.graph.processorNameFor(joined?.name, leftJoin ? 'KSTREAM-LEFTJOIN-' : 'KSTREAM-JOIN-');
    const getter = table.producer.view();
    if (joined?.gracePeriodMs !== undefined) this.checkGraceTable(name, joined.gracePeriodMs, getter.storeNames);
    const grace = joined?.gracePeriodMs === undefined ? undefined : this.graceBuffer(name, joined.gracePeriodMs, stream);
    const supplier = kstreamKTableJoin(getter, joiner as ValueJoiner<unknown, unknown, unknown>, leftJoin, undefined, grace);
    this.graph.addProcessor({ name, parents: [stream.nodeName], supplier, stores: [] });
    for (const store of getter.storeNames) this.graph.connectStore(name, store);
    if (grace !== undefined) this.graph.connectStore(name, grace.storeName);
    this.graph.addCopartitionGroup(name, [stream.nodeName, table.nodeName]);
    return new KStream<K, VR>(this.graph, name, joined?.keySerde ?? stream.keySerde, undefined, false);
  }

  /**
   * A grace period needs a versioned table whose history reaches back at least the grace period, as Kafka
   * Streams checks when it builds the topology (StreamTableJoinNode#writeToTopology).
   */
  private checkGraceTable(name: string, graceMs: number, storeNames: readonly string[]): void {
    for (const storeName of storeNames) {
      const store = this.graph.stores.get(storeName);
      if (store?.type !== 'versioned') {
        throw new TopologyError(
          `Join ${name}: KTable must be versioned to use a grace period in a stream table join: materialize it with Stores.persistentVersionedKeyValueStore.`,
        );
      }
      if (graceMs > (store.historyRetentionMs ?? 0)) {
        throw new TopologyError(
          `Join ${name}: History retention must be at least grace period: the grace period is ${graceMs} ms, the history retention of store '${storeName}' ${store.historyRetentionMs} ms.`,
        );
      }
    }
  }

  /** The grace buffer store `<name>-Buffer` of a stream-table join, as Kafka Streams names it. */
  private graceBuffer(name: string, graceMs: number, stream: KStream<K, V>): JoinGrace {
    if (stream.keySerde === undefined || stream.valueSerde === undefined) {
      throw new TopologyError(
        `Join ${name}: a grace period buffers the stream's records, so their serdes must be known: give Joined.with(keySerde, valueSerde).withGracePeriod(...) or read the stream with serdes.`,
      );
    }
    const storeName = `${name}-Buffer`;
    this.graph.addStore(bufferStore(storeName));
    return { graceMs, storeName, keySerde: stream.keySerde, valueSerde: stream.valueSerde };
  }

  /**
   * This stream read as a table: the latest value per key, a null value deleting its key (Kafka Streams'
   * `toTable`). Null keys are dropped. A stream whose key may have changed is repartitioned first
   * (`<app>-<name>-repartition`). With a store name in `materialized` the table is kept in that store.
   */
  toTable(named?: Named | Materialized<K, V>, materialized?: Materialized<K, V>): KTable<K, V> {
    const graph = this.graph;
    const given = named instanceof Named ? named : undefined;
    const m = named instanceof Materialized ? named : materialized;
    const name = graph.processorNameFor(given?.name, 'KSTREAM-TOTABLE-');
    const storeName = m?.storeName ?? graph.newStoreName('KSTREAM-TOTABLE-');
    const who = `The table ${name} of a stream`;
    const hint = 'pass Materialized.with(keySerde, valueSerde) to toTable()';
    const keySerde = graph.serdeFor('key', who, hint, (m?.keySerde ?? this.keySerde));
    const valueSerde = graph.serdeFor('value', who, hint, (m?.valueSerde ?? this.valueSerde));
    const parent = this.repartitionRequired ? insertRepartition(graph, this.nodeName, name, keySerde, valueSerde, undefined, false, true) : this.nodeName;
    const producer = addTableSource(graph, parent, name, storeName, m, keySerde, valueSerde);
    return new KTable<K, V>(graph, name, keySerde as Serde<K>, valueSerde as Serde<V>, producer);
  }

  /**
   * Runs a Processor API processor on every record; it may use the named stores (added with
   * `builder.addStateStore`) and forwards its own output.
   */
  process<KOut, VOut>(supplier: ProcessorSupplier<K, V, KOut, VOut>, ...storeNames: string[]): KStream<KOut, VOut> {
    const name = this.graph.newProcessorName('KSTREAM-PROCESSOR-');
    this.graph.addProcessor({ name, parents: [this.nodeName], supplier: supplier, stores: [] });
    for (const store of storeNames) this.graph.connectStore(name, store);
    return new KStream<KOut, VOut>(this.graph, name, undefined, undefined, true);
  }
}
