import { describe, expect, it } from 'vitest';
import { Consumed, Materialized, Serdes, Stores, StreamsBuilder, StreamsError, TopologyTestDriver } from '../../src/index.js';
import { InMemoryBytesStore } from '../../src/stores/bytes-store.js';
import { keyValueStoreOf, sessionStoreOf, storeOfKind, windowStoreOf } from '../../src/stores/managed-store.js';
import { createStore } from '../../src/stores/store-factory.js';

/** A topology with one key-value store, 'counts'. */
function countingDriver(): TopologyTestDriver {
  const builder = new StreamsBuilder();
  builder
    .stream('clicks', Consumed.with(Serdes.String(), Serdes.String()))
    .groupByKey()
    .count(Materialized.as<string, number>('counts'));
  return new TopologyTestDriver(builder.build({ applicationId: 'store-kinds' }));
}

describe('a store asked for as its kind', () => {
  it('is the same store, typed, when the kind matches', () => {
    const driver = countingDriver();
    driver.createInputTopic('clicks', Serdes.String(), Serdes.String()).pipeInput('alice', '/home', 1);
    expect(driver.getKeyValueStore<string, number>('counts').get('alice')).toBe(1);
  });

  it('fails naming both kinds when the kind is another (TopologyTestDriver)', () => {
    const driver = countingDriver();
    expect(() => driver.getSessionStore('counts')).toThrow(StreamsError);
    expect(() => driver.getSessionStore('counts')).toThrow("Store 'counts' is a keyValue store, not a session store");
    expect(() => driver.getWindowStore('counts')).toThrow("Store 'counts' is a keyValue store, not a window store");
  });

  it('checks the kind of every store createStore makes', () => {
    const kv = createStore(Stores.keyValueStore('kv', Serdes.String(), Serdes.Int32()), new InMemoryBytesStore(), 1 << 20);
    const sessions = createStore(Stores.sessionStore('sessions', 1000, Serdes.String(), Serdes.Int32()), new InMemoryBytesStore(), 1 << 20);
    const windows = createStore(Stores.windowStore('windows', 1000, 100, Serdes.String(), Serdes.Int32()), new InMemoryBytesStore(), 1 << 20);
    expect(keyValueStoreOf(kv)).toBe(kv);
    expect(sessionStoreOf(sessions)).toBe(sessions);
    expect(windowStoreOf(windows)).toBe(windows);
    expect(storeOfKind(windows, 'window').kind).toBe('window');
    expect(() => keyValueStoreOf(sessions)).toThrow("Store 'sessions' is a session store, not a keyValue store");
    expect(() => sessionStoreOf(windows)).toThrow("Store 'windows' is a window store, not a session store");
    expect(() => windowStoreOf(kv)).toThrow("Store 'kv' is a keyValue store, not a window store");
  });
});
