/**
 * Operating an application: dead-letter topics for bad input, the reset tool (rewind after a bad deploy)
 * and the `kstreams` command line, on the real broker.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Partitioners } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { DEAD_LETTER_HEADERS, ResetError, resetApplication } from '../../src/index.js';
import { MALFORMED } from '../../examples/sessionize/kafka-io.js';
import { brokers, createTopics, kafkaClient, uniqueName, withAdmin } from './kafka-env.js';
import { PARTITIONS, SessionizeHarness, waitForState } from './sessionize-harness.js';

const run = promisify(execFile);
const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'src/cli/kstreams.ts', ...args], { env: { ...process.env, KAFKA_BROKERS: '' } });

let harness: SessionizeHarness | undefined;
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

/** Every record of a topic with its partition, offset and headers. */
async function readAll(topic: string, partitions: number) {
  const kafka = kafkaClient('ops-reader');
  const consumer = kafka.consumer({ groupId: uniqueName('ops-reader') });
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = ends.reduce((n, e) => n + Number(e.high), 0);
  const records: Array<{ partition: number; offset: string; value: Buffer | null; headers: Record<string, string> }> = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    if (total === 0) resolve();
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(Array.isArray(v) ? v[0] : v);
        records.push({ partition, offset: message.offset, value: message.value, headers });
        if (records.length === total) resolve();
      },
    });
  });
  await done;
  await consumer.disconnect();
  expect(ends.length).toBe(partitions);
  return records;
}

async function committedOffsets(groupId: string, topic: string): Promise<number[]> {
  return withAdmin(async (admin) => {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (t?.partitions ?? []).sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
  });
}

