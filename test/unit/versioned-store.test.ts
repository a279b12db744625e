import { describe, expect, it } from 'vitest';
import {
  BufferConfig,
  Consumed,
  Grouped,
  Joined,
  Materialized,
  PUT_RETURN_CODE_NOT_PUT,
  PUT_RETURN_CODE_VALID_TO_UNDEFINED,
  PartitionedTopologyTestDriver,
  Produced,
  QueryableStoreTypes,
  Serdes,
  Stores,
  StreamsBuilder,
  Suppressed,
  TopologyTestDriver,
} from '../../src/index.js';
import type { ManagedVersionedStore } from '../../src/stores/managed-store.js';
import { changelogTopicConfig } from '../../src/processor/store-definition.js';
import { LoggedStore } from './support/logged-store.js';

const S = Serdes.String();

function loggedVersioned(historyRetentionMs: number): LoggedStore {
  const definition = Stores.versionedKeyValueStoreBuilder(Stores.persistentVersionedKeyValueStore('prices', historyRetentionMs), S, S);
  return new LoggedStore(definition, 1 << 20);
}

const versioned = (logged: LoggedStore) => logged.store as unknown as ManagedVersionedStore<string, string>;

/** What a store answers for each key as of each time (and latest): the whole visible history. */
function history(store: ManagedVersionedStore<string, string>, keys: string[], times: number[]): unknown {
  return keys.map((key) => [store.getVersion(key), ...times.map((t) => store.getVersion(key, t))]);
}

describe('versioned key-value store (RocksDBVersionedStore semantics)', () => {
  it('keeps versions with their validity, returns validTo codes, refuses puts older than the history retention', () => {
    const logged = loggedVersioned(100);
    const store = versioned(logged);
    expect(store.put('a', 'v10', 10)).toBe(PUT_RETURN_CODE_VALID_TO_UNDEFINED);
    expect(store.put('a', 'v30', 30)).toBe(PUT_RETURN_CODE_VALID_TO_UNDEFINED);
    // Out of order: it goes into the history, valid until the next version.
    expect(store.put('a', 'v20', 20)).toBe(30);
    expect(store.get('a')).toEqual({ value: 'v30', timestamp: 30 });
    expect(store.getVersion('a', 25)).toEqual({ value: 'v20', timestamp: 20, validTo: 30 });
    expect(store.getVersion('a', 19)).toEqual({ value: 'v10', timestamp: 10, validTo: 20 });
    expect(store.get('a', 9)).toBeUndefined();
    // A deletion is a version too: nothing as of its time, the earlier versions stay readable.
    expect(store.delete('a', 40)).toEqual({ value: 'v30', timestamp: 30 });
    expect(store.get('a')).toBeUndefined();
    expect(store.getVersion('a', 35)).toEqual({ value: 'v30', timestamp: 30, validTo: 40 });
    store.put('a', 'v200', 200);
    // Observed time 200, retention 100: a put before 100 is not put; a query before 100 sees only the latest.
    expect(store.put('a', 'old', 99)).toBe(PUT_RETURN_CODE_NOT_PUT);
    expect(store.put('b', 'b100', 100)).toBe(PUT_RETURN_CODE_VALID_TO_UNDEFINED);
    expect(store.get('a', 35)).toBeUndefined();
    expect(store.get('b', 99)).toBeUndefined();
    expect(store.get('a', 250)).toEqual({ value: 'v200', timestamp: 200 });
  });

  it("answers as Kafka Streams' RocksDBVersionedStore where its layout shows (differential family versioned-store-ops)", () => {
    const store = versioned(loggedVersioned(100));
    // A deletion at the latest version's own timestamp removes it with nothing left behind: an older put then
    // becomes the latest (Kafka Streams' latest-value store holds no tombstones).
    store.put('a', 'v33', 33);
    expect(store.delete('a', 33)).toEqual({ value: 'v33', timestamp: 33 });
    expect(store.put('a', 'v32', 32)).toBe(PUT_RETURN_CODE_VALID_TO_UNDEFINED);
    expect(store.get('a')).toEqual({ value: 'v32', timestamp: 32 });
    // With an older version in the history, the same deletion leaves that version's end: the put is history.
    store.put('b', 'v10', 10);
    store.put('b', 'v33', 33);
    store.delete('b', 33);
    expect(store.put('b', 'v32', 32)).toBe(33);
    expect(store.get('b')).toBeUndefined();
    // get and delete give no validTo to a processor, as Kafka Streams 3.9's store; a query does.
    expect(store.get('b', 32)).toEqual({ value: 'v32', timestamp: 32 });
    expect(store.getVersion('b', 32)).toEqual({ value: 'v32', timestamp: 32, validTo: 33 });
  });

  it('is rebuilt from its changelog with its whole history, and reopened on its committed bytes the same', () => {
    const logged = loggedVersioned(50);
    const store = versioned(logged);
    const puts: Array<[string, string | null, number]> = [
      ['a', '1', 10], ['b', '1', 12], ['a', '2', 30], ['a', '1.5', 20], ['b', null, 25], ['a', '2b', 30],
      ['c', '1', 40], ['b', '3', 45], ['a', '3', 60], ['c', '0', 5], ['a', '2.5', 35], ['b', '4', 90],
    ];
    for (const [i, [key, value, time]] of puts.entries()) {
      store.put(key, value, time);
      if (i % 4 === 3) logged.commit();
    }
    logged.commit();
    const keys = ['a', 'b', 'c'];
    const times = [0, 5, 10, 15, 20, 25, 30, 35, 39, 40, 45, 50, 60, 89, 90, 100];
    const live = history(store, keys, times);
    // Observed time 90, retention 50: what was valid from 40 on is served; 'c' at 5 came too late to be put.
    expect(store.getVersion('a', 45)).toEqual({ value: '2.5', timestamp: 35, validTo: 60 });
    expect(store.get('a', 35)).toBeUndefined();
    expect(store.get('c', 39)).toBeUndefined();
    expect(store.getVersion('b', 50)).toEqual({ value: '3', timestamp: 45, validTo: 90 });
    for (const batch of [1, 3, 100]) {
      expect(history(logged.replayed(batch) as unknown as ManagedVersionedStore<string, string>, keys, times), `replayed in batches of ${batch}`).toEqual(live);
    }
    expect(history(logged.reopened() as unknown as ManagedVersionedStore<string, string>, keys, times)).toEqual(live);
  });

  it('logs to a compacted changelog that keeps the history retention + 1 day before compacting', () => {
    const definition = Stores.versionedKeyValueStoreBuilder(Stores.persistentVersionedKeyValueStore('prices', 3_600_000), S, S);
    expect(changelogTopicConfig(definition)).toEqual({ 'cleanup.policy': 'compact', 'min.compaction.lag.ms': String(3_600_000 + 86_400_000) });
  });
});

