/**
 * A store as the runtime drives it, for invariant tests: the typed store over an in-memory byte store, a
 * commit that applies the flushed entries and appends the changelog records to a log, an abort that throws
 * the uncommitted state away (the task is rebuilt from its byte store, as after a failed transaction), and a
 * replay of the whole log into an empty store (restoration from the changelog's beginning).
 */
import type { KeyValue } from '../../../src/processor/record.js';
import type { Windowed } from '../../../src/processor/windowed.js';
import { InMemoryBytesStore, type BytesEntry } from '../../../src/stores/bytes-store.js';
import type { ManagedStore } from '../../../src/stores/managed-store.js';
import type { KeyValueStore, SessionStore, WindowStore } from '../../../src/stores/state-store.js';
import type { StoreDefinition } from '../../../src/processor/store-definition.js';
import { ChangeLogging } from '../../../src/stores/change-logging.js';
import { createStore } from '../../../src/stores/store-factory.js';
import type { ChangelogRecord } from '../../../src/stores/changelog-sink.js';
import { versionedChangelogEntry } from '../../../src/stores/versioned-store.js';

export class LoggedStore {
  readonly bytes = new InMemoryBytesStore();
  readonly changelog: BytesEntry[] = [];
  store: ManagedStore;
  /** The store's observed time at the last commit: where a rebuilt task resumes (its committed stream time). */
  private committedTime = Number.NEGATIVE_INFINITY;

  constructor(
    readonly definition: StoreDefinition,
    private readonly cacheBudgetBytes: number,
  ) {
    this.store = this.open(this.bytes);
  }

  /** Changelog records logged since the last commit (an abort drops them, as an aborted transaction does). */
  private unacknowledged: BytesEntry[] = [];

  private open(bytes: InMemoryBytesStore): ManagedStore {
    // A versioned store's records carry their time as their timestamp: framed as the restoration frames them.
    const entry = (r: ChangelogRecord): BytesEntry =>
      r.timestamp === undefined ? [r.key, r.value] : versionedChangelogEntry(r.key, r.value, r.timestamp);
    const logging = ChangeLogging.of(this.definition, 'app', { send: (r) => this.unacknowledged.push(entry(r)) });
    const store = createStore(this.definition, bytes, this.cacheBudgetBytes, logging);
    store.observe(this.committedTime);
    return store;
  }

  commit(): void {
    const local = this.store.flush();
    this.bytes.apply(local);
    this.store.written(this.store.lastFlush);
    void this.store.dropExpired(); // in memory: done before this returns
    this.changelog.push(...this.unacknowledged.splice(0));
    this.committedTime = this.store.observedTime();
  }

  /** Forgets everything since the last commit: a new typed store over the committed bytes. */
  abort(): void {
    this.store.discardChanges();
    this.unacknowledged = [];
    this.store = this.open(this.bytes);
  }

  /** The store a restart on the same disk opens. */
  reopened(): ManagedStore {
    return this.open(this.bytes);
  }

  /** The store restored from the whole changelog into empty bytes, in batches of `batch` records. */
  replayed(batch: number): ManagedStore {
    const bytes = new InMemoryBytesStore();
    const store = this.open(bytes);
    for (let i = 0; i < this.changelog.length; i += batch) {
      bytes.apply(store.restoreEntries(this.changelog.slice(i, i + batch)));
      void store.dropExpired();
    }
    const restored = this.open(bytes);
    restored.observe(store.observedTime());
    return restored;
  }
}

/** Everything a store shows for the given keys, in a form `toEqual` compares exactly. */
export function visibleContents(store: ManagedStore, keys: readonly unknown[]): unknown {
  switch (store.definition.type) {
    case 'session': {
      const sessions = store as unknown as SessionStore<unknown, unknown>;
      return keys.map((key) => sessions.fetch(key).map((kv: KeyValue<Windowed<unknown>, unknown>) => [kv.key.window, kv.value]));
    }
    case 'window': {
      const windows = store as unknown as WindowStore<unknown, unknown>;
      return keys.map((key) => windows.fetchRange(key, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));
    }
    case 'keyValue': {
      const kv = store as unknown as KeyValueStore<unknown, unknown>;
      return keys.map((key) => kv.get(key));
    }
  }
}
