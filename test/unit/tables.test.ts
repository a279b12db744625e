import { describe, expect, it } from 'vitest';
import { Consumed, Materialized, Produced, Serdes, StreamsBuilder, Suppressed, TopologyTestDriver, type KTable } from '../../src/index.js';

const S = Serdes.String();

/** A table of topic 'in' (String/String), its chain written to 'out'; returns the input and the output. */
function table(define: (t: KTable<string, string>) => KTable<string, string>, materialized?: Materialized<string, string>, cacheMaxBytes = 0) {
  const builder = new StreamsBuilder();
  define(builder.table('in', Consumed.with(S, S), materialized)).toStream().to('out', Produced.with(S, S));
  const topology = builder.build({ applicationId: 'tables' });
  const driver = new TopologyTestDriver(topology, { cacheMaxBytes });
  const input = driver.createInputTopic('in', S, S);
  const output = driver.createOutputTopic('out', S, S);
  const out = () => output.readRecordsToList().map((r) => [r.key, r.value, r.timestamp]);
  return { driver, input, out, topology };
}

describe('builder.table', () => {
  it('forwards every update, and a tombstone even for an absent key, when not materialized', () => {
    const { input, out, topology } = table((t) => t);
    expect(topology.stores.size).toBe(0);
    input.pipeInput('a', '1', 5);
    input.pipeInput('a', '2', 3);
    input.pipeInput('b', null, 7);
    input.pipeInput(null, 'x', 8);
    expect(out()).toEqual([['a', '1', 5], ['a', '2', 3], ['b', null, 7]]);
  });

  it('keeps the latest value per key in its store; a tombstone deletes; the cache forwards only real changes', () => {
    const { driver, input, out } = table((t) => t, Materialized.as('tbl'), 1024 * 1024);
    input.pipeInput('a', '1', 5);
    input.pipeInput('b', null, 6); // nothing to delete: not forwarded through the cache
    input.pipeInput('a', null, 9);
    expect(out()).toEqual([['a', '1', 5], ['a', null, 9]]);
    input.pipeInput('c', '3', 10);
    expect(driver.getKeyValueStore<string, string>('tbl').get('c')).toBe('3');
    expect(driver.getKeyValueStore<string, string>('tbl').get('a')).toBeUndefined();
  });

  it('filter turns a rejected value into a deletion; on a materialized table, only of a key that passed before', () => {
    const plain = table((t) => t.filter((_k, v) => v !== 'x'));
    plain.input.pipeInput('a', 'x', 1);
    expect(plain.out()).toEqual([['a', null, 1]]);
    const materialized = table((t) => t.filter((_k, v) => v !== 'x'), Materialized.as('tbl'));
    materialized.input.pipeInput('a', 'x', 1);
    materialized.input.pipeInput('a', 'y', 2);
    materialized.input.pipeInput('a', 'x', 3);
    expect(materialized.out()).toEqual([['a', 'y', 2], ['a', null, 3]]);
  });

  it('mapValues and filterNot chain; describe() shows the table source and its store', () => {
    const { input, out, topology } = table((t) => t.filterNot((_k, v) => v === 'x').mapValues((v, k) => `${k}:${v}`), Materialized.as('tbl'));
    input.pipeInput('a', 'v', 1);
    input.pipeInput('a', null, 2);
    expect(out()).toEqual([['a', 'a:v', 1], ['a', null, 2]]);
    expect(topology.describe().toString()).toContain('Processor: KTABLE-SOURCE-0000000001 (stores: [tbl])');
  });
});

describe('materialized table operators', () => {
  it('keep their results in the named store, queryable', () => {
    const builder = new StreamsBuilder();
    builder
      .table('in', Consumed.with(S, S))
      .filter((_k, v) => v !== 'x', Materialized.as<string, string>('kept').withValueSerde(S))
      .mapValues((v) => v.toUpperCase(), Materialized.as<string, string>('upper').withValueSerde(S))
      .toStream()
      .to('out', Produced.with(S, S));
    const driver = new TopologyTestDriver(builder.build({ applicationId: 'mat-ops' }));
    const input = driver.createInputTopic('in', S, S);
    input.pipeInput('a', 'v', 1);
    input.pipeInput('b', 'x', 2);
    expect(driver.getKeyValueStore<string, string>('kept').get('a')).toBe('v');
    expect(driver.getKeyValueStore<string, string>('kept').get('b')).toBeUndefined();
    expect(driver.getKeyValueStore<string, string>('upper').get('a')).toBe('V');
    // 'b' never passed the filter: its stored filter forwards nothing for it.
    expect(driver.createOutputTopic('out', S, S).readKeyValuesToList()).toEqual([{ key: 'a', value: 'V' }]);
  });
});

describe('KStream toTable', () => {
  it('reads a stream as a table, repartitioning a re-keyed one first', () => {
    const builder = new StreamsBuilder();
    builder
      .stream('in', Consumed.with(S, S))
      .selectKey((_k, v) => v.split(':')[0]!)
      .mapValues((v) => v.split(':')[1]!)
      .toTable(Materialized.as<string, string>('latest').withKeySerde(S).withValueSerde(S))
      .toStream()
      .to('out', Produced.with(S, S));
    const topology = builder.build({ applicationId: 'to-table' });
    const driver = new TopologyTestDriver(topology, { cacheMaxBytes: 0 });
    const input = driver.createInputTopic('in', S, S);
    input.pipeInput('x', 'a:1', 1);
    input.pipeInput('y', 'a:2', 2);
    expect(driver.getKeyValueStore<string, string>('latest').get('a')).toBe('2');
    expect(driver.createOutputTopic('out', S, S).readKeyValuesToList()).toEqual([{ key: 'a', value: '1' }, { key: 'a', value: '2' }]);
    expect(topology.internalTopics.map((t) => t.name)).toContain('to-table-KSTREAM-TOTABLE-0000000003-repartition');
  });
});

describe('suppress(untilTimeLimit)', () => {
  it('emits the latest update of a key once its first update is the time limit behind stream time', () => {
    const builder = new StreamsBuilder();
    builder
      .table('in', Consumed.with(S, S))
      .suppress(Suppressed.untilTimeLimit(10))
      .toStream()
      .to('out', Produced.with(S, S));
    const driver = new TopologyTestDriver(builder.build({ applicationId: 'limit' }), { cacheMaxBytes: 0 });
    const input = driver.createInputTopic('in', S, S);
    const output = driver.createOutputTopic('out', S, S);
    input.pipeInput('a', '1', 0);
    input.pipeInput('a', '2', 5);
    input.pipeInput('b', '1', 6);
    expect(output.readRecordsToList()).toEqual([]);
    input.pipeInput('c', '1', 10); // a entered at 0: emitted now, with its latest value and time
    expect(output.readRecordsToList().map((r) => [r.key, r.value, r.timestamp])).toEqual([['a', '2', 5]]);
  });
});