function versionedTable(historyRetentionMs: number) {
  const builder = new StreamsBuilder();
  builder
    .table('prices', Consumed.with(S, S), Materialized.as<string, string>(Stores.persistentVersionedKeyValueStore('prices-store', historyRetentionMs)))
    .toStream()
    .to('out', Produced.with(S, S));
  const driver = new TopologyTestDriver(builder.build({ applicationId: 'vt' }));
  return {
    driver,
    prices: driver.createInputTopic('prices', S, S),
    out: () => driver.createOutputTopic('out', S, S).readRecordsToList().map((r) => [r.key, r.value, r.timestamp]),
  };
}

describe('versioned table (KTableSource with a versioned store)', () => {
  it('puts out-of-order updates into the history only, forwards them, and drops records older than the history retention', () => {
    const { driver, prices, out } = versionedTable(100);
    prices.pipeInput('p', 'ten', 10);
    prices.pipeInput('p', 'thirty', 30);
    prices.pipeInput('p', 'twenty', 20);
    prices.pipeInput('p', 'two-hundred', 200);
    prices.pipeInput('p', 'fifty', 50);
    // Forwarded as Kafka Streams' KTableSource does: out-of-order updates too (not the latest), not the expired one.
    expect(out()).toEqual([['p', 'ten', 10], ['p', 'thirty', 30], ['p', 'twenty', 20], ['p', 'two-hundred', 200]]);
    const store = driver.getVersionedKeyValueStore<string, string>('prices-store');
    expect(store.get('p')).toEqual({ value: 'two-hundred', timestamp: 200 });
    expect(store.get('p', 25)).toBeUndefined(); // before observed time 200 − retention 100
    // A processor's store gives no validTo, as Kafka Streams 3.9's MeteredVersionedKeyValueStore; a query does.
    expect(store.get('p', 150)).toEqual({ value: 'thirty', timestamp: 30 });
    expect((store as ManagedVersionedStore<string, string>).getVersion('p', 150)).toEqual({ value: 'thirty', timestamp: 30, validTo: 200 });
    expect(driver.metrics().droppedLate).toBe(1);
  });

  it('is refused by operators that cannot keep versions', () => {
    const builder = new StreamsBuilder();
    const table = builder.table('t', Consumed.with(S, S));
    const other = builder.table('u', Consumed.with(S, S));
    const versionedJoin = Materialized.as<string, string>(Stores.persistentVersionedKeyValueStore('j', 10)).withValueSerde(S);
    expect(() => table.join(other, (a: string, b: string) => a + b, versionedJoin)).toThrow(/materializes builder.table, toTable, filter/);
    // suppress() refuses a versioned table, also one that inherits its versions through a filter (as Kafka Streams).
    const versioned = builder.table('v', Consumed.with(S, S), Materialized.as<string, string>(Stores.persistentVersionedKeyValueStore('v-store', 10)));
    expect(() => versioned.filter(() => true).suppress(Suppressed.untilTimeLimit(10, BufferConfig.unbounded()))).toThrow(
      /suppress\(\) is only supported for non-versioned KTables/,
    );
  });

  it('keeps the results of filter and mapValues in a versioned store when materialized with one, as Kafka Streams', () => {
    const builder = new StreamsBuilder();
    builder
      .table('prices', Consumed.with(S, S))
      .filter((_k, v) => v !== 'x')
      .mapValues((v) => `${v}!`, Materialized.as<string, string>(Stores.persistentVersionedKeyValueStore('marked', 100)).withValueSerde(S))
      .toStream()
      .to('out', Produced.with(S, S));
    const driver = new TopologyTestDriver(builder.build({ applicationId: 'vm' }));
    const prices = driver.createInputTopic('prices', S, S);
    for (const [value, ts] of [['a', 10], ['b', 30], ['c', 20], ['d', 300], ['e', 150]] as const) prices.pipeInput('p', value, ts);
    // Out of order (c@20) goes into the history, and on; older than the history retention (e@150 after d@300) is dropped.
    expect(driver.createOutputTopic('out', S, S).readRecordsToList().map((r) => [r.value, r.timestamp])).toEqual([
      ['a!', 10], ['b!', 30], ['c!', 20], ['d!', 300],
    ]);
    const store = driver.getVersionedKeyValueStore<string, string>('marked');
    expect(store.get('p', 25)).toBeUndefined(); // older than observed time 300 − retention 100
    expect(store.get('p', 299)).toEqual({ value: 'b!', timestamp: 30 });
    expect(driver.metrics().droppedLate).toBe(1);
  });

  it('is read as of the stream record time through an unmaterialized filter or mapValues (a join with a grace period too)', () => {
    const builder = new StreamsBuilder();
    const prices = builder
      .table('prices', Consumed.with(S, S), Materialized.as<string, string>(Stores.persistentVersionedKeyValueStore('prices-store', 1000)))
      .filter((_k, v) => v !== 'x')
      .mapValues((v) => `${v}!`);
    builder
      .stream('orders', Consumed.with(S, S))
      .leftJoin(prices, (order: string, price: string | null) => `${order}@${price}`, Joined.with(S, S, S).withGracePeriod(5))
      .to('out', Produced.with(S, S));
    const driver = new TopologyTestDriver(builder.build({ applicationId: 'vf' }));
    const pricesIn = driver.createInputTopic('prices', S, S);
    const orders = driver.createInputTopic('orders', S, S);
    pricesIn.pipeInput('p', 'one', 10);
    pricesIn.pipeInput('p', 'x', 20);
    pricesIn.pipeInput('p', 'three', 30);
    orders.pipeInput('p', 'o15', 15);
    orders.pipeInput('p', 'o25', 25);
    orders.pipeInput('p', 'o35', 35);
    orders.pipeInput('p', 'o100', 100);
    expect(driver.createOutputTopic('out', S, S).readRecordsToList().map((r) => r.value)).toEqual(['o15@one!', 'o25@null', 'o35@three!']);
  });
});

