/**
 * Sessions that end on time (issue 28), on a broker: with the event-time mode on and exactly-once, after a
 * user's last view and no further traffic anywhere, the final session (`emitStrategy(onWindowClose())`)
 * arrives within gap + grace + maxEventDelayMs + idleAdvanceAfterMs + 5 s, exactly once. Without idle
 * advance it would wait for the next view on the partition.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  Consumed, EmitStrategy, Grouped, KafkaStreams, Produced, Serdes, SessionWindows, StreamsBuilder, WindowedSerdes,
} from '../../src/index.js';
import { readTopic } from '../../examples/sessionize/kafka-io.js';
import { appsUnderTest } from './apps-under-test.js';
import { brokers, createTopics, kafkaClient, uniqueName } from './kafka-env.js';
import { KeptLogs } from './kept-logs.js';

const { apps, dirs } = appsUnderTest();
const PARTITIONS = 3;
const GAP = 4000;
const GRACE = 1000;
const DELAY = 2000;
const IDLE = 2000;

describe('event-time mode: idle advance on a broker', () => {
  it("emits a quiet user's final session within gap + grace + delay + idle + 5 s, exactly once", async () => {
    const applicationId = uniqueName('idle-advance');
    const input = `${applicationId}-views`;
    const output = `${applicationId}-sessions`;
    await createTopics([
      { topic: input, numPartitions: PARTITIONS },
      { topic: output, numPartitions: PARTITIONS },
    ]);
    const builder = new StreamsBuilder();
    builder
      .stream(input, Consumed.with(Serdes.String(), Serdes.String()))
      .selectKey((_server, user) => user)
      .groupByKey(Grouped.with(Serdes.String(), Serdes.String()).withName('views'))
      .windowedBy(SessionWindows.ofInactivityGapAndGrace(GAP, GRACE))
      .emitStrategy(EmitStrategy.onWindowClose())
      .count()
      .toStream()
      .to(output, Produced.with(WindowedSerdes.sessionWindowed(Serdes.String()), Serdes.Int64()));
    const stateDir = mkdtempSync(join(tmpdir(), 'kstreams-test-state-'));
    dirs.push(stateDir);
    const logs = new KeptLogs();
    const app = new KafkaStreams(builder.build({ applicationId }), {
      applicationId,
      bootstrapServers: brokers(),
      stateDir,
      processingGuarantee: 'exactly_once_v2',
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 1000,
      logger: logs.logger('instance-1'),
      eventTime: { progressMarkers: true, maxEventDelayMs: DELAY, idleAdvanceAfterMs: IDLE },
    });
    apps.push(app);
    await app.start();
    const deadline = Date.now() + 60_000;
    while (app.state !== 'RUNNING' || app.metrics().activeTasks.length < 2 * PARTITIONS) {
      if (Date.now() > deadline) throw new Error(`instance not running with every task (${app.state})`);
      await new Promise((r) => setTimeout(r, 50));
    }

    // Views of alice as three web servers log them (one partition each), stamped with the wall clock.
    const producer = kafkaClient('idle-producer').producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    let last = 0;
    for (let i = 0; i < 6; i++) {
      last = Date.now();
      await producer.send({ topic: input, messages: [{ key: `server-${i % PARTITIONS}`, value: 'alice', timestamp: String(last), partition: i % PARTITIONS }] });
      await new Promise((r) => setTimeout(r, 300));
    }
    await producer.disconnect();

    const bound = GAP + GRACE + DELAY + IDLE + 5000;
    let records: Array<[Buffer, Buffer | null]> = [];
    while (records.length === 0 && Date.now() - last < bound + 10_000) {
      records = await readTopic(brokers(), output, PARTITIONS, true);
      if (records.length === 0) await new Promise((r) => setTimeout(r, 200));
    }
    const arrivedAfter = Date.now() - last;
    console.log(`[idle-advance] final session read ${arrivedAfter} ms after the last view (bound ${bound} ms)`);
    expect(records.length).toBe(1);
    expect(arrivedAfter).toBeLessThanOrEqual(bound);
    expect(arrivedAfter).toBeGreaterThanOrEqual(GAP + GRACE);
    const serde = WindowedSerdes.sessionWindowed(Serdes.String());
    expect(serde.deserialize(records[0]![0]).key).toBe('alice');
    expect(Serdes.Int64().deserialize(records[0]![1]!)).toBe(6);
    // Exactly once: nothing more comes, however long the quiet lasts.
    await new Promise((r) => setTimeout(r, 3000));
    expect((await readTopic(brokers(), output, PARTITIONS, true)).length).toBe(1);
    expect(app.metrics().droppedLateTotal).toBe(0);
  });
});
