import { describe, expect, it } from 'vitest';
import { Consumed, Materialized, Named, Produced, Serdes, StreamsBuilder, TopologyTestDriver } from '../../src/index.js';
import { murmur3Hash128 } from '../../src/dsl/internals/foreign-key-join/murmur3.js';
import { responseWrapperSerde } from '../../src/dsl/internals/foreign-key-join/response-wrapper.js';

const S = Serdes.String();

/** Orders `id -> "customer:item"` joined with customers `id -> tier`; "-" as the customer is a null foreign key. */
function fkJoin(kind: 'join' | 'leftJoin', materialized = false) {
  const builder = new StreamsBuilder();
  const orders = builder.table('orders', Consumed.with(S, S));
  const customers = builder.table('customers', Consumed.with(S, S));
  const customerOf = (order: string): string | null => (order.startsWith('-') ? null : order.split(':')[0]!);
  const joiner = (order: string, tier: string | null) => `${order}/${tier}`;
  const store = materialized ? Materialized.as<string, string>('joined').withValueSerde(S) : undefined;
  const joined = kind === 'join' ? orders.join(customers, customerOf, joiner, store) : orders.leftJoin(customers, customerOf, joiner, store);
  joined.toStream().to('out', Produced.with(S, S));
  const topology = builder.build({ applicationId: 'fk' });
  const driver = new TopologyTestDriver(topology);
  const output = driver.createOutputTopic('out', S, S);
  return {
    topology,
    driver,
    order: driver.createInputTopic('orders', S, S),
    customer: driver.createInputTopic('customers', S, S),
    out: () => output.readRecordsToList().map((r) => [r.key, r.value, r.timestamp]),
  };
}

