import { describe, expect, it } from 'vitest';
import { Consumed, Joined, Produced, Serdes, StreamsBuilder, TopologyTestDriver } from '../../src/index.js';

const S = Serdes.String();

function enrich(left: boolean, rekey = false) {
  const builder = new StreamsBuilder();
  const users = builder.table('users', Consumed.with(S, S));
  let views = builder.stream('views', Consumed.with(S, S));
  if (rekey) views = views.selectKey((_k, v) => v.split(':')[0]!);
  const joiner = (view: string, user: string | null) => `${view}/${user}`;
  (left ? views.leftJoin(users, joiner, Joined.with(S, S, S)) : views.join(users, joiner, Joined.with(S, S, S))).to('out', Produced.with(S, S));
  const topology = builder.build({ applicationId: 'enrich' });
  const driver = new TopologyTestDriver(topology);
  return {
    topology,
    users: driver.createInputTopic('users', S, S),
    views: driver.createInputTopic('views', S, S),
    out: () => driver.createOutputTopic('out', S, S).readRecordsToList().map((r) => [r.key, r.value, r.timestamp]),
  };
}

describe('KStream-KTable join', () => {
  it('joins each stream record with the table value of its key; table updates emit nothing', () => {
    const { users, views, out, topology } = enrich(false);
    views.pipeInput('u1', 'home', 1);
    users.pipeInput('u1', 'pro', 2);
    views.pipeInput('u1', 'cart', 3);
    users.pipeInput('u1', null, 4);
    views.pipeInput('u1', 'exit', 5);
    views.pipeInput(null, 'x', 6);
    expect(out()).toEqual([['u1', 'cart/pro', 3]]);
    // The join reads the table's store, so both sources are one sub-topology.
    expect(topology.subtopologies.length).toBe(1);
    expect(topology.describe().toString()).toContain('Processor: KSTREAM-JOIN-0000000004 (stores: [users-STATE-STORE-0000000000])');
  });

  it('leftJoin joins a missing key, and a null key, with null', () => {
    const { users, views, out } = enrich(true);
    views.pipeInput('u1', 'home', 1);
    users.pipeInput('u1', 'pro', 2);
    views.pipeInput('u1', 'cart', 3);
    views.pipeInput(null, 'x', 4);
    expect(out()).toEqual([['u1', 'home/null', 1], ['u1', 'cart/pro', 3], [null, 'x/null', 4]]);
  });

  it('repartitions a re-keyed stream before the join', () => {
    const { users, views, out, topology } = enrich(false, true);
    users.pipeInput('u2', 'free', 1);
    views.pipeInput('k', 'u2:home', 2);
    expect(out()).toEqual([['u2', 'u2:home/free', 2]]);
    expect(topology.internalTopics.map((t) => t.name)).toContain('enrich-KSTREAM-KEY-SELECT-0000000004-repartition');
  });
});