function versionedJoin(graceMs?: number) {
  const builder = new StreamsBuilder();
  const prices = builder.table('prices', Consumed.with(S, S), Materialized.as<string, string>(Stores.persistentVersionedKeyValueStore('prices-store', 1000)));
  const orders = builder.stream('orders', Consumed.with(S, S));
  const joined = graceMs === undefined ? Joined.with(S, S, S) : Joined.with(S, S, S).withGracePeriod(graceMs);
  orders.leftJoin(prices, (order: string, price: string | null) => `${order}@${price}`, joined).to('out', Produced.with(S, S));
  const topology = builder.build({ applicationId: 'vj' });
  const driver = new TopologyTestDriver(topology);
  return {
    topology,
    prices: driver.createInputTopic('prices', S, S),
    orders: driver.createInputTopic('orders', S, S),
    out: () => driver.createOutputTopic('out', S, S).readRecordsToList().map((r) => [r.key, r.value, r.timestamp]),
  };
}

describe('stream-table join with a versioned table', () => {
  it('looks the table up as of each stream record timestamp', () => {
    const { prices, orders, out } = versionedJoin();
    prices.pipeInput('p', 'one', 10);
    prices.pipeInput('p', 'three', 30);
    orders.pipeInput('p', 'o25', 25);
    orders.pipeInput('p', 'o5', 5);
    orders.pipeInput('p', 'o35', 35);
    expect(out()).toEqual([['p', 'o25@one', 25], ['p', 'o5@null', 5], ['p', 'o35@three', 35]]);
  });

  it('with a grace period, buffers stream records until stream time passes their timestamp + grace, then joins them in time order', () => {
    const { prices, orders, out, topology } = versionedJoin(10);
    orders.pipeInput('p', 'o20', 20);
    prices.pipeInput('p', 'late-price', 15); // arrives after the order it is valid for
    orders.pipeInput('p', 'o18', 18);
    expect(out()).toEqual([]);
    orders.pipeInput('p', 'o31', 31); // stream time 31: o18 and o20 are due (<= 21)
    expect(out()).toEqual([['p', 'o18@late-price', 18], ['p', 'o20@late-price', 20]]);
    orders.pipeInput('p', 'o2', 2); // older than stream time − grace: joined at once
    expect(out()).toEqual([['p', 'o2@null', 2]]);
    expect([...topology.stores.keys()]).toContainEqual(expect.stringMatching(/^KSTREAM-LEFTJOIN-\d{10}-Buffer$/));
  });

  it('refuses a grace period on a table that is not versioned', () => {
    const builder = new StreamsBuilder();
    const table = builder.table('prices', Consumed.with(S, S));
    const orders = builder.stream('orders', Consumed.with(S, S));
    expect(() => orders.join(table, (o: string, p: string) => o + p, Joined.with(S, S, S).withGracePeriod(5))).toThrow(/KTable must be versioned/);
  });

  it('refuses a grace period longer than the history retention', () => {
    expect(() => versionedJoin(1001)).toThrow(/History retention must be at least grace period: the grace period is 1001 ms/);
    expect(() => versionedJoin(1000)).not.toThrow();
  });
});

