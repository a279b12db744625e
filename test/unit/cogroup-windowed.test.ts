import { describe, expect, it } from 'vitest';
import {
  Consumed,
  Materialized,
  Named,
  Produced,
  Serdes,
  SessionWindows,
  SlidingWindows,
  StreamsBuilder,
  TimeWindows,
  TopologyTestDriver,
  type KGroupedStream,
} from '../../src/index.js';

const S = Serdes.String();

/** Two grouped streams, `clicks` and `views`, of one builder. */
function streams() {
  const builder = new StreamsBuilder();
  const clicks = builder.stream('clicks', Consumed.with(S, S)).groupByKey();
  const views = builder.stream('views', Consumed.with(S, S)).groupByKey();
  return { builder, clicks, views };
}

function cogrouped(clicks: KGroupedStream<string, string>, views: KGroupedStream<string, string>) {
  return clicks.cogroup<string>((_k, _v, agg) => `${agg}c`).cogroup(views, (_k, _v, agg) => `${agg}v`);
}

/** Runs the topology and returns `out`'s records as `[key@start-end, value, timestamp]`. */
function run(builder: StreamsBuilder, inputs: ReadonlyArray<readonly ['clicks' | 'views', string, number]>) {
  const driver = new TopologyTestDriver(builder.build({ applicationId: 'cogroup-windowed' }), { cacheMaxBytes: 0 });
  const topics = { clicks: driver.createInputTopic('clicks', S, S), views: driver.createInputTopic('views', S, S) };
  for (const [topic, key, t] of inputs) topics[topic].pipeInput(key, 'x', t);
  const out = driver.createOutputTopic('out', S, S).readRecordsToList().map((r) => [r.key, r.value, r.timestamp]);
  return { driver, out };
}

describe('CogroupedKStream.windowedBy', () => {
  it('time windows: each stream folds into the window of its record, one store; late is by the stream\'s own time', () => {
    const { builder, clicks, views } = streams();
    cogrouped(clicks, views)
      .windowedBy(TimeWindows.ofSizeWithNoGrace(10))
      .aggregate(() => '', Materialized.as<string, string>('per-window').withValueSerde(S).withRetention(100))
      .toStream((k) => `${k.key}@${k.window.start}-${k.window.end}`)
      .to('out', Produced.with(S, S));
    const { driver, out } = run(builder, [
      ['clicks', 'u1', 1],
      ['views', 'u1', 5],
      ['clicks', 'u1', 12], // the next window
      // As in Kafka Streams, each stream's processor keeps its own observed time: `views` has seen 5 only, so
      // [0, 10) is still open for it; `clicks` has seen 12, so [0, 10) is closed for it and the record is late.
      ['views', 'u1', 3],
      ['clicks', 'u1', 4],
    ]);
    expect(out).toEqual([
      ['u1@0-10', 'c', 1],
      ['u1@0-10', 'cv', 5],
      ['u1@10-20', 'c', 12],
      ['u1@0-10', 'cvv', 5],
    ]);
    expect(driver.getWindowStore<string, string>('per-window').fetch('u1', 0)).toBe('cvv');
  });

  it('sliding windows: the windows a record of either stream creates or updates', () => {
    const { builder, clicks, views } = streams();
    cogrouped(clicks, views)
      .windowedBy(SlidingWindows.ofTimeDifferenceWithNoGrace(10))
      .aggregate(() => '', Materialized.with(S, S))
      .toStream((k) => `${k.key}@${k.window.start}-${k.window.end}`)
      .to('out', Produced.with(S, S));
    const { out } = run(builder, [
      ['clicks', 'u1', 20],
      ['views', 'u1', 25],
    ]);
    expect(out).toEqual([
      ['u1@10-20', 'c', 20],
      ['u1@21-31', 'v', 25],
      ['u1@15-25', 'cv', 25],
    ]);
  });

  it('session windows: a record of one stream merges the sessions of the other with the merger', () => {
    const { builder, clicks, views } = streams();
    cogrouped(clicks, views)
      .windowedBy(SessionWindows.ofInactivityGapAndGrace(5, 10))
      .aggregate(
        () => '',
        (_k, a, b) => `${a}+${b}`,
        Named.as('visits'),
        Materialized.as<string, string>('sessions').withValueSerde(S),
      )
      .toStream((k) => `${k.key}@${k.window.start}-${k.window.end}`)
      .to('out', Produced.with(S, S));
    const { driver, out } = run(builder, [
      ['clicks', 'u1', 0],
      ['views', 'u1', 10],
      ['clicks', 'u1', 5], // joins both sessions
    ]);
    expect(out).toEqual([
      ['u1@0-0', 'c', 0],
      ['u1@10-10', 'v', 10],
      ['u1@0-0', null, 0], // the merged sessions' tombstones
      ['u1@10-10', null, 10],
      ['u1@0-10', '+c+vc', 10], // initializer, merged with each session in time order, then the record
    ]);
    expect(driver.getSessionStore<string, string>('sessions').fetch('u1').map((s) => [s.key.window.start, s.key.window.end, s.value])).toEqual([
      [0, 10, '+c+vc'],
    ]);
  });

  it('names the store and processors as Kafka Streams 3.9.1 (CogroupedStreamAggregateBuilder)', () => {
    const { builder, clicks, views } = streams();
    cogrouped(clicks, views)
      .windowedBy(TimeWindows.ofSizeWithNoGrace(10))
      .aggregate(() => '', Materialized.with(S, S))
      .toStream((k) => k.key)
      .to('out', Produced.with(S, S));
    cogrouped(clicks, views)
      .windowedBy(SessionWindows.ofInactivityGapWithNoGrace(5))
      .aggregate(() => '', (_k, a, b) => a + b, Named.as('visits'), Materialized.with(S, S))
      .toStream((k) => k.key)
      .to('out2', Produced.with(S, S));
    const nodes = builder
      .build({ applicationId: 'cogroup-windowed' })
      .describe()
      .toString()
      .split('\n')
      .filter((line) => /^\s+Processor:/.test(line))
      .map((line) => line.trim())
      .sort();
    expect(nodes).toEqual([
      'Processor: COGROUPKSTREAM-AGGREGATE-0000000003 (stores: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000002])',
      'Processor: COGROUPKSTREAM-AGGREGATE-0000000004 (stores: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000002])',
      'Processor: COGROUPKSTREAM-MERGE-0000000005 (stores: [])',
      'Processor: KSTREAM-KEY-SELECT-0000000007 (stores: [])',
      'Processor: KSTREAM-KEY-SELECT-0000000014 (stores: [])',
      'Processor: KTABLE-TOSTREAM-0000000006 (stores: [])',
      'Processor: KTABLE-TOSTREAM-0000000013 (stores: [])',
      // A Named still takes an index per processor (NamedInternal#suffixWithOrElseGet).
      'Processor: visits-cogroup-agg-0 (stores: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000009])',
      'Processor: visits-cogroup-agg-1 (stores: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000009])',
      'Processor: visits-cogroup-merge (stores: [])',
    ]);
  });

  it('refuses a store retention shorter than the windows need', () => {
    const { builder, clicks, views } = streams();
    cogrouped(clicks, views)
      .windowedBy(TimeWindows.ofSizeAndGrace(10, 5))
      .aggregate(() => '', Materialized.as<string, string>('short').withValueSerde(S).withRetention(12));
    expect(() => builder.build({ applicationId: 'cogroup-windowed' })).toThrow(/'short' keeps data for 12 ms.*raise withRetention/s);
  });
});
