import { describe, expect, it } from 'vitest';
import {
  Consumed,
  Grouped,
  Materialized,
  Named,
  Produced,
  Serdes,
  SessionWindows,
  SlidingWindows,
  StreamsBuilder,
  TimeWindows,
} from '../../src/index.js';

const S = Serdes.String();

/**
 * The same topology as one built with Kafka Streams 3.9.1 (its Java DSL, the same calls in the same order):
 * its describe() gave the node lines below. What they pin down: a `Named` still takes an index (Kafka
 * Streams' NamedInternal "burns" one), `count(Materialized)` takes one more before its store on grouped
 * streams and time and session windows (not sliding ones, not grouped tables), a grouped table's named
 * aggregation names its repartition sink and source `<name>-sink` / `<name>-source`, and its reduce's store
 * is a `KTABLE-AGGREGATE-STATE-STORE`.
 */
const KAFKA_STREAMS_NODES = [
    'Processor: KSTREAM-AGGREGATE-0000000003 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000002])',
    'Processor: KSTREAM-AGGREGATE-0000000023 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000022])',
    'Processor: KSTREAM-AGGREGATE-0000000028 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000027])',
    'Processor: KSTREAM-AGGREGATE-0000000030 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000029])',
    'Processor: KSTREAM-KEY-SELECT-0000000054 (stores: [])',
    'Processor: KSTREAM-KEY-SELECT-0000000057 (stores: [])',
    'Processor: KTABLE-REDUCE-0000000048 (stores: [KTABLE-AGGREGATE-STATE-STORE-0000000045])',
    'Processor: KTABLE-SELECT-0000000036 (stores: [])',
    'Processor: KTABLE-SOURCE-0000000035 (stores: [tbl-STATE-STORE-0000000033])',
    'Processor: KTABLE-TOSTREAM-0000000004 (stores: [])',
    'Processor: KTABLE-TOSTREAM-0000000008 (stores: [])',
    'Processor: KTABLE-TOSTREAM-0000000012 (stores: [])',
    'Processor: KTABLE-TOSTREAM-0000000016 (stores: [])',
    'Processor: KTABLE-TOSTREAM-0000000053 (stores: [])',
    'Processor: agg (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000014])',
    'Processor: cnt (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000006])',
    'Processor: red (stores: [KSTREAM-REDUCE-STATE-STORE-0000000010])',
    'Processor: slagg (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000031])',
    'Processor: sred (stores: [KSTREAM-REDUCE-STATE-STORE-0000000024])',
    'Processor: tagg (stores: [KTABLE-AGGREGATE-STATE-STORE-0000000049])',
    'Processor: tcnt (stores: [KTABLE-AGGREGATE-STATE-STORE-0000000037])',
    'Processor: tred (stores: [KTABLE-AGGREGATE-STATE-STORE-0000000041])',
    'Processor: ts (stores: [])',
    'Processor: wcnt (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000019])',
    'Sink: KSTREAM-SINK-0000000005 (topic: out1)',
    'Sink: KSTREAM-SINK-0000000009 (topic: out2)',
    'Sink: KSTREAM-SINK-0000000013 (topic: out3)',
    'Sink: KSTREAM-SINK-0000000017 (topic: out4)',
    'Sink: KSTREAM-SINK-0000000046 (topic: KTABLE-AGGREGATE-STATE-STORE-0000000045-repartition)',
    'Sink: KSTREAM-SINK-0000000055 (topic: out5)',
    'Sink: KSTREAM-SINK-0000000058 (topic: out6)',
    'Sink: tagg-sink (topic: KTABLE-AGGREGATE-STATE-STORE-0000000049-repartition)',
    'Sink: tcnt-sink (topic: KTABLE-AGGREGATE-STATE-STORE-0000000037-repartition)',
    'Sink: tred-sink (topic: KTABLE-AGGREGATE-STATE-STORE-0000000041-repartition)',
    'Source: KSTREAM-SOURCE-0000000000 (topics: [in])',
    'Source: KSTREAM-SOURCE-0000000034 (topics: [tbl])',
    'Source: KSTREAM-SOURCE-0000000047 (topics: [KTABLE-AGGREGATE-STATE-STORE-0000000045-repartition])',
    'Source: tagg-source (topics: [KTABLE-AGGREGATE-STATE-STORE-0000000049-repartition])',
    'Source: tcnt-source (topics: [KTABLE-AGGREGATE-STATE-STORE-0000000037-repartition])',
    'Source: tred-source (topics: [KTABLE-AGGREGATE-STATE-STORE-0000000041-repartition])',
];

