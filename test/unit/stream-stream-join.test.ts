import { describe, expect, it } from 'vitest';
import { Consumed, JoinWindows, Produced, Repartitioned, Serdes, StreamJoined, StreamsBuilder, TopologyTestDriver } from '../../src/index.js';

const S = Serdes.String();

function joinStreams(kind: 'join' | 'leftJoin' | 'outerJoin', windows = JoinWindows.ofTimeDifferenceAndGrace(10, 0)) {
  const builder = new StreamsBuilder();
  const left = builder.stream('left', Consumed.with(S, S));
  const right = builder.stream('right', Consumed.with(S, S));
  const joiner = (l: string | null, r: string | null) => `${l}/${r}`;
  const joined = StreamJoined.with(S, S, S);
  const out =
    kind === 'join' ? left.join(right, joiner, windows, joined) : kind === 'leftJoin' ? left.leftJoin(right, joiner, windows, joined) : left.outerJoin(right, joiner, windows, joined);
  out.to('out', Produced.with(S, S));
  const topology = builder.build({ applicationId: 'ss' });
  const driver = new TopologyTestDriver(topology);
  return {
    topology,
    driver,
    l: driver.createInputTopic('left', S, S),
    r: driver.createInputTopic('right', S, S),
    out: () => driver.createOutputTopic('out', S, S).readRecordsToList().map((x) => [x.key, x.value, x.timestamp]),
  };
}

describe('KStream-KStream join', () => {
  it('joins records of a key within the time difference, stamped with the later time', () => {
    const { l, r, out, topology } = joinStreams('join');
    l.pipeInput('a', 'l1', 100);
    r.pipeInput('a', 'r1', 105);
    r.pipeInput('a', 'r2', 111); // 11 after l1: outside
    l.pipeInput('a', 'l2', 101);
    expect(out()).toEqual([['a', 'l1/r1', 105], ['a', 'l2/r1', 105], ['a', 'l2/r2', 111]]);
    const text = topology.describe().toString();
    // Named as Kafka Streams names them (checked against its describe()).
    expect(text).toContain('Processor: KSTREAM-JOINTHIS-0000000004 (stores: [KSTREAM-JOINOTHER-0000000005-store])');
  });

  it('leftJoin emits a record without partner only after its window and grace have passed', () => {
    // The driver looks for expired records at every record (Kafka Streams' runtime: once per second).
    const { l, r, out } = joinStreams('leftJoin', JoinWindows.ofTimeDifferenceAndGrace(10, 5));
    l.pipeInput('a', 'l1', 100);
    l.pipeInput('b', 'l2', 105);
    expect(out()).toEqual([]);
    r.pipeInput('c', 'r1', 116); // stream time 116 > 100 + 10 + 5: l1 is emitted, l2 still waits
    expect(out()).toEqual([['a', 'l1/null', 100]]);
    r.pipeInput('b', 'r2', 130); // joins nothing (l2 at 105 is 25 before)
    expect(out()).toEqual([['b', 'l2/null', 105]]);
  });

  it('outerJoin emits either side without a partner', () => {
    const { l, r, out } = joinStreams('outerJoin');
    r.pipeInput('a', 'r1', 100);
    l.pipeInput('b', 'l1', 200);
    expect(out()).toEqual([['a', 'null/r1', 100]]);
  });
});

describe('co-partitioning', () => {
  it('lists the topics of both sides of each join, and refuses explicit partition counts that differ', () => {
    const builder = new StreamsBuilder();
    const views = builder.stream('views', Consumed.with(S, S));
    const users = builder.table('users', Consumed.with(S, S));
    views.join(users, (v, u) => `${v}/${u}`).to('out', Produced.with(S, S));
    expect(builder.build({ applicationId: 'cp' }).copartitionGroups).toEqual([{ join: 'KSTREAM-JOIN-0000000004', topics: ['views', 'users'] }]);

    const b2 = new StreamsBuilder();
    const left = b2.stream('l', Consumed.with(S, S)).repartition(Repartitioned.as<string, string>('l3').withNumberOfPartitions(3));
    const right = b2.stream('r', Consumed.with(S, S)).repartition(Repartitioned.as<string, string>('r4').withNumberOfPartitions(4));
    left.join(right, (a, b) => a + b, JoinWindows.ofTimeDifferenceWithNoGrace(5)).to('out', Produced.with(S, S));
    expect(() => b2.build({ applicationId: 'cp' })).toThrow(/not co-partitioned: cp-l3-repartition \(3 partitions\), cp-r4-repartition \(4 partitions\)/);
  });
});
