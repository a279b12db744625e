import { describe, expect, it } from 'vitest';
import { Consumed, Produced, Serdes, StreamsBuilder, TableJoined, TopologyTestDriver } from '../../src/index.js';

const S = Serdes.String();

describe('TableJoined (foreign-key joins)', () => {
  it('places subscriptions with the other table\'s partitioner and answers with this table\'s, called with the key only', () => {
    const calls: Array<[string, unknown, unknown, number]> = [];
    const builder = new StreamsBuilder();
    const customers = builder.table('customers', Consumed.with(S, S));
    builder
      .table('orders', Consumed.with(S, S))
      .join(
        customers,
        (order) => order.split(':')[0]!,
        (order, customer) => `${order}/${customer}`,
        TableJoined.with<string, string>(
          (topic, key, value, n) => (calls.push([topic, key, value, n]), 0),
          (topic, key, value, n) => (calls.push([topic, key, value, n]), 0),
        ).withName('orders-customers'),
      )
      .toStream()
      .to('out', Produced.with(S, S));
    const topology = builder.build({ applicationId: 'fk' });
    expect(topology.describe().toString()).toContain('Sink: orders-customers-subscription-registration-sink (topic: fk-orders-customers-subscription-registration-topic)');
    const driver = new TopologyTestDriver(topology);
    driver.createInputTopic('customers', S, S).pipeInput('c1', 'ann', 0);
    driver.createInputTopic('orders', S, S).pipeInput('o1', 'c1:book', 1);
    expect(driver.createOutputTopic('out', S, S).readKeyValuesToList()).toEqual([{ key: 'o1', value: 'c1:book/ann' }]);
    expect(calls).toEqual([
      ['fk-orders-customers-subscription-registration-topic', 'c1', undefined, 1],
      ['fk-orders-customers-subscription-response-topic', 'o1', undefined, 1],
    ]);
  });

  it('names the join as a Named does', () => {
    const builder = new StreamsBuilder();
    const customers = builder.table('customers', Consumed.with(S, S));
    builder.table('orders', Consumed.with(S, S)).leftJoin(customers, (order) => order, (order, customer) => `${order}/${customer}`, TableJoined.as('named-fk'));
    expect(builder.build({ applicationId: 'fk' }).describe().toString()).toContain('Processor: named-fk-result');
  });
});
