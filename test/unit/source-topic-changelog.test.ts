import { describe, expect, it } from 'vitest';
import {
  Consumed,
  Grouped,
  Materialized,
  Produced,
  Serdes,
  StreamsBuilder,
  TopologyError,
  TopologyTestDriver,
  type TopologyOptimization,
} from '../../src/index.js';
import { SourceChangelog } from '../../src/runtime/source-changelog.js';

const S = Serdes.String();

/** A named table of 'in', an unnamed table of 'other' joined to it, and a count of the join by value. */
function build(topologyOptimization?: TopologyOptimization) {
  const builder = new StreamsBuilder();
  const named = builder.table('in', Consumed.with(S, S), Materialized.as<string, string>('tbl'));
  const unnamed = builder.table('other', Consumed.with(S, S));
  const joined = named.join(unnamed, (a, b) => `${a}+${b}`);
  joined.toStream().to('joined', Produced.with(S, S));
  joined
    .groupBy((k, v) => ({ key: v, value: k }), Grouped.with(S, S))
    .count(Materialized.as('counts'))
    .toStream()
    .to('counts-out', Produced.with(S, Serdes.Long()));
  return builder.build({ applicationId: 'opt', ...(topologyOptimization === undefined ? {} : { topologyOptimization }) });
}

const changelogs = (optimization?: TopologyOptimization) =>
  build(optimization)
    .internalTopics.filter((t) => t.kind === 'changelog')
    .map((t) => t.name)
    .sort();

describe('topologyOptimization: table input topics as changelogs', () => {
  it('without it every table store has a changelog topic of its own', () => {
    expect(changelogs()).toEqual(['opt-counts-changelog', 'opt-other-STATE-STORE-0000000002-changelog', 'opt-tbl-changelog']);
    expect(changelogs('none')).toEqual(changelogs());
  });

  it("with 'all' or 'reuse.ktable.source.topics' the tables' stores, named or not, use their input topics; aggregations keep theirs", () => {
    for (const optimization of ['all', 'reuse.ktable.source.topics'] as const) {
      expect(changelogs(optimization)).toEqual(['opt-counts-changelog']);
      const topology = build(optimization);
      expect(topology.optimization).toBe(optimization);
      expect(topology.stores.get('tbl')).toMatchObject({ loggingEnabled: false, sourceChangelogTopic: 'in' });
      expect(topology.stores.get('other-STATE-STORE-0000000002')).toMatchObject({ loggingEnabled: false, sourceChangelogTopic: 'other' });
      expect(topology.stores.get('counts')?.sourceChangelogTopic).toBeUndefined();
    }
  });

  it('refuses an unknown value, naming the allowed ones', () => {
    expect(() => build('reuse' as TopologyOptimization)).toThrow(TopologyError);
    expect(() => build('reuse' as TopologyOptimization)).toThrow(
      `topologyOptimization must be one of 'none', 'all', 'reuse.ktable.source.topics', got "reuse"`,
    );
  });

  it('a table made from a stream (toTable) keeps its changelog: it has no input topic of its own', () => {
    const builder = new StreamsBuilder();
    builder.stream('in', Consumed.with(S, S)).toTable(Materialized.as('t')).toStream().to('out', Produced.with(S, S));
    const topology = builder.build({ applicationId: 'opt', topologyOptimization: 'all' });
    expect(topology.internalTopics.map((t) => t.name)).toEqual(['opt-t-changelog']);
  });

  it('the TopologyTestDriver writes no changelog for such a store, and the results are the same', () => {
    const run = (optimization?: TopologyOptimization) => {
      const driver = new TopologyTestDriver(build(optimization));
      const a = driver.createInputTopic('in', S, S);
      const b = driver.createInputTopic('other', S, S);
      a.pipeInput('k1', 'x', 1);
      b.pipeInput('k1', 'y', 2);
      a.pipeInput('k2', 'x', 3);
      b.pipeInput('k2', 'y', 4);
      a.pipeInput('k1', null, 5);
      const out = {
        joined: driver.createOutputTopic('joined', S, S).readKeyValuesToList(),
        counts: driver.createOutputTopic('counts-out', S, Serdes.Long()).readKeyValuesToList(),
        tblChangelog: driver.createOutputTopic('opt-tbl-changelog', S, S).getQueueSize(),
        countsChangelog: driver.createOutputTopic('opt-counts-changelog', S, S).getQueueSize(),
      };
      driver.close();
      return out;
    };
    const plain = run();
    const optimized = run('all');
    expect(plain.tblChangelog).toBe(3);
    expect(optimized.tblChangelog).toBe(0);
    expect(optimized.countsChangelog).toBe(plain.countsChangelog);
    expect(optimized.joined).toEqual(plain.joined);
    expect(optimized.counts).toEqual(plain.counts);
    expect(optimized.counts.at(-1)).toEqual({ key: 'x+y', value: 1 });
  });
});

describe('SourceChangelog: input records as store entries', () => {
  const topology = build('all');
  const store = topology.stores.get('tbl')!;
  const json = Serdes.Json<{ n: number }>();
  const record = (key: string | null, value: string | null, offset = '7') => ({
    offset,
    key: key === null ? null : Buffer.from(key),
    value: value === null ? null : Buffer.from(value),
    timestamp: '42',
  });

  it('stamps the value with the record timestamp, keeps tombstones, drops null keys', () => {
    const convert = SourceChangelog.of(topology, store, 0, 'fail')!.convert;
    const [key, value] = convert(record('k', 'v'))!;
    expect(key.toString()).toBe('k');
    expect(value!.readBigInt64BE(0)).toBe(42n);
    expect(value!.subarray(8).toString()).toBe('v');
    expect(convert(record('k', null))).toEqual([Buffer.from('k'), null]);
    expect(convert(record(null, 'v'))).toBeUndefined();
    expect(SourceChangelog.of(topology, topology.stores.get('counts')!, 0, 'fail')).toBeUndefined();
  });

  it("reads through the table's deserializers: an unreadable record fails the restore under 'fail', is skipped otherwise", () => {
    const jsonStore = { ...store, valueSerde: json as never };
    const source = { keySerde: S as never, valueSerde: json as never };
    const failing = new SourceChangelog(jsonStore, source, 'in', 3, 'fail');
    expect(failing.convert(record('k', '{"n":1}'))?.[1]?.subarray(8).toString()).toBe('{"n":1}');
    expect(() => failing.convert(record('k', 'not json', '9'))).toThrow(/Restoring store tbl from in-3@9: the record cannot be deserialized/);
    const skipping = new SourceChangelog(jsonStore, source, 'in', 3, 'logAndContinue');
    expect(skipping.convert(record('k', 'not json'))).toBeUndefined();
    const warnings: string[] = [];
    skipping.logSkipped({ warn: (m: string) => warnings.push(m) } as never);
    expect(warnings).toEqual([expect.stringMatching(/skipped 1 unreadable records; last: in-3@7/)]);
  });
});
