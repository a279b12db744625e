/**
 * Late records kept, on a real broker, under both guarantees: the sessionization example with
 * `lateRecords: { topic }` and views reported two days before everything else (late for any session: the
 * grace is one day). Each late view must reach the late topic once, with its bytes as the aggregation's task
 * read them and the `kstreams.late.*` headers; every session must equal the oracle of the other views; and
 * the counts must add up to the input.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LATE_RECORD_HEADERS, type ProcessingGuarantee } from '../../src/index.js';
import { oracleSessions, type GeneratedEvent } from '../../examples/sessionize/generator.js';
import { readTopic } from '../../examples/sessionize/kafka-io.js';
import { pageViewSerde } from '../../examples/sessionize/topology.js';
import { brokers, createTopics, kafkaClient } from './kafka-env.js';
import { SessionizeHarness, waitForState } from './sessionize-harness.js';

const DAY_MS = 86_400_000;
const LATE_PARTITIONS = 3;

let harness: SessionizeHarness | undefined;
afterEach(async () => {
  await harness?.cleanup();
});

interface ReadRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: number;
  readonly headers: Record<string, string>;
}

describe.each<ProcessingGuarantee>(['exactly_once_v2', 'at_least_once'])('late records kept (%s)', (guarantee) => {
  it('late views reach the late topic once with their headers; sessions equal the oracle; the counts add up', async () => {
    harness = new SessionizeHarness(guarantee);
    const h = harness;
    await h.createTopics();
    const lateTopic = `${h.applicationId}-late-views`;
    // Its records are stamped with their event time, days ago: no retention by time for them.
    await createTopics([{ topic: lateTopic, numPartitions: LATE_PARTITIONS, configEntries: [{ name: 'retention.ms', value: '-1' }] }]);

    const events = SessionizeHarness.events(4000, 73);
    const firstTime = Math.min(...events.map((e) => e.view.timestamp));
    // One late view for every tenth user, two days before every view: late for whatever session it meets.
    const users = [...new Set(events.filter((e) => !e.malformed).map((e) => e.view.userId))].filter((_u, i) => i % 10 === 0);
    const lateViews: GeneratedEvent[] = users.map((userId, i) => ({
      malformed: false,
      view: { ...events.find((e) => !e.malformed && e.view.userId === userId)!.view, timestamp: firstTime - 2 * DAY_MS + i * 1000, page: '/late', status: 200 },
    }));
    expect(lateViews.length).toBeGreaterThan(10);
    await h.produce(events);
    await h.produce(lateViews);

    const instance = await h.start(h.newStateDir(), { lateRecords: { topic: lateTopic } }, undefined, DAY_MS);
    await waitForState(instance.app, 'RUNNING');
    await h.waitForLagZero();
    const metrics = instance.app.metrics();
    await instance.app.close();

    // Every session as if the late views had never been sent.
    const expected = oracleSessions(events);
    const { sessions } = await h.results();
    expect([...sessions.keys()].filter((k) => !expected.has(k))).toEqual([]);
    for (const [id, s] of expected) expect(sessions.get(id), id).toEqual(s);

    // Each late view once (read_committed), as the aggregation's task read it from the repartition topic.
    const late = await readLateRecords(lateTopic, (await readTopic(brokers(), lateTopic, LATE_PARTITIONS, true)).length);
    expect(late).toHaveLength(lateViews.length);
    const byTime = new Map(lateViews.map((e) => [e.view.timestamp, e.view]));
    for (const record of late) {
      const view = pageViewSerde.deserialize(record.value!);
      expect(byTime.get(view.timestamp), `late view at ${view.timestamp}`).toEqual(view);
      expect(record.key?.toString()).toBe(view.userId);
      expect(record.timestamp).toBe(view.timestamp);
      const hd = record.headers;
      expect(hd[LATE_RECORD_HEADERS.reason]).toBe('session-closed');
      expect([hd[LATE_RECORD_HEADERS.windowStart], hd[LATE_RECORD_HEADERS.windowEnd]]).toEqual([String(view.timestamp), String(view.timestamp)]);
      expect(Number(hd[LATE_RECORD_HEADERS.streamTime])).toBeGreaterThanOrEqual(firstTime);
      expect(hd[LATE_RECORD_HEADERS.task]).toMatch(/^1_[0-5]$/);
      expect(hd[LATE_RECORD_HEADERS.store]).toBe('session-stats');
      expect(hd[LATE_RECORD_HEADERS.topic]).toBe(`${h.applicationId}-session-stats-repartition`);
      expect(hd[LATE_RECORD_HEADERS.task]).toBe(`1_${hd[LATE_RECORD_HEADERS.partition]}`);
      expect(hd[LATE_RECORD_HEADERS.inputOrigin]).toMatch(new RegExp(`^${h.input}-\\d+@\\d+$`));
    }
    expect(new Set(late.map((r) => r.headers[LATE_RECORD_HEADERS.inputOrigin])).size).toBe(late.length);

    // The counts add up: every view is in a session, in the late topic, skipped (malformed) or filtered (5xx).
    expect(metrics).toMatchObject({ lateRecordsTotal: lateViews.length, lateSessionRecordsTotal: lateViews.length, droppedLateTotal: 0 });
    const inSessions = [...sessions.values()].reduce((n, s) => n + s.count, 0);
    const filtered = events.filter((e) => !e.malformed && e.view.status >= 500).length;
    expect(metrics.skippedRecordsTotal).toBe(events.filter((e) => e.malformed).length);
    expect(inSessions + metrics.lateRecordsTotal + metrics.skippedRecordsTotal + metrics.deadLetterRecordsTotal + metrics.droppedNullKeyTotal + filtered).toBe(
      events.length + lateViews.length,
    );
  });
});

describe('late records kept: the topic', () => {
  it('a late-records topic that does not exist stops the start, naming it and what to do', async () => {
    harness = new SessionizeHarness('at_least_once');
    const h = harness;
    await h.createTopics();
    const missing = `${h.applicationId}-no-such-late-topic`;
    await expect(h.start(h.newStateDir(), { lateRecords: { topic: missing } })).rejects.toThrow(
      new RegExp(`The late-records topic ${missing} \\(lateRecords.topic\\) does not exist: create it`),
    );
  });
});

/** The records of the late topic with their headers (as text), read_committed, `count` of them. */
async function readLateRecords(topic: string, count: number): Promise<ReadRecord[]> {
  const consumer = kafkaClient('late-reader').consumer({ groupId: `${topic}-reader`, readUncommitted: false });
  const records: ReadRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve) => {
      if (count === 0) resolve();
      void consumer.run({
        eachMessage: async ({ message }) => {
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = String(Array.isArray(value) ? value[0] : value);
          records.push({ key: message.key, value: message.value, timestamp: Number(message.timestamp), headers });
          if (records.length === count) resolve();
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}
