import { describe, expect, it } from 'vitest';
import { Consumed, Grouped, Materialized, Produced, Serdes, StreamsBuilder, TopologyTestDriver } from '../../src/index.js';

const S = Serdes.String();
const L = Serdes.Int64();

/** Users (id -> country) counted per country, and their names (id -> "name") concatenated per country. */
function build() {
  const builder = new StreamsBuilder();
  const users = builder.table('users', Consumed.with(S, S));
  const byCountry = users.groupBy((_id, country) => ({ key: country, value: country }), Grouped.with(S, S));
  byCountry.count(Materialized.as<string, number>('counts').withCachingDisabled()).toStream().to('counts', Produced.with(S, L));
  users
    .groupBy((id, country) => ({ key: country, value: id }), Grouped.with(S, S).withName('ids'))
    .reduce((agg, id) => `${agg}+${id}`, (agg, id) => `${agg}-${id}`, Materialized.as<string, string>('ids').withCachingDisabled())
    .toStream()
    .to('ids', Produced.with(S, S));
  const topology = builder.build({ applicationId: 'countries' });
  const driver = new TopologyTestDriver(topology);
  const read = (topic: string, serde: typeof S | typeof L) =>
    driver.createOutputTopic<string, unknown>(topic, S, serde as never).readRecordsToList().map((r) => [r.key, r.value, r.timestamp]);
  return { topology, users: driver.createInputTopic('users', S, S), read };
}

describe('KTable groupBy', () => {
  it('subtracts the old value from its group and adds the new one to its own', () => {
    const { users, read } = build();
    users.pipeInput('u1', 'nl', 1);
    users.pipeInput('u2', 'nl', 2);
    users.pipeInput('u1', 'de', 3); // leaves nl, joins de
    users.pipeInput('u2', null, 4); // leaves nl
    expect(read('counts', L)).toEqual([
      ['nl', 1, 1],
      ['nl', 2, 2],
      ['nl', 1, 3],
      ['de', 1, 3],
      ['nl', 0, 4],
    ]);
    expect(read('ids', S)).toEqual([
      ['nl', 'u1', 1],
      ['nl', 'u1+u2', 2],
      ['nl', 'u1+u2-u1', 3],
      ['de', 'u1', 3],
      ['nl', 'u1+u2-u1-u2', 4],
    ]);
  });

  it('names its repartition topics after the grouping or the store', () => {
    const { topology } = build();
    expect(topology.internalTopics.filter((t) => t.kind === 'repartition').map((t) => t.name)).toEqual([
      'countries-counts-repartition',
      'countries-ids-repartition',
    ]);
  });
});
