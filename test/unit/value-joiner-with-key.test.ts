import { describe, expect, it } from 'vitest';
import {
  Consumed,
  JoinWindows,
  Named,
  Produced,
  Serdes,
  StreamsBuilder,
  TopologyTestDriver,
  valueJoinerWithKey,
} from '../../src/index.js';

const S = Serdes.String();

describe('valueJoinerWithKey (Kafka Streams ValueJoinerWithKey: the key first)', () => {
  it('gives stream-table and stream-stream joiners the key first, null partners included', () => {
    const builder = new StreamsBuilder();
    const views = builder.stream('views', Consumed.with(S, S));
    const users = builder.table('users', Consumed.with(S, S));
    views.leftJoin(users, valueJoinerWithKey((key: string, view: string, user: string | null) => `${key}:${view}/${user}`)).to('enriched', Produced.with(S, S));
    const clicks = builder.stream('clicks', Consumed.with(S, S));
    views
      .join(clicks, valueJoinerWithKey((key, view, click) => `${key}:${view}+${click}`), JoinWindows.ofTimeDifferenceWithNoGrace(10))
      .to('clicked', Produced.with(S, S));
    const driver = new TopologyTestDriver(builder.build({ applicationId: 'joiner-with-key' }), { cacheMaxBytes: 0 });
    driver.createInputTopic('users', S, S).pipeInput('u1', 'ann', 0);
    const input = driver.createInputTopic('views', S, S);
    input.pipeInput('u1', 'home', 1);
    input.pipeInput('u2', 'faq', 2);
    driver.createInputTopic('clicks', S, S).pipeInput('u1', 'buy', 3);
    expect(driver.createOutputTopic('enriched', S, S).readKeyValuesToList()).toEqual([
      { key: 'u1', value: 'u1:home/ann' },
      { key: 'u2', value: 'u2:faq/null' },
    ]);
    expect(driver.createOutputTopic('clicked', S, S).readKeyValuesToList()).toEqual([{ key: 'u1', value: 'u1:home+buy' }]);
  });

  it('leaves joiners that take the key third as they were', () => {
    const builder = new StreamsBuilder();
    const users = builder.table('users', Consumed.with(S, S));
    builder
      .stream('views', Consumed.with(S, S))
      .join(users, (view, user, key) => `${view}/${user}@${key}`)
      .to('out', Produced.with(S, S));
    const driver = new TopologyTestDriver(builder.build({ applicationId: 'joiner-key-third' }));
    driver.createInputTopic('users', S, S).pipeInput('u1', 'ann', 0);
    driver.createInputTopic('views', S, S).pipeInput('u1', 'home', 1);
    expect(driver.createOutputTopic('out', S, S).readKeyValuesToList()).toEqual([{ key: 'u1', value: 'home/ann@u1' }]);
  });
});

describe('KTable.toStream(KeyValueMapper)', () => {
  it('re-keys each update, deletions included (Kafka Streams: toStream(named).selectKey(mapper))', () => {
    const builder = new StreamsBuilder();
    builder
      .table('in', Consumed.with(S, S))
      .toStream((key, value) => `${key}-${value ?? 'gone'}`, Named.as('to-stream'))
      .to('out', Produced.with(S, S));
    const topology = builder.build({ applicationId: 'to-stream-mapper' });
    expect(topology.describe().toString()).toContain('Processor: to-stream (stores: [])');
    const driver = new TopologyTestDriver(topology);
    const input = driver.createInputTopic('in', S, S);
    input.pipeInput('a', '1', 0);
    input.pipeInput('a', null, 1);
    expect(driver.createOutputTopic('out', S, S).readKeyValuesToList()).toEqual([
      { key: 'a-1', value: '1' },
      { key: 'a-gone', value: null },
    ]);
  });
});
