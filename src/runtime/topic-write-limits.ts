import type { Admin } from '../client/admin.js';
import type { Headers } from '../processor/record.js';

/**
 * What one topic accepts from a producer, read from its configs at start. A record the broker refuses
 * inside a transaction poisons the whole transaction (and a refused record of an idempotent batch fails
 * the batch), so the runtime checks each output record against these before it is sent, as Kafka's Java
 * producer checks a record's size before it joins a batch.
 */
export interface TopicWriteLimits {
  /** `max.message.bytes`: the largest record batch the topic accepts; undefined: the broker's own limit only. */
  readonly maxMessageBytes?: number;
  /**
   * How far ahead of the broker's clock a CreateTime timestamp may be (`message.timestamp.after.max.ms`,
   * Kafka ≥ 3.6; Kafka 4 defaults it to one hour); undefined: no limit (or LogAppendTime, which replaces
   * timestamps and never refuses them).
   */
  readonly timestampAfterMaxMs?: number;
  /** How far behind (`message.timestamp.before.max.ms`); undefined: no limit. */
  readonly timestampBeforeMaxMs?: number;
  /** The config the two timestamp limits were read from, named in refusals. */
  readonly timestampConfig?: { readonly after: string; readonly before: string };
  /** `cleanup.policy` includes `compact`: the broker refuses a record without a key. */
  readonly compacted?: boolean;
}

/** The limits of every topic the application writes by name; a topic not in it has no limits of its own. */
export type WriteLimitsByTopic = ReadonlyMap<string, TopicWriteLimits>;

/** Kafka's "no limit" for the timestamp configs (Long.MAX_VALUE), as the broker writes it. */
export const NO_TIMESTAMP_LIMIT = '9223372036854775807';

const TOPIC_CONFIGS = [
  'max.message.bytes',
  'message.timestamp.type',
  'message.timestamp.after.max.ms',
  'message.timestamp.before.max.ms',
  // Before Kafka 3.6, one limit for both directions.
  'message.timestamp.difference.max.ms',
  'cleanup.policy',
];

/** A finite limit in ms, or undefined for Long.MAX_VALUE (or anything past 2^53 ms, a quarter million years). */
function finiteMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Number(value);
  return Number.isSafeInteger(ms) && ms >= 0 ? ms : undefined;
}

/** The limits a topic's described configs set (names the broker does not know are absent: no check). */
export function writeLimitsOf(configs: ReadonlyMap<string, string>): TopicWriteLimits {
  const maxMessageBytes = finiteMs(configs.get('max.message.bytes'));
  const compacted = (configs.get('cleanup.policy') ?? '').split(',').some((p) => p.trim() === 'compact');
  if (configs.get('message.timestamp.type') === 'LogAppendTime') return { maxMessageBytes, compacted };
  const after = configs.get('message.timestamp.after.max.ms');
  const before = configs.get('message.timestamp.before.max.ms');
  if (after !== undefined || before !== undefined) {
    return {
      maxMessageBytes,
      compacted,
      timestampAfterMaxMs: finiteMs(after),
      timestampBeforeMaxMs: finiteMs(before),
      timestampConfig: { after: 'message.timestamp.after.max.ms', before: 'message.timestamp.before.max.ms' },
    };
  }
  const difference = finiteMs(configs.get('message.timestamp.difference.max.ms'));
  const name = 'message.timestamp.difference.max.ms';
  return { maxMessageBytes, compacted, timestampAfterMaxMs: difference, timestampBeforeMaxMs: difference, timestampConfig: { after: name, before: name } };
}

/** Reads the write limits of `topics` (all existing) through one describeConfigs. */
export async function readTopicWriteLimits(admin: Admin, topics: readonly string[]): Promise<Map<string, TopicWriteLimits>> {
  const limits = new Map<string, TopicWriteLimits>();
  if (topics.length === 0) return limits;
  const described = await admin.topicConfigs([...new Set(topics)], TOPIC_CONFIGS);
  for (const [topic, configs] of described) limits.set(topic, writeLimitsOf(configs));
  return limits;
}

