/**
 * Every input record is accounted for, on a real broker: processed, dead-lettered, or dropped and counted.
 * The sessionization topology with two kinds of bad records after its repartition: views whose new key is
 * null (dropped and counted) and views the aggregator rejects (dead-lettered, naming the input record they
 * came from, and leaving the sessions they would have merged untouched). The results must equal the oracle
 * of the views that remain, and the counts must add up to the input.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Consumed, DEAD_LETTER_HEADERS, Grouped, Materialized, Produced, Serdes, SessionWindows, StreamsBuilder, type Topology } from '../../src/index.js';
import { oracleSessions } from '../../examples/sessionize/generator.js';
import { readTopic } from '../../examples/sessionize/kafka-io.js';
import {
  INACTIVITY_GAP_MS,
  addView,
  emptyStats,
  mergeStats,
  pageViewSerde,
  sessionKeySerde,
  sessionStatsSerde,
  type PageView,
  type SessionStats,
  type SessionizeOptions,
} from '../../examples/sessionize/topology.js';
import { brokers, createTopics, kafkaClient } from './kafka-env.js';
import { SessionizeHarness, waitForState } from './sessionize-harness.js';

const anonymous = (view: PageView) => view.bytes % 101 === 0;
const rejected = (view: PageView) => view.bytes % 97 === 0 && !anonymous(view);

function topologyWithBadRecords(options: SessionizeOptions): Topology {
  const builder = new StreamsBuilder();
  builder
    .stream(options.inputTopic!, Consumed.with(Serdes.String(), pageViewSerde))
    .filter((_key, view) => view.status < 500)
    // A null key, as a server reports a view without a user: the repartition drops and counts it.
    .selectKey((_key, view) => (anonymous(view) ? (null as unknown as string) : view.userId))
    .groupByKey(Grouped.with(Serdes.String(), pageViewSerde))
    .windowedBy(SessionWindows.ofInactivityGapAndGrace(INACTIVITY_GAP_MS, options.graceMs!))
    .aggregate<SessionStats>(
      emptyStats,
      (_user, view, stats) => {
        if (rejected(view)) throw new Error(`view of ${view.bytes} bytes rejected`);
        return addView(stats, view);
      },
      (_user, left, right) => mergeStats(left, right),
      Materialized.as<string, SessionStats>('session-stats').withValueSerde(sessionStatsSerde),
    )
    .toStream()
    .to(options.outputTopic!, Produced.with(sessionKeySerde, sessionStatsSerde));
  return builder.build({ applicationId: options.applicationId! });
}

let harness: SessionizeHarness | undefined;
afterEach(async () => {
  await harness?.cleanup();
});

describe('every record is accounted for', () => {
  it('null keys are dropped and counted, rejected views are dead-lettered naming their input record, the rest is exact', async () => {
    harness = new SessionizeHarness('exactly_once_v2');
    const h = harness;
    await h.createTopics();
    const dlq = `${h.applicationId}-dead-letters`;
    await createTopics([{ topic: dlq, numPartitions: 1 }]);
    const events = SessionizeHarness.events(6000, 31, undefined, 0.005);
    await h.produce(events);

    const instance = await h.start(h.newStateDir(), { processingExceptionHandler: { deadLetterTopic: dlq } }, topologyWithBadRecords);
    await waitForState(instance.app, 'RUNNING');
    await h.waitForLagZero();
    const metrics = instance.app.metrics();
    await instance.app.close();

    const good = events.filter((e) => !e.malformed && e.view.status < 500);
    const expectedRejected = good.filter((e) => rejected(e.view));
    const expectedAnonymous = good.filter((e) => anonymous(e.view));
    expect(expectedRejected.length).toBeGreaterThan(10);
    expect(expectedAnonymous.length).toBeGreaterThan(10);

    // The sessions of the views that remain, as if the others had never arrived.
    const remaining = events.filter((e) => !rejected(e.view) && !anonymous(e.view));
    const expected = oracleSessions(remaining);
    const { sessions } = await h.results();
    expect([...sessions.keys()].filter((k) => !expected.has(k))).toEqual([]);
    for (const [id, s] of expected) expect(sessions.get(id), id).toEqual(s);

    // Dead letters: one per rejected view, each naming the input record it came from.
    const letters = await readTopic(brokers(), dlq, 1, true);
    expect(letters.length).toBe(expectedRejected.length);
    const messages = await dlqMessages(dlq, letters.length);
    for (const m of messages) expect(m).toMatch(new RegExp(`from the input record at ${h.input}-\\d+@\\d+`));

    // And the counts add up: input = processed by the aggregate + dead-lettered + dropped (+ filtered/skipped upstream).
    expect(metrics.droppedNullKeyTotal).toBe(expectedAnonymous.length);
    expect(metrics.deadLetterRecordsTotal).toBe(expectedRejected.length);
    const malformed = events.filter((e) => e.malformed).length;
    // A dead-lettered record counts once, as a dead letter: the skipped are the malformed records only.
    expect(metrics.skippedRecordsTotal).toBe(malformed);
  });
});

/** The error messages of the dead letters, from their headers. */
async function dlqMessages(topic: string, count: number): Promise<string[]> {
  const consumer = kafkaClient('dlq-reader').consumer({ groupId: `${topic}-reader`, readUncommitted: false });
  const messages: string[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        messages.push(String(message.headers?.[DEAD_LETTER_HEADERS.message] ?? ''));
        if (messages.length === count) resolve();
      },
    });
  });
  await consumer.disconnect();
  return messages;
}