describe('bad input and rewinding', () => {
  it('dead-letters every malformed record with its origin, processes every good one; reset rewinds it all', async () => {
    harness = new SessionizeHarness('at_least_once');
    const h = harness;
    await h.createTopics();
    const dlq = `${h.applicationId}-dead-letters`;
    await createTopics([{ topic: dlq, numPartitions: 1 }]);
    await h.produce(SessionizeHarness.events(4000, 5, undefined, 0.01));

    const stateDir = h.newStateDir();
    const first = await h.start(stateDir, { deserializationExceptionHandler: { deadLetterTopic: dlq } });
    await waitForState(first.app, 'RUNNING');
    await h.waitForLagZero();
    expect(first.app.metrics().deadLetterRecordsTotal).toBeGreaterThan(0);

    // The reset refuses while an instance runs.
    await expect(
      resetApplication({ applicationId: h.applicationId, bootstrapServers: brokers(), inputTopics: [h.input], target: { kind: 'earliest' } }),
    ).rejects.toThrow(ResetError);
    await first.app.close();
    await h.expectOracle();

    // Every malformed input record is in the dead-letter topic, with headers naming where it came from.
    const input = await readAll(h.input, PARTITIONS);
    const malformed = input.filter((r) => r.value !== null && r.value.equals(MALFORMED));
    const letters = await readAll(dlq, 1);
    expect(malformed.length).toBeGreaterThan(10);
    expect(letters.length).toBe(malformed.length);
    const origins = new Set(letters.map((l) => `${l.headers[DEAD_LETTER_HEADERS.topic]}-${l.headers[DEAD_LETTER_HEADERS.partition]}@${l.headers[DEAD_LETTER_HEADERS.offset]}`));
    expect(origins).toEqual(new Set(malformed.map((r) => `${h.input}-${r.partition}@${r.offset}`)));
    for (const l of letters) {
      expect(l.value?.equals(MALFORMED)).toBe(true);
      expect(l.headers[DEAD_LETTER_HEADERS.exception]).toBe('DeserializationError');
      expect(Number(l.headers[DEAD_LETTER_HEADERS.timestamp])).toBeGreaterThan(Date.now() - 600_000);
    }
    // Good records all counted (the oracle above), bad ones all dead-lettered: together, the input.
    expect(first.app.metrics().deadLetterRecordsTotal).toBe(malformed.length);

    // A dry run changes nothing.
    const before = await committedOffsets(h.applicationId, h.input);
    const internal = [`${h.applicationId}-session-stats-changelog`, `${h.applicationId}-session-stats-repartition`];
    const { stdout: dry } = await cli('reset', '--application-id', h.applicationId, '--bootstrap-servers', brokers().join(','),
      '--input-topics', h.input, '--to-earliest', '--state-dir', stateDir, '--dry-run');
    expect(dry).toContain('Dry run');
    expect(await committedOffsets(h.applicationId, h.input)).toEqual(before);
    const topics = await withAdmin((admin) => admin.listTopics());
    for (const t of internal) expect(topics).toContain(t);
    expect(existsSync(join(stateDir, h.applicationId))).toBe(true);

    // The real reset: offsets to the start, internal topics and local state gone.
    const { stdout } = await cli('reset', '--application-id', h.applicationId, '--bootstrap-servers', brokers().join(','),
      '--input-topics', h.input, '--to-earliest', '--state-dir', stateDir);
    expect(stdout).toContain('Reset done');
    expect(await committedOffsets(h.applicationId, h.input)).toEqual(new Array(PARTITIONS).fill(0));
    expect(existsSync(join(stateDir, h.applicationId))).toBe(false);
    await expect.poll(async () => (await withAdmin((admin) => admin.listTopics())).filter((t) => internal.includes(t)), { timeout: 30_000 }).toEqual([]);

    // A restart reprocesses everything and ends with the same results.
    const again = await h.start(stateDir, { deserializationExceptionHandler: { deadLetterTopic: dlq } });
    await waitForState(again.app, 'RUNNING');
    await h.waitForLagZero();
    expect(again.restoredTotal()).toBe(0);
    await again.app.close();
    await h.expectOracle();

    const { stdout: lag } = await cli('lag', '--application-id', h.applicationId, '--bootstrap-servers', brokers().join(','));
    expect(lag).toContain(`${h.input}-0`);
    expect(lag).toContain('total lag 0');
  });

  it('a dry run prints its plan while instances run, saying the reset would refuse', async () => {
    const topic = uniqueName('reset-running');
    const groupId = uniqueName('reset-running-app');
    await createTopics([{ topic, numPartitions: 2 }]);
    // A running instance, as the group coordinator sees one: a member of the application's group.
    const consumer = kafkaClient('reset-running').consumer({ groupId });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({ eachMessage: async () => {} });
      await expect.poll(async () => (await withAdmin((admin) => admin.describeGroups([groupId]))).groups[0]?.members.length, { timeout: 30_000 }).toBe(1);

      const report = await resetApplication({ applicationId: groupId, bootstrapServers: brokers(), inputTopics: [topic], target: { kind: 'earliest' }, dryRun: true });
      expect(report.wouldRefuse).toMatch(/still has 1 running member\(s\)/);
      expect(report.offsets.map((o) => `${o.topic}-${o.partition}`)).toEqual([`${topic}-0`, `${topic}-1`]);

      const { stdout } = await cli('reset', '--application-id', groupId, '--bootstrap-servers', brokers().join(','), '--input-topics', topic, '--to-earliest', '--dry-run');
      expect(stdout).toContain(`Dry run: nothing was changed. The reset would refuse now: Application '${groupId}' still has 1 running member(s)`);
      expect(stdout).toContain('Once every instance is stopped, it would:');
      expect(stdout).toContain(`offset ${topic}-1: `);

      // The reset itself still refuses.
      await expect(resetApplication({ applicationId: groupId, bootstrapServers: brokers(), inputTopics: [topic], target: { kind: 'earliest' } })).rejects.toThrow(ResetError);
    } finally {
      await consumer.disconnect();
    }
  });

  it('--to-datetime and --by-duration start from the first record at or after the time', async () => {
    const topic = uniqueName('reset-time');
    const groupId = uniqueName('reset-time-app');
    await createTopics([{ topic, numPartitions: 2 }]);
    const t0 = Date.now() - 3600_000;
    const producer = kafkaClient().producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    // Partition 0: a record every second from t0; partition 1: every two seconds.
    for (const [partition, step] of [[0, 1000], [1, 2000]] as const) {
      await producer.send({ topic, messages: Array.from({ length: 100 }, (_, i) => ({ partition, value: `v${i}`, timestamp: String(t0 + i * step) })) });
    }
    await producer.disconnect();

    const { stdout } = await cli('reset', '--application-id', groupId, '--bootstrap-servers', brokers().join(','), '--input-topics', topic,
      '--to-datetime', new Date(t0 + 50_500).toISOString());
    expect(stdout).toContain(`offset ${topic}-0: none -> 51`);
    expect(await committedOffsets(groupId, topic)).toEqual([51, 26]);

    const report = await resetApplication({ applicationId: groupId, bootstrapServers: brokers(), inputTopics: [topic], target: { kind: 'duration', durationMs: 3600_000 - 10_000 }, nowMs: t0 + 3600_000 });
    expect(report.offsets.map((o) => Number(o.to))).toEqual([10, 5]);
    expect(await committedOffsets(groupId, topic)).toEqual([10, 5]);
  });
});
