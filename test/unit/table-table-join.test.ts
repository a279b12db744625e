import { describe, expect, it } from 'vitest';
import { Consumed, Named, Produced, Serdes, StreamsBuilder, TopologyTestDriver } from '../../src/index.js';

const S = Serdes.String();

function joinTables(kind: 'join' | 'leftJoin' | 'outerJoin') {
  const builder = new StreamsBuilder();
  const left = builder.table('left', Consumed.with(S, S));
  const right = builder.table('right', Consumed.with(S, S));
  const joiner = (l: string | null, r: string | null) => `${l}/${r}`;
  const joined = kind === 'join' ? left.join(right, joiner) : kind === 'leftJoin' ? left.leftJoin(right, joiner) : left.outerJoin(right, joiner);
  joined.toStream().to('out', Produced.with(S, S));
  const topology = builder.build({ applicationId: 'tt' });
  const driver = new TopologyTestDriver(topology);
  const l = driver.createInputTopic('left', S, S);
  const r = driver.createInputTopic('right', S, S);
  const out = () => driver.createOutputTopic('out', S, S).readRecordsToList().map((x) => [x.key, x.value, x.timestamp]);
  // left a@1, right a@5, left a'@3, right delete@7, left delete@8
  l.pipeInput('a', 'l1', 1);
  r.pipeInput('a', 'r1', 5);
  l.pipeInput('a', 'l2', 3);
  r.pipeInput('a', null, 7);
  l.pipeInput('a', null, 8);
  return { out: out(), topology };
}

describe('KTable-KTable join', () => {
  it('inner: a result while both sides have the key, a tombstone when either deletes it', () => {
    const { out, topology } = joinTables('join');
    expect(out).toEqual([['a', 'l1/r1', 5], ['a', 'l2/r1', 5], ['a', null, 7]]);
    expect(topology.describe().toString()).toMatch(/KTABLE-MERGE-0000000006[\s\S]*<-- KTABLE-JOINTHIS-0000000007, KTABLE-JOINOTHER-0000000008/);
  });

  it('left: every left value joins, with null while the right has none', () => {
    expect(joinTables('leftJoin').out).toEqual([['a', 'l1/null', 1], ['a', 'l1/r1', 5], ['a', 'l2/r1', 5], ['a', 'l2/null', 7], ['a', null, 8]]);
  });

  it('outer: either side joins', () => {
    expect(joinTables('outerJoin').out).toEqual([['a', 'l1/null', 1], ['a', 'l1/r1', 5], ['a', 'l2/r1', 5], ['a', 'l2/null', 7], ['a', null, 8]]);
  });

  it('names its processors after Named', () => {
    const builder = new StreamsBuilder();
    const t = builder.table('x', Consumed.with(S, S));
    t.join(builder.table('y', Consumed.with(S, S)), (a, b) => a + b, Named.as('xy')).toStream().to('out', Produced.with(S, S));
    const text = builder.build({ applicationId: 'n' }).describe().toString();
    expect(text).toContain('Processor: xy-join-this');
    expect(text).toContain('Processor: xy-join-other');
  });
});
