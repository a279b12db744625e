import { describe, expect, it } from 'vitest';
import { Consumed, Grouped, Materialized, Named, Produced, Serdes, StreamsBuilder, TopologyTestDriver } from '../../src/index.js';

const S = Serdes.String();

function cogrouped(cacheMaxBytes = 0) {
  const builder = new StreamsBuilder();
  const clicks = builder.stream('clicks', Consumed.with(S, S)).groupByKey();
  const views = builder.stream('views', Consumed.with(S, S)).groupByKey();
  builder
    .stream('buys', Consumed.with(S, S))
    .selectKey((_k, v) => v.split(':')[0]!) // re-keyed: repartitioned before the cogroup
    .groupByKey(Grouped.with(S, S).withName('buys-by-user'))
    .cogroup<string>((_k, _v, agg) => `${agg}b`)
    .cogroup(clicks, (_k, _v, agg) => `${agg}c`)
    .cogroup(views, (_k, _v, agg) => `${agg}v`)
    .aggregate(() => '', Named.as('profile'), Materialized.as<string, string>('profiles').withValueSerde(S))
    .toStream()
    .to('out', Produced.with(S, S));
  const topology = builder.build({ applicationId: 'cogroup' });
  const driver = new TopologyTestDriver(topology, { cacheMaxBytes });
  return { topology, driver };
}

describe('KGroupedStream.cogroup', () => {
  it('folds every stream into one aggregate per key, each with its own aggregator, forwarding each update', () => {
    const { driver } = cogrouped();
    driver.createInputTopic('clicks', S, S).pipeInput('u1', 'x', 1);
    driver.createInputTopic('views', S, S).pipeInput('u1', 'x', 2);
    driver.createInputTopic('views', S, S).pipeInput('u2', 'x', 3);
    driver.createInputTopic('buys', S, S).pipeInput(null, 'u1:book', 4);
    driver.createInputTopic('clicks', S, S).pipeInput('u1', null, 5); // a null value is dropped
    expect(driver.createOutputTopic('out', S, S).readRecordsToList().map((r) => [r.key, r.value, r.timestamp])).toEqual([
      ['u1', 'c', 1],
      ['u1', 'cv', 2],
      ['u2', 'v', 3],
      ['u1', 'cvb', 4],
    ]);
    expect(driver.getKeyValueStore<string, string>('profiles').get('u1')).toBe('cvb');
  });

  it('names processors, store and repartition topics as Kafka Streams 3.9.1 does', () => {
    // The node lines of describe() for the same topology built with Kafka Streams 3.9.1's Java DSL (a named
    // cogroup of three streams, one re-keyed; an unnamed one of two, the first re-keyed without a name).
    const kafkaStreams = [
    'Processor: COGROUPKSTREAM-AGGREGATE-0000000019 (stores: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000015])',
    'Processor: COGROUPKSTREAM-AGGREGATE-0000000020 (stores: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000015])',
    'Processor: COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000015-repartition-filter (stores: [])',
    'Processor: COGROUPKSTREAM-MERGE-0000000021 (stores: [])',
    'Processor: KSTREAM-KEY-SELECT-0000000003 (stores: [])',
    'Processor: KSTREAM-KEY-SELECT-0000000014 (stores: [])',
    'Processor: KTABLE-TOSTREAM-0000000011 (stores: [])',
    'Processor: KTABLE-TOSTREAM-0000000022 (stores: [])',
    'Processor: buys-by-user-repartition-filter (stores: [])',
    'Processor: profile-cogroup-agg-0 (stores: [profiles])',
    'Processor: profile-cogroup-agg-1 (stores: [profiles])',
    'Processor: profile-cogroup-agg-2 (stores: [profiles])',
    'Processor: profile-cogroup-merge (stores: [])',
    'Sink: COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000015-repartition-sink (topic: COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000015-repartition)',
    'Sink: KSTREAM-SINK-0000000012 (topic: out)',
    'Sink: KSTREAM-SINK-0000000023 (topic: out2)',
    'Sink: buys-by-user-repartition-sink (topic: buys-by-user-repartition)',
    'Source: COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000015-repartition-source (topics: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000015-repartition])',
    'Source: KSTREAM-SOURCE-0000000000 (topics: [clicks])',
    'Source: KSTREAM-SOURCE-0000000001 (topics: [views])',
    'Source: KSTREAM-SOURCE-0000000002 (topics: [buys])',
    'Source: KSTREAM-SOURCE-0000000013 (topics: [x])',
    'Source: buys-by-user-repartition-source (topics: [buys-by-user-repartition])',
    ];
    const builder = new StreamsBuilder({ defaultKeySerde: S, defaultValueSerde: S });
    const clicks = builder.stream('clicks', Consumed.with(S, S)).groupByKey();
    const views = builder.stream('views', Consumed.with(S, S)).groupByKey();
    builder
      .stream('buys', Consumed.with(S, S))
      .selectKey((_k, v) => v.split(':')[0]!)
      .groupByKey(Grouped.with(S, S).withName('buys-by-user'))
      .cogroup<string>((_k, _v, agg) => `${agg}b`)
      .cogroup(clicks, (_k, _v, agg) => `${agg}c`)
      .cogroup(views, (_k, _v, agg) => `${agg}v`)
      .aggregate(() => '', Named.as('profile'), Materialized.as<string, string>('profiles').withValueSerde(S))
      .toStream()
      .to('out');
    const rekeyed = builder.stream('x', Consumed.with(S, S)).selectKey((_k, v) => v).groupByKey();
    rekeyed.cogroup<string>((_k, _v, agg) => `${agg}b`).cogroup(clicks, (_k, _v, agg) => agg).aggregate(() => '').toStream().to('out2');
    const nodes = builder
      .build({ applicationId: 'cogroup' })
      .describe()
      .toString()
      .split('\n')
      .filter((line) => /^\s+(Source|Processor|Sink):/.test(line))
      // Ours names internal topics with the application id, as the running application does.
      .map((line) => line.trim().replaceAll('cogroup-COGROUP', 'COGROUP').replaceAll('cogroup-buys', 'buys'))
      .sort();
    expect(nodes).toEqual(kafkaStreams);
  });

  it('forwards through the store cache when it caches: one update per key per commit', () => {
    const { driver } = cogrouped(1 << 20);
    driver.createInputTopic('clicks', S, S).pipeInput('u1', 'x', 1);
    expect(driver.createOutputTopic('out', S, S).readKeyValuesToList()).toEqual([{ key: 'u1', value: 'c' }]);
  });
});
