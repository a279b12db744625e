import type { Serde } from '../serdes/serde.js';

/** The kinds of state store. */
export type StoreType = 'keyValue' | 'session' | 'window' | 'versioned';

/**
 * Everything the runtime needs to create, log and restore one store. Built by the DSL (`Materialized`) or by
 * the user through {@link Stores} for the Processor API.
 */
export interface StoreDefinition {
  /** The store's name; its changelog is `<applicationId>-<name>-changelog`. */
  readonly name: string;
  /** Its kind. */
  readonly type: StoreType;
  /** Writes and reads its keys. */
  readonly keySerde: Serde<unknown>;
  /** Writes and reads its values. */
  readonly valueSerde: Serde<unknown>;
  /** LevelDB on disk (true) or memory only, rebuilt from the changelog at start (false). */
  readonly persistent: boolean;
  /** Whether every change is written to the changelog topic (needed to restore it). */
  readonly loggingEnabled: boolean;
  /** Extra topic configs of the changelog topic. */
  readonly changelogConfig: Readonly<Record<string, string>>;
  /** Session and window stores: how long a session or window is kept after it ends. */
  readonly retentionMs?: number;
  /** Versioned stores: how long versions a newer one replaced stay readable (Kafka Streams' historyRetention). */
  readonly historyRetentionMs?: number;
  /** Versioned stores: the segment interval of Kafka Streams' layout (its default from the history retention when undefined). */
  readonly segmentIntervalMs?: number;
  /** Window stores: the window size, to tell a window's end from its start. */
  readonly windowSizeMs?: number;
  /**
   * Key-value and window stores of the DSL's aggregations: each value carries the timestamp of its latest
   * update (the largest record timestamp that went into it), as Kafka Streams' timestamped stores; their
   * changelog values are `[timestamp i64][value]`, Kafka Streams' layout.
   */
  readonly timestamped?: boolean;
  /**
   * The owning DSL processor forwards its results when the store's cache flushes (on commit, or when the
   * cache is full): the latest result per key, not every update (Kafka Streams' record cache).
   */
  readonly cachingEnabled?: boolean;
  /**
   * A table's store under `topologyOptimization` 'all' / 'reuse.ktable.source.topics': the table's input
   * topic serves as its changelog (Kafka Streams' source-topic changelog). Nothing is logged
   * (`loggingEnabled` is false); the store is restored from this topic up to the input's committed offset.
   */
  readonly sourceChangelogTopic?: string;
}

/** Kafka Streams' `windowstore.changelog.additional.retention.ms` default: one day beyond the store's retention. */
export const CHANGELOG_ADDITIONAL_RETENTION_MS = 24 * 60 * 60 * 1000;

/** The changelog topic of a store: `<applicationId>-<storeName>-changelog`, as Kafka Streams names it. */
export function changelogTopicName(applicationId: string, storeName: string): string {
  return `${applicationId}-${storeName}-changelog`;
}

/**
 * The topic a store is restored from: its input topic when that serves as its changelog, else its own
 * changelog when it logs, else none.
 */
export function restoreTopicOf(applicationId: string, store: StoreDefinition): string | undefined {
  if (store.sourceChangelogTopic !== undefined) return store.sourceChangelogTopic;
  return store.loggingEnabled ? changelogTopicName(applicationId, store.name) : undefined;
}

/**
 * Topic configs of a store's changelog: compacted, and for windowed stores also deleted after the store's
 * retention + `additionalRetentionMs` (Kafka Streams' `windowstore.changelog.additional.retention.ms`).
 */
export function changelogTopicConfig(
  store: StoreDefinition,
  additionalRetentionMs = CHANGELOG_ADDITIONAL_RETENTION_MS,
): Record<string, string> {
  if (store.type === 'keyValue') return { 'cleanup.policy': 'compact', ...store.changelogConfig };
  if (store.type === 'versioned') {
    // Kafka Streams' versioned changelogs (VersionedChangelogTopicConfig): compacted, but not before the history
    // retention + a fixed day (VERSIONED_STORE_CHANGE_LOG_ADDITIONAL_COMPACTION_LAG_MS), so that a restore still
    // finds the versions of the history.
    const lag = (store.historyRetentionMs ?? 0) + CHANGELOG_ADDITIONAL_RETENTION_MS;
    return { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': String(lag), ...store.changelogConfig };
  }
  const retention = (store.retentionMs ?? 0) + additionalRetentionMs;
  return { 'cleanup.policy': 'compact,delete', 'retention.ms': String(retention), ...store.changelogConfig };
}
