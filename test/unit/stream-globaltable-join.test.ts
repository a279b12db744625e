import { describe, expect, it } from 'vitest';
import { Consumed, Materialized, Produced, Serdes, StreamsBuilder, TopologyTestDriver } from '../../src/index.js';

const S = Serdes.String();

function enrich(left: boolean) {
  const builder = new StreamsBuilder();
  const users = builder.globalTable('users', Consumed.with(S, S));
  const views = builder.stream('views', Consumed.with(S, S));
  // The view's value names the user: `user:page`; 'none:...' selects no key.
  const selector = (_k: string, v: string) => (v.startsWith('none') ? null : v.split(':')[0]!);
  const joiner = (view: string, user: string | null, key: string) => `${key}|${view}/${user}`;
  (left ? views.leftJoin(users, selector, joiner) : views.join(users, selector, joiner)).to('out', Produced.with(S, S));
  const topology = builder.build({ applicationId: 'enrich' });
  const driver = new TopologyTestDriver(topology);
  return {
    topology,
    driver,
    users: driver.createInputTopic('users', S, S),
    views: driver.createInputTopic('views', S, S),
    out: () => driver.createOutputTopic('out', S, S).readRecordsToList().map((r) => [r.key, r.value, r.timestamp]),
  };
}

describe('KStream-GlobalKTable join', () => {
  it('joins each record with the row of the key it selects; global updates apply at once and emit nothing', () => {
    const { users, views, out, driver } = enrich(false);
    views.pipeInput('s1', 'u1:home', 1);
    users.pipeInput('u1', 'pro', 2);
    views.pipeInput('s1', 'u1:cart', 3);
    views.pipeInput('s2', 'none:x', 4);
    views.pipeInput(null, 'u1:y', 5);
    users.pipeInput('u1', null, 6);
    views.pipeInput('s1', 'u1:exit', 7);
    // A null stream key is no obstacle: the selected key is what must not be null.
    expect(out()).toEqual([['s1', 's1|u1:cart/pro', 3], [null, 'null|u1:y/pro', 5]]);
    expect(driver.getKeyValueStore<string, string>('users-STATE-STORE-0000000000').get('u1')).toBeUndefined();
  });

  it('leftJoin joins a missing row with null; a null selected key drops the record unless its own key is null', () => {
    const { users, views, out } = enrich(true);
    views.pipeInput('s1', 'u1:home', 1);
    users.pipeInput('u1', 'pro', 2);
    views.pipeInput('s1', 'u1:cart', 3);
    views.pipeInput('s2', 'none:x', 4);
    views.pipeInput(null, 'none:y', 5);
    views.pipeInput(null, 'u1:z', 6);
    expect(out()).toEqual([
      ['s1', 's1|u1:home/null', 1],
      ['s1', 's1|u1:cart/pro', 3],
      [null, 'null|none:y/null', 5],
      [null, 'null|u1:z/pro', 6],
    ]);
  });

  it('is a store of its own, without changelog, shown as a global sub-topology', () => {
    const { topology } = enrich(false);
    expect(topology.subtopologies.length).toBe(1);
    expect(topology.globalSubtopologies.length).toBe(1);
    expect(topology.internalTopics).toEqual([]);
    expect(topology.externalSourceTopics()).toEqual(['users', 'views']);
    expect(topology.describe().toString()).toBe(
      [
        'Topologies:',
        '   Sub-topology: 0',
        '    Source: KSTREAM-SOURCE-0000000003 (topics: [views])',
        '      --> KSTREAM-LEFTJOIN-0000000004',
        '    Processor: KSTREAM-LEFTJOIN-0000000004 (stores: [])',
        '      --> KSTREAM-SINK-0000000005',
        '      <-- KSTREAM-SOURCE-0000000003',
        '    Sink: KSTREAM-SINK-0000000005 (topic: out)',
        '      <-- KSTREAM-LEFTJOIN-0000000004',
        '',
        '  Sub-topology: 1 for global store (will not generate tasks)',
        '    Source: KSTREAM-SOURCE-0000000001 (topics: [users])',
        '      --> KTABLE-SOURCE-0000000002',
        '    Processor: KTABLE-SOURCE-0000000002 (stores: [users-STATE-STORE-0000000000])',
        '      --> none',
        '      <-- KSTREAM-SOURCE-0000000001',
        '',
      ].join('\n'),
    );
    expect(topology.describe().toMermaid()).toContain('subgraph sub1["Global store 1"]');
  });

  it('takes a store name from Materialized, and a stream of any key joins it without repartitioning', () => {
    const builder = new StreamsBuilder();
    const plans = builder.globalTable('plans', Consumed.with(S, S), Materialized.as<string, string>('plans'));
    builder
      .stream('views', Consumed.with(S, S))
      .selectKey((_k, v) => v)
      .join(plans, (k) => k, (v, p) => `${v}:${p}`)
      .to('out', Produced.with(S, S));
    const topology = builder.build({ applicationId: 'a' });
    expect(topology.internalTopics).toEqual([]);
    const driver = new TopologyTestDriver(topology);
    driver.createInputTopic('plans', S, S).pipeInput('p', 'gold', 1);
    driver.createInputTopic('views', S, S).pipeInput('x', 'p', 2);
    expect(driver.createOutputTopic('out', S, S).readKeyValuesToList()).toEqual([{ key: 'p', value: 'p:gold' }]);
    expect(driver.getKeyValueStore<string, string>('plans').get('p')).toBeDefined();
  });
});