describe('interactive query of a versioned store', () => {
  it('answers a key as of a time over the stores of the local tasks', () => {
    const logged = loggedVersioned(100);
    versioned(logged).put('p', 'old', 10);
    versioned(logged).put('p', 'new', 50);
    const view = QueryableStoreTypes.versionedKeyValueStore<string, string>().view(() => [logged.store]);
    expect(view.get('p')).toEqual({ value: 'new', timestamp: 50 });
    expect(view.get('p', 20)).toEqual({ value: 'old', timestamp: 10, validTo: 50 });
    expect(view.get('q', 20)).toBeUndefined();
  });
});

describe('out-of-order updates of a versioned table downstream (Change.isLatest)', () => {
  it('are skipped by table-table joins (counted as dropped) and by groupBy, through a mapValues', () => {
    const builder = new StreamsBuilder();
    const prices = builder
      .table('prices', Consumed.with(S, S), Materialized.as<string, string>(Stores.persistentVersionedKeyValueStore('prices-store', 1000)))
      .mapValues((v) => v.toUpperCase());
    const names = builder.table('names', Consumed.with(S, S));
    prices.join(names, (p: string, n: string) => `${n}:${p}`).toStream().to('joined', Produced.with(S, S));
    prices
      .groupBy((_k, v) => ({ key: v.slice(0, 1), value: v }), Grouped.with(S, S))
      .count(Materialized.as<string, number>('counts').withCachingDisabled())
      .toStream()
      .to('counts', Produced.with(S, Serdes.Long()));
    const driver = new TopologyTestDriver(builder.build({ applicationId: 'latest' }));
    driver.createInputTopic('names', S, S).pipeInput('p', 'pen', 0);
    const input = driver.createInputTopic('prices', S, S);
    input.pipeInput('p', 'a1', 10);
    input.pipeInput('p', 'b1', 5); // out of order: history only
    input.pipeInput('p', 'b2', 20);
    const joined = driver.createOutputTopic('joined', S, S).readRecordsToList().map((r) => r.value);
    expect(joined).toEqual(['pen:A1', 'pen:B2']);
    const counts = new Map(driver.createOutputTopic('counts', S, Serdes.Long()).readRecordsToList().map((r) => [r.key, r.value]));
    expect(counts.get('A')).toBe(0);
    expect(counts.get('B')).toBe(1);
    expect(driver.metrics().droppedLate).toBe(1);
  });
});

