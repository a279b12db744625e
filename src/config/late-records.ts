import { ConfigError } from '../errors/errors.js';

/**
 * Where records that come too late for their window or session go, instead of being dropped
 * (StreamsConfig `lateRecords`; our extension, not in Kafka Streams). Each such record is written to
 * `topic` as the task read it (its key, value and headers, byte for byte), stamped with its event time,
 * with `kstreams.late.*` headers naming the window it missed, the stream time it met, the task, the
 * processor and its store (see LATE_RECORD_HEADERS). Under exactly-once it joins the task's transaction.
 * The topic must exist before start (`kstreams topics create` lists it).
 */
export interface LateRecordsSettings {
  /** The late-records topic (any partition count). */
  readonly topic: string;
}

/** Checks a `lateRecords` setting; undefined stays undefined (late records are dropped and counted). */
export function lateRecordsSettings(value: unknown, name = 'lateRecords'): LateRecordsSettings | undefined {
  if (value === undefined) return undefined;
  const topic = typeof value === 'object' && value !== null ? (value as { topic?: unknown }).topic : undefined;
  if (typeof topic !== 'string' || !/^[a-zA-Z0-9._-]{1,249}$/.test(topic)) {
    throw new ConfigError(
      `${name} must be { topic: '<topic>' } with a valid topic name (letters, digits, '.', '_', '-'), got ${JSON.stringify(value)}: ` +
        'the topic records late for their window or session are sent to (leave it out to drop and count them, as Kafka Streams does)',
    );
  }
  return { topic };
}
