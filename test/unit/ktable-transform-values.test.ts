import { describe, expect, it } from 'vitest';
import {
  Consumed,
  Materialized,
  Named,
  Produced,
  Serdes,
  Stores,
  StreamsBuilder,
  TopologyTestDriver,
  type KeyValueStore,
  type ValueTransformerWithKey,
} from '../../src/index.js';

const S = Serdes.String();
const N = Serdes.Int64();

/** Numbers each value of a key with how many values the key had so far, in a store of its own. */
const numbering = (): ValueTransformerWithKey<string, string, string> => {
  let seen!: KeyValueStore<string, number>;
  return {
    init: (context) => {
      seen = context.getStateStore('seen');
    },
    transform: (key, value) => {
      if (value === null) return null; // a deletion stays one
      const n = (seen.get(key) ?? 0) + 1;
      seen.put(key, n);
      return `${value}#${n}`;
    },
  };
};

describe('KTable.transformValues', () => {
  it('transforms every change with a stateful transformer, its stores given by name; deletions reach it as null', () => {
    const builder = new StreamsBuilder();
    builder.addStateStore(Stores.keyValueStore('seen', S, N));
    builder
      .table('in', Consumed.with(S, S))
      .transformValues(numbering, Named.as('numbered'), 'seen')
      .toStream()
      .to('out', Produced.with(S, S));
    const topology = builder.build({ applicationId: 'transform-values' });
    expect(topology.describe().toString()).toContain('Processor: numbered (stores: [seen])');
    const driver = new TopologyTestDriver(topology);
    const input = driver.createInputTopic('in', S, S);
    input.pipeInput('a', 'x', 1);
    input.pipeInput('a', 'y', 2);
    input.pipeInput('b', 'z', 3);
    input.pipeInput('a', null, 4);
    expect(driver.createOutputTopic('out', S, S).readRecordsToList().map((r) => [r.key, r.value, r.timestamp])).toEqual([
      ['a', 'x#1', 1],
      ['a', 'y#2', 2],
      ['b', 'z#1', 3],
      ['a', null, 4],
    ]);
    expect(driver.getKeyValueStore<string, number>('seen').get('a')).toBe(2);
  });

  it('keeps its results in a store when materialized with a name, and joins read them', () => {
    const builder = new StreamsBuilder();
    const upper = builder
      .table('in', Consumed.with(S, S))
      .transformValues(() => ({ transform: (_key: string, value: string | null) => value?.toUpperCase() ?? null }), Materialized.as<string, string | null>('upper').withValueSerde(S));
    builder
      .stream('lookups', Consumed.with(S, S))
      .join(upper, (lookup, value) => `${lookup}=${value}`)
      .to('out', Produced.with(S, S));
    const driver = new TopologyTestDriver(builder.build({ applicationId: 'transform-values-stored' }));
    driver.createInputTopic('in', S, S).pipeInput('a', 'x', 1);
    driver.createInputTopic('lookups', S, S).pipeInput('a', 'q', 2);
    expect(driver.getKeyValueStore<string, string>('upper').get('a')).toBe('X');
    expect(driver.createOutputTopic('out', S, S).readKeyValuesToList()).toEqual([{ key: 'a', value: 'q=X' }]);
  });

  it('reads through a transformer of its own when a join looks up an unmaterialized result', () => {
    const builder = new StreamsBuilder();
    const upper = builder
      .table('in', Consumed.with(S, S), Materialized.as('source'))
      .transformValues(() => ({ transform: (_key: string, value: string | null) => (value === null ? null : `${value}!`) }));
    builder
      .stream('lookups', Consumed.with(S, S))
      .leftJoin(upper, (lookup, value) => `${lookup}=${value}`)
      .to('out', Produced.with(S, S));
    const driver = new TopologyTestDriver(builder.build({ applicationId: 'transform-values-getter' }));
    driver.createInputTopic('in', S, S).pipeInput('a', 'x', 1);
    const lookups = driver.createInputTopic('lookups', S, S);
    lookups.pipeInput('a', 'q', 2);
    lookups.pipeInput('b', 'q', 3);
    expect(driver.createOutputTopic('out', S, S).readKeyValuesToList()).toEqual([
      { key: 'a', value: 'q=x!' },
      { key: 'b', value: 'q=null' },
    ]);
  });
});