describe('a versioned table and a grace buffer after a task moves', () => {
  it("logs as Kafka Streams' versioned stores do: the plain value (a tombstone for a deletion) at the version's timestamp", () => {
    const builder = new StreamsBuilder();
    builder.table('prices', Consumed.with(S, S), Materialized.as<string, string>(Stores.persistentVersionedKeyValueStore('prices-store', 100)));
    const driver = new TopologyTestDriver(builder.build({ applicationId: 'vc' }), {}, 5_000);
    const prices = driver.createInputTopic('prices', S, S);
    prices.pipeInput('p', 'ten', 10);
    prices.pipeInput('p', 'thirty', 30);
    prices.pipeInput('p', null, 20);
    prices.pipeInput('q', 'one', 1); // its own timestamp, not the driver's clock (5 000)
    prices.pipeInput('r', 'now', 300);
    prices.pipeInput('r', 'late', 150); // older than the history retention: not put, logged all the same
    const changelog = driver.createOutputTopic('vc-prices-store-changelog', S, S).readRecordsToList();
    expect(changelog.map((r) => [r.key, r.value, r.timestamp])).toEqual([
      ['p', 'ten', 10], ['p', 'thirty', 30], ['p', null, 20], ['q', 'one', 1], ['r', 'now', 300], ['r', 'late', 150],
    ]);
    expect(driver.getVersionedKeyValueStore<string, string>('prices-store').get('r')).toEqual({ value: 'now', timestamp: 300 });
  });

  it('restores the history and the buffered stream records from their changelogs', async () => {
    const builder = new StreamsBuilder();
    const prices = builder.table('prices', Consumed.with(S, S), Materialized.as<string, string>(Stores.persistentVersionedKeyValueStore('prices-store', 1000)));
    builder
      .stream('orders', Consumed.with(S, S))
      .join(prices, (order: string, price: string) => `${order}@${price}`, Joined.with(S, S, S).withGracePeriod(10))
      .to('out', Produced.with(S, S));
    const driver = new PartitionedTopologyTestDriver(builder.build({ applicationId: 'moved' }), { partitions: { prices: 1, orders: 1 } });
    const priceInput = driver.createInputTopic('prices', S, S);
    const orders = driver.createInputTopic('orders', S, S);
    const out = () => driver.createOutputTopic('out', S, S).readRecordsToList().map((r) => [r.value, r.timestamp]);
    priceInput.pipeInput('p', 'one', 10);
    priceInput.pipeInput('p', 'three', 30);
    orders.pipeInput('p', 'o20', 20); // buffered: stream time 20, due at 30
    expect(out()).toEqual([]);
    for (const id of driver.taskIds()) await driver.moveTask(id);
    orders.pipeInput('p', 'o40', 40); // due: o20 (as of 20: 'one', from the restored history)
    expect(out()).toEqual([['o20@one', 20]]);
    orders.pipeInput('p', 'o51', 51);
    expect(out()).toEqual([['o40@three', 40]]);
  });
});

describe('topologyOptimization with a versioned table', () => {
  it('keeps the versioned store on its own changelog (its records carry the version timestamps)', () => {
    const builder = new StreamsBuilder();
    builder.table('prices', Consumed.with(S, S), Materialized.as<string, string>(Stores.persistentVersionedKeyValueStore('prices-store', 1000)));
    const topology = builder.build({ applicationId: 'opt', topologyOptimization: 'all' });
    expect(topology.stores.get('prices-store')).toMatchObject({ type: 'versioned', loggingEnabled: true });
    expect(topology.stores.get('prices-store')?.sourceChangelogTopic).toBeUndefined();
    expect(topology.internalTopics.find((t) => t.name === 'opt-prices-store-changelog')?.config).toMatchObject({
      'cleanup.policy': 'compact',
      'min.compaction.lag.ms': String(1000 + 86_400_000),
    });
  });
});
