import { ConfigError } from '../errors/errors.js';

/**
 * The event-time mode (our extension; off when unset, and then every behaviour is Kafka Streams'): see the
 * README's "Event time across instances" and "Sessions that end on time".
 */
export interface EventTimeConfig {
  /**
   * Tasks that write repartition topics publish their stream time in every partition of them (progress
   * markers, at each commit, in its transaction under exactly-once), and a downstream task's stream time
   * never runs ahead of the slowest task that feeds it. Default false.
   */
  progressMarkers?: boolean;
  /**
   * How long a downstream task waits for an upstream task that sends no marker (dead, moving, no input)
   * while it holds the others back, before it goes on without it (WARN, `upstreamWaitsExpiredTotal`).
   * Default 60 000; must exceed `commitIntervalMs` (markers come at commits).
   */
  maxUpstreamWaitMs?: number;
  /**
   * The most an event can be delayed before it reaches Kafka. Set, a task whose input is caught up and quiet
   * for `idleAdvanceAfterMs` moves its stream time to the wall clock minus this (idle advance). Default: unset,
   * stream time moves only with records.
   */
  maxEventDelayMs?: number;
  /** How long input must be caught up and quiet before idle advance; default 30 000. Needs `maxEventDelayMs`. */
  idleAdvanceAfterMs?: number;
}

/** The event-time mode with its defaults filled in. */
export interface ResolvedEventTimeConfig {
  readonly progressMarkers: boolean;
  readonly maxUpstreamWaitMs: number;
  /** Undefined: no idle advance. */
  readonly maxEventDelayMs: number | undefined;
  readonly idleAdvanceAfterMs: number;
}

const KEYS = new Set(['progressMarkers', 'maxUpstreamWaitMs', 'maxEventDelayMs', 'idleAdvanceAfterMs']);

function duration(name: string, value: unknown, fallback: number, min: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new ConfigError(`eventTime.${name} must be an integer number of ms >= ${min}, got ${JSON.stringify(value)}`);
  }
  return v;
}

/** Checks `eventTime`; undefined when the mode is off (unset, or nothing in it turned on). */
export function resolveEventTime(value: EventTimeConfig | undefined, commitIntervalMs: number): ResolvedEventTimeConfig | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`eventTime must be an object such as { progressMarkers: true, maxEventDelayMs: 120000 }, got ${JSON.stringify(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!KEYS.has(key)) throw new ConfigError(`eventTime.${key} is not a setting: use ${[...KEYS].join(', ')}`);
  }
  if (value.progressMarkers !== undefined && typeof value.progressMarkers !== 'boolean') {
    throw new ConfigError(`eventTime.progressMarkers must be true or false, got ${JSON.stringify(value.progressMarkers)}`);
  }
  const progressMarkers = value.progressMarkers === true;
  const maxUpstreamWaitMs = duration('maxUpstreamWaitMs', value.maxUpstreamWaitMs, 60_000, 0);
  if (progressMarkers && maxUpstreamWaitMs <= commitIntervalMs) {
    throw new ConfigError(
      `eventTime.maxUpstreamWaitMs (${maxUpstreamWaitMs}) must exceed commitIntervalMs (${commitIntervalMs}): ` +
        'upstream tasks publish their progress at each commit, so a shorter wait gives up on live tasks',
    );
  }
  const maxEventDelayMs = value.maxEventDelayMs === undefined ? undefined : duration('maxEventDelayMs', value.maxEventDelayMs, 0, 0);
  if (value.idleAdvanceAfterMs !== undefined && maxEventDelayMs === undefined) {
    throw new ConfigError('eventTime.idleAdvanceAfterMs needs eventTime.maxEventDelayMs: idle advance moves stream time to the wall clock minus that delay');
  }
  const idleAdvanceAfterMs = duration('idleAdvanceAfterMs', value.idleAdvanceAfterMs, 30_000, 0);
  if (!progressMarkers && maxEventDelayMs === undefined) return undefined;
  return { progressMarkers, maxUpstreamWaitMs, maxEventDelayMs, idleAdvanceAfterMs };
}