describe('KTable foreign-key join', () => {
  it('inner: joins each value with the row of its foreign key, stamped with the later timestamp', () => {
    const t = fkJoin('join');
    t.order.pipeInput('o1', 'c1:book', 1);
    expect(t.out()).toEqual([]); // c1 has no row yet
    t.customer.pipeInput('c1', 'gold', 5);
    expect(t.out()).toEqual([['o1', 'c1:book/gold', 5]]);
    t.order.pipeInput('o2', 'c1:pen', 7);
    expect(t.out()).toEqual([['o2', 'c1:pen/gold', 7]]);
  });

  it('a right update reaches every left key that points to it, in key order; a right tombstone deletes their results', () => {
    const t = fkJoin('join');
    t.order.pipeInput('o2', 'c1:pen', 1);
    t.order.pipeInput('o1', 'c1:book', 2);
    t.order.pipeInput('o3', 'c2:cup', 3);
    t.customer.pipeInput('c2', 'silver', 4);
    t.customer.pipeInput('c1', 'gold', 5);
    expect(t.out()).toEqual([['o3', 'c2:cup/silver', 4], ['o1', 'c1:book/gold', 5], ['o2', 'c1:pen/gold', 5]]);
    t.customer.pipeInput('c1', null, 9);
    expect(t.out()).toEqual([['o1', null, 9], ['o2', null, 9]]);
  });

  it('a changed foreign key moves the value: the old row no longer updates it, a missing new row deletes the result', () => {
    const t = fkJoin('join');
    t.customer.pipeInput('c1', 'gold', 1);
    t.order.pipeInput('o1', 'c1:book', 2);
    t.order.pipeInput('o1', 'c2:book', 3); // c2 has no row: the old result is deleted
    t.customer.pipeInput('c1', 'platinum', 4); // o1 no longer subscribes to c1
    t.customer.pipeInput('c2', 'silver', 6);
    expect(t.out()).toEqual([['o1', 'c1:book/gold', 2], ['o1', null, 3], ['o1', 'c2:book/silver', 6]]);
  });

  it('inner: a foreign key turned null deletes the result, and joins again once it points to a row', () => {
    const t = fkJoin('join');
    t.customer.pipeInput('c1', 'gold', 1);
    t.order.pipeInput('o1', 'c1:book', 2);
    t.order.pipeInput('o1', '-:book', 3);
    t.order.pipeInput('o1', 'c1:book', 4);
    expect(t.out()).toEqual([['o1', 'c1:book/gold', 2], ['o1', null, 3], ['o1', 'c1:book/gold', 4]]);
  });

  it('inner: a left tombstone deletes the result; a null foreign key is dropped', () => {
    const t = fkJoin('join');
    t.customer.pipeInput('c1', 'gold', 1);
    t.order.pipeInput('o1', 'c1:book', 2);
    t.order.pipeInput('o1', null, 3);
    t.order.pipeInput('o2', '-:nobody', 4);
    t.customer.pipeInput('c1', 'platinum', 5); // nobody subscribes any more
    expect(t.out()).toEqual([['o1', 'c1:book/gold', 2], ['o1', null, 3]]);
    expect(t.driver.metrics().droppedNullKey).toBe(1);
  });

  it('left: a value without a row (or with a null foreign key) joins with null', () => {
    const t = fkJoin('leftJoin');
    t.order.pipeInput('o1', 'c1:book', 1);
    t.order.pipeInput('o2', '-:nobody', 2);
    t.customer.pipeInput('c1', 'gold', 5);
    t.order.pipeInput('o1', 'c2:book', 6); // the old key is unsubscribed silently, the new one answers null
    t.customer.pipeInput('c1', null, 7); // o1 left c1: nothing
    expect(t.out()).toEqual([
      ['o1', 'c1:book/null', 1],
      ['o2', '-:nobody/null', 2],
      ['o1', 'c1:book/gold', 5],
      ['o1', 'c2:book/null', 6],
    ]);
  });

  it('left: a left tombstone deletes the result', () => {
    const t = fkJoin('leftJoin');
    t.customer.pipeInput('c1', 'gold', 1);
    t.order.pipeInput('o1', 'c1:book', 2);
    t.order.pipeInput('o1', null, 3);
    expect(t.out()).toEqual([['o1', 'c1:book/gold', 2], ['o1', null, 3]]);
  });

  it('drops a response computed for an older left value (its hash no longer matches)', () => {
    const t = fkJoin('join');
    t.customer.pipeInput('c1', 'gold', 1);
    t.order.pipeInput('o1', 'c1:book', 2);
    t.order.pipeInput('o1', 'c1:pen', 3);
    expect(t.out()).toEqual([['o1', 'c1:book/gold', 2], ['o1', 'c1:pen/gold', 3]]);
    const responseTopic = t.topology.internalTopics.find((x) => x.name.includes('SUBSCRIPTION-RESPONSE'))!.name;
    const responses = t.driver.createInputTopic(responseTopic, S, responseWrapperSerde(S));
    const hashOf = (value: string) => murmur3Hash128(S.serialize(value));
    responses.pipeInput('o1', { hash: hashOf('c1:book'), foreignValue: 'late', primaryPartition: 0 }, 4);
    expect(t.out()).toEqual([]);
    responses.pipeInput('o1', { hash: hashOf('c1:pen'), foreignValue: 'fresh', primaryPartition: 0 }, 5);
    expect(t.out()).toEqual([['o1', 'c1:pen/fresh', 5]]);
  });

  it('materialized: the result is kept in its store', () => {
    const t = fkJoin('join', true);
    t.customer.pipeInput('c1', 'gold', 1);
    t.order.pipeInput('o1', 'c1:book', 2);
    expect(t.driver.getKeyValueStore<string, string>('joined').get('o1')).toBe('c1:book/gold');
  });

  it("declares Kafka Streams' names, internal topics and a logged subscription store", () => {
    const { topology } = fkJoin('join');
    const text = topology.describe().toString();
    // The numbering of KTableImpl#doJoinOnForeignKey after two tables (0-2, 3-5): topic 6, processor 7, ...
    expect(text).toContain('Processor: KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000007');
    expect(text).toContain('Processor: KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-RESOLVER-PROCESSOR-0000000017');
    expect(text).toContain('Processor: KTABLE-FK-JOIN-OUTPUT-0000000018');
    expect(topology.internalTopics.map((x) => `${x.kind} ${x.name}`).sort()).toEqual([
      'changelog fk-KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE-0000000010-changelog',
      'changelog fk-customers-STATE-STORE-0000000003-changelog',
      'changelog fk-orders-STATE-STORE-0000000000-changelog',
      'repartition fk-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic',
      'repartition fk-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000014-topic',
    ]);
  });

  it('names processors, topics and the store after Named', () => {
    const builder = new StreamsBuilder();
    const orders = builder.table('orders', Consumed.with(S, S));
    orders.join(builder.table('customers', Consumed.with(S, S)), (o) => o, (o, c) => o + c, Named.as('oc')).toStream().to('out', Produced.with(S, S));
    const topology = builder.build({ applicationId: 'n' });
    const text = topology.describe().toString();
    for (const name of ['oc-subscription-registration-processor', 'oc-subscription-receive', 'oc-subscription-join-foreign', 'oc-foreign-join-subscription', 'oc-subscription-response-resolver', 'oc-result']) {
      expect(text).toContain(`Processor: ${name}`);
    }
    expect(topology.internalTopics.map((x) => x.name)).toContain('n-oc-subscription-registration-topic');
    expect(topology.stores.has('oc-subscription-store')).toBe(true);
  });

  it('hashes as Kafka Streams does (murmur3 x64 128, seed 104729)', () => {
    // Values from org.apache.kafka.streams.state.internals.Murmur3.hash128 (kafka-streams 3.9.1).
    expect(murmur3Hash128(Buffer.from('')).toString('hex')).toBe('9d2764a018e329428c3cf3b035938518');
    expect(murmur3Hash128(Buffer.from('hello')).toString('hex')).toBe('30bfb4f39919e764566aea857401d1c6');
    expect(murmur3Hash128(Buffer.from('0123456789abcdefXYZ')).toString('hex')).toBe('bb31fe14c8ec1d0e325aa157c895f535');
    expect(murmur3Hash128(Buffer.from([0xff, 0x80, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0xfe])).toString('hex')).toBe('12b3a0e7254d880661bfc57175588d73');
  });
});