/** Headroom for the record batch's own header and the record's framing (varints, attributes). */
const BATCH_OVERHEAD_BYTES = 100;

function headerBytes(headers: Headers): number {
  let size = 0;
  for (const name in headers) {
    const value = headers[name];
    size += name.length + (value === undefined ? 0 : typeof value === 'string' ? Buffer.byteLength(value) : value.length);
  }
  return size;
}

/** `3 h`, `90 min`, `42 s`, `250 ms`: a gap as a reader takes it in. */
export function formatGap(ms: number): string {
  const round = (n: number) => String(Math.round(n * 10) / 10);
  if (ms >= 48 * 3_600_000) return `${round(ms / 86_400_000)} d`;
  if (ms >= 3_600_000) return `${round(ms / 3_600_000)} h`;
  if (ms >= 60_000) return `${round(ms / 60_000)} min`;
  if (ms >= 1000) return `${round(ms / 1000)} s`;
  return `${ms} ms`;
}

/**
 * Why the topic would refuse this record, with the topic setting that refuses it, or undefined when it
 * accepts it. `maxRecordBytes` is the broker-wide limit (the maxRecordBytes setting); `wallClock` is read
 * only when the topic limits timestamps. Allocates nothing for a record that passes.
 */
export function refusal(
  limits: TopicWriteLimits | undefined,
  maxRecordBytes: number,
  key: Buffer | null,
  value: Buffer | null,
  headers: Headers,
  timestamp: number,
  wallClock: () => number,
): string | undefined {
  const size = (key?.length ?? 0) + (value?.length ?? 0) + headerBytes(headers);
  const topicMax = limits?.maxMessageBytes;
  if (topicMax !== undefined && topicMax < maxRecordBytes) {
    if (size > topicMax - BATCH_OVERHEAD_BYTES) return `is ${size} bytes; the topic accepts at most ${topicMax - BATCH_OVERHEAD_BYTES} bytes of key, value and headers (max.message.bytes=${topicMax})`;
  } else if (size > maxRecordBytes - BATCH_OVERHEAD_BYTES) {
    return `is ${size} bytes, more than the broker accepts (message.max.bytes)`;
  }
  if (limits === undefined) return undefined;
  if (key === null && limits.compacted === true) return 'would be refused: it has no key, and the topic is compacted (cleanup.policy=compact)';
  const { timestampAfterMaxMs: afterMax, timestampBeforeMaxMs: beforeMax, timestampConfig: config } = limits;
  if (afterMax === undefined && beforeMax === undefined) return undefined;
  const now = wallClock();
  if (afterMax !== undefined && timestamp - now > afterMax) {
    return (
      `would be refused: its timestamp ${new Date(timestamp).toISOString()} is ${formatGap(timestamp - now)} ahead of this machine's clock; ` +
      `the topic accepts at most ${formatGap(afterMax)} ahead (${config!.after}=${afterMax})`
    );
  }
  if (beforeMax !== undefined && now - timestamp > beforeMax) {
    return (
      `would be refused: its timestamp ${new Date(timestamp).toISOString()} is ${formatGap(now - timestamp)} behind this machine's clock; ` +
      `the topic accepts at most ${formatGap(beforeMax)} behind (${config!.before}=${beforeMax})`
    );
  }
  return undefined;
}

/** For the producer pipeline: the largest record batch a topic takes, where it sets its own limit. */
export function batchBytesOf(limits: WriteLimitsByTopic | undefined): ((topic: string) => number | undefined) | undefined {
  if (limits === undefined || limits.size === 0) return undefined;
  return (topic) => {
    const max = limits.get(topic)?.maxMessageBytes;
    return max === undefined ? undefined : max - BATCH_OVERHEAD_BYTES;
  };
}
