import type { KeyValue } from '../processor/record.js';
import type { Windowed } from '../processor/windowed.js';
import { StreamsError } from '../errors/errors.js';
import type { StoreType } from '../processor/store-definition.js';
import { keyValueStoreOf, sessionStoreOf, versionedStoreOf, windowStoreOf, type ManagedStore } from '../stores/managed-store.js';
import type { VersionedRecord } from '../stores/state-store.js';

/** A store read from outside the topology (interactive queries): read-only, over this instance's tasks. */
export interface ReadOnlySessionStore<K, AGG> {
  /** Every live session of `key`, by end time. */
  fetch(key: K): KeyValue<Windowed<K>, AGG>[];
  /** The sessions of `key` that end at or after `earliestSessionEndTime` and start at or before `latestSessionStartTime`. */
  findSessions(key: K, earliestSessionEndTime: number, latestSessionStartTime: number): KeyValue<Windowed<K>, AGG>[];
  /** The aggregate of exactly that session, if it exists. */
  fetchSession(key: K, sessionStart: number, sessionEnd: number): AGG | undefined;
}

/** A key-value store read from outside the topology (interactive queries). */
export interface ReadOnlyKeyValueStore<K, V> {
  /** The value of `key`, undefined if it has none. */
  get(key: K): V | undefined;
}

/** A versioned key-value store read from outside the topology (Kafka Streams' VersionedKeyQuery). */
export interface ReadOnlyVersionedKeyValueStore<K, V> {
  /** The latest version of `key`; with `asOfTimestamp`, the version valid at that time (within the history retention). */
  get(key: K, asOfTimestamp?: number): VersionedRecord<V> | undefined;
}

/** A window store read from outside the topology (interactive queries). */
export interface ReadOnlyWindowStore<K, V> {
  /** The value of `key` in the window starting at `windowStart`. */
  fetch(key: K, windowStart: number): V | undefined;
  /** The values of `key` in the windows starting from `timeFrom` to `timeTo`, as (window start, value) pairs. */
  fetchRange(key: K, timeFrom: number, timeTo: number): KeyValue<number, V>[];
}

/** Which kind of store a query expects, and the read-only view it gets (Kafka Streams' QueryableStoreType). */
export interface QueryableStoreType<T> {
  /** The kind of store it opens. */
  readonly storeType: StoreType;
  /** @internal A view over the stores of this instance's tasks at the time of each call. */
  view(stores: () => readonly ManagedStore[]): T;
}

/** The first answer over the stores of every local task: a key lives in exactly one task. */
function firstDefined<T>(stores: () => readonly ManagedStore[], read: (store: ManagedStore) => T | undefined): T | undefined {
  for (const store of stores()) {
    const value = read(store);
    if (value !== undefined) return value;
  }
  return undefined;
}

function firstNonEmpty<T>(stores: () => readonly ManagedStore[], read: (store: ManagedStore) => T[]): T[] {
  for (const store of stores()) {
    const found = read(store);
    if (found.length > 0) return found;
  }
  return [];
}

/** The kinds of stores `app.store()` can open, as Kafka Streams' QueryableStoreTypes names them. */
export const QueryableStoreTypes = {
  /** Opens a session store, e.g. `app.store('session-stats', QueryableStoreTypes.sessionStore<string, Stats>())`. */
  sessionStore<K, AGG>(): QueryableStoreType<ReadOnlySessionStore<K, AGG>> {
    return {
      storeType: 'session',
      view: (stores) => {
        const session = (s: ManagedStore) => sessionStoreOf<K, AGG>(s);
        return {
          fetch: (key) => firstNonEmpty(stores, (s) => session(s).fetch(key)),
          findSessions: (key, earliestEnd, latestStart) => firstNonEmpty(stores, (s) => session(s).findSessions(key, earliestEnd, latestStart)),
          fetchSession: (key, start, end) => firstDefined(stores, (s) => session(s).fetchSession(key, start, end)),
        };
      },
    };
  },
  /** Opens a key-value store (from `count`, `reduce`, `aggregate`, or the Processor API). */
  keyValueStore<K, V>(): QueryableStoreType<ReadOnlyKeyValueStore<K, V>> {
    return {
      storeType: 'keyValue',
      view: (stores) => ({ get: (key) => firstDefined(stores, (s) => keyValueStoreOf<K, V>(s).get(key)) }),
    };
  },
  /**
   * Opens a versioned key-value store (`Stores.persistentVersionedKeyValueStore`), e.g.
   * `app.store('prices', QueryableStoreTypes.versionedKeyValueStore<string, number>()).get('p1', asOf)`.
   */
  versionedKeyValueStore<K, V>(): QueryableStoreType<ReadOnlyVersionedKeyValueStore<K, V>> {
    return {
      storeType: 'versioned',
      view: (stores) => ({ get: (key, asOf) => firstDefined(stores, (s) => versionedStoreOf<K, V>(s).getVersion(key, asOf)) }),
    };
  },
  /** Opens a window store (from a time-windowed aggregation). */
  windowStore<K, V>(): QueryableStoreType<ReadOnlyWindowStore<K, V>> {
    return {
      storeType: 'window',
      view: (stores) => ({
        fetch: (key, start) => firstDefined(stores, (s) => windowStoreOf<K, V>(s).fetch(key, start)),
        fetchRange: (key, from, to) => firstNonEmpty(stores, (s) => windowStoreOf<K, V>(s).fetchRange(key, from, to)),
      }),
    };
  },
} as const;

/** The store is not (or not yet) queryable here: unknown name, wrong type, or the instance is rebalancing. */
export class InvalidStateStoreError extends StreamsError {}