describe('Named overloads of count, reduce and aggregate', () => {
  it('name processors, stores and repartition topics as Kafka Streams 3.9.1 does', () => {
    const builder = new StreamsBuilder({ defaultKeySerde: S, defaultValueSerde: S });
    const grouped = builder.stream('in', Consumed.with(S, S)).groupByKey();
    grouped.count(Materialized.with(S, Serdes.Int64())).toStream().to('out1', Produced.with(S, Serdes.Int64()));
    grouped.count(Named.as('cnt')).toStream().to('out2', Produced.with(S, Serdes.Int64()));
    grouped.reduce((x, y) => x + y, Named.as('red'), Materialized.with(S, S)).toStream().to('out3');
    grouped.aggregate(() => '', (_k, v, agg) => agg + v, Named.as('agg'), Materialized.with(S, S)).toStream().to('out4');
    grouped.windowedBy(TimeWindows.ofSizeWithNoGrace(10)).count(Named.as('wcnt'), Materialized.with(S, Serdes.Int64()));
    grouped.windowedBy(TimeWindows.ofSizeWithNoGrace(10)).count(Materialized.with(S, Serdes.Int64()));
    grouped.windowedBy(SessionWindows.ofInactivityGapWithNoGrace(10)).reduce((x, y) => x + y, Named.as('sred'));
    grouped.windowedBy(SessionWindows.ofInactivityGapWithNoGrace(10)).count(Materialized.with(S, Serdes.Int64()));
    grouped.windowedBy(SlidingWindows.ofTimeDifferenceWithNoGrace(10)).count(Materialized.with(S, Serdes.Int64()));
    grouped
      .windowedBy(SlidingWindows.ofTimeDifferenceWithNoGrace(10))
      .aggregate(() => '', (_k, v, agg) => agg + v, Named.as('slagg'), Materialized.with(S, S));
    const table = builder.table('tbl', Consumed.with(S, S));
    const byValue = table.groupBy((_k, v) => ({ key: v, value: v }), Grouped.with(S, S));
    byValue.count(Named.as('tcnt'));
    byValue.reduce((x, y) => x + y, (x) => x, Named.as('tred'), Materialized.with(S, S));
    byValue.reduce((x, y) => x + y, (x) => x);
    byValue.aggregate(() => '', (_k, v, agg) => agg + v, (_k, _v, agg) => agg, Named.as('tagg'), Materialized.with(S, S));
    table.toStream((k, v) => v + k).to('out5');
    table.toStream((k, v) => v + k, Named.as('ts')).to('out6');

    const text = builder.build({ applicationId: 'x' }).describe().toString();
    // Ours names internal topics with the application id, as the running application does.
    const nodes = text
      .split('\n')
      .filter((line) => /^\s+(Source|Processor|Sink):/.test(line))
      .map((line) => line.trim().replaceAll('x-KTABLE', 'KTABLE'))
      .sort();
    expect(nodes).toEqual(KAFKA_STREAMS_NODES);
  });

  it('take three indexes for an aggregation\'s repartition, naming it by index after a generated store (Kafka Streams 3.9.1)', () => {
    const builder = new StreamsBuilder({ defaultKeySerde: S, defaultValueSerde: S });
    const rekeyed = builder.stream('in', Consumed.with(S, S)).selectKey((_k, v) => v);
    rekeyed.groupByKey().count().toStream().to('out', Produced.with(S, Serdes.Int64()));
    rekeyed.groupByKey().windowedBy(SessionWindows.ofInactivityGapWithNoGrace(5)).reduce((x, y) => x + y, Materialized.as('sess')).toStream().to('out2');
    const nodes = builder
      .build({ applicationId: 'h' })
      .describe()
      .toString()
      .split('\n')
      .filter((line) => /^\s+(Source|Processor|Sink):/.test(line))
      .map((line) => line.trim().replaceAll('h-', ''));
    // Kafka Streams 3.9.1's describe() of the same topology, node lines in its order.
    expect(nodes).toEqual([
      'Source: KSTREAM-SOURCE-0000000000 (topics: [in])',
      'Processor: KSTREAM-KEY-SELECT-0000000001 (stores: [])',
      'Processor: KSTREAM-FILTER-0000000005 (stores: [])',
      'Processor: sess-repartition-filter (stores: [])',
      'Sink: KSTREAM-SINK-0000000004 (topic: KSTREAM-AGGREGATE-STATE-STORE-0000000002-repartition)',
      'Sink: sess-repartition-sink (topic: sess-repartition)',
      'Source: KSTREAM-SOURCE-0000000006 (topics: [KSTREAM-AGGREGATE-STATE-STORE-0000000002-repartition])',
      'Processor: KSTREAM-AGGREGATE-0000000003 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000002])',
      'Processor: KTABLE-TOSTREAM-0000000007 (stores: [])',
      'Sink: KSTREAM-SINK-0000000008 (topic: out)',
      'Source: sess-repartition-source (topics: [sess-repartition])',
      'Processor: KSTREAM-REDUCE-0000000009 (stores: [sess])',
      'Processor: KTABLE-TOSTREAM-0000000013 (stores: [])',
      'Sink: KSTREAM-SINK-0000000014 (topic: out2)',
    ]);
  });

  it('name a stream groupBy\'s key selector after its Grouped name', () => {
    const builder = new StreamsBuilder();
    builder.stream('in', Consumed.with(S, S)).groupBy((_k, v) => v, Grouped.with(S, S).withName('by-value')).count();
    expect(builder.build({ applicationId: 'g' }).describe().toString()).toContain('Processor: by-value (stores: [])');
  });

  it('keep the Materialized-only forms working', () => {
    const builder = new StreamsBuilder();
    const grouped = builder.stream('in', Consumed.with(S, S)).groupByKey();
    grouped.count(Materialized.as('counts'));
    grouped.reduce((x, y) => x + y, Materialized.as('reduced'));
    const text = builder.build({ applicationId: 'y' }).describe().toString();
    expect(text).toContain('Processor: KSTREAM-AGGREGATE-0000000001 (stores: [counts])');
    expect(text).toContain('Processor: KSTREAM-REDUCE-0000000002 (stores: [reduced])');
  });
});
