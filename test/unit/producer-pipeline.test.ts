/**
 * The producer pipeline's contract with processing: one request in flight (per-partition order), everything
 * enqueued meanwhile rides the next request, back-pressure that holds processing until the backlog is under a
 * limit, and a failed send that fails every later flush (no commit past lost output). The sender is a scripted
 * stand-in for the broker: each request waits until the test acknowledges or fails it.
 */
import { describe, expect, it } from 'vitest';
import type { BatchSender, ProducedBatchMetadata, ProducedRecord } from '../../src/client/producer.js';
import { ProducerPipeline } from '../../src/runtime/producer-pipeline.js';
import type { OutgoingRecord } from '../../src/runtime/record-sink.js';

interface PendingRequest {
  readonly records: Array<{ topic: string; record: ProducedRecord }>;
  ack(baseOffsets?: Record<string, number>): void;
  fail(err: Error): void;
}

/** A sender whose requests stay in flight until the test settles them, in order. */
class ScriptedBroker implements BatchSender {
  readonly requests: PendingRequest[] = [];
  inFlight = 0;
  maxInFlight = 0;

  sendBatch(request: { topicMessages: Array<{ topic: string; messages: ProducedRecord[] }> }): Promise<ProducedBatchMetadata[]> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise((resolve, reject) => {
      const records = request.topicMessages.flatMap(({ topic, messages }) => messages.map((record) => ({ topic, record })));
      this.requests.push({
        records,
        ack: (baseOffsets = {}) => {
          this.inFlight--;
          resolve(Object.entries(baseOffsets).map(([tp, base]) => {
            const [topicName, partition] = tp.split(':') as [string, string];
            return { topicName, partition: Number(partition), baseOffset: String(base) };
          }));
        },
        fail: (err) => {
          this.inFlight--;
          reject(err);
        },
      });
    });
  }
}

const record = (i: number, topic = 'out', partition: number | undefined = 0, valueBytes = 10): OutgoingRecord => ({
  topic,
  key: Buffer.from(`k${i}`),
  value: Buffer.alloc(valueBytes, i % 256),
  timestamp: 1000 + i,
  headers: {},
  partition,
});

/** Lets the pipeline's promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('producer pipeline', () => {
  it('keeps one request in flight; records enqueued meanwhile go, in order, in the next one', async () => {
    const broker = new ScriptedBroker();
    const pipeline = new ProducerPipeline(broker);
    pipeline.enqueue(record(0));
    pipeline.kick();
    for (let i = 1; i <= 5; i++) pipeline.enqueue(record(i));
    pipeline.kick();
    expect(broker.requests).toHaveLength(1);

    broker.requests[0]!.ack({ 'out:0': 100 });
    await settle();
    expect(broker.requests).toHaveLength(2);
    expect(broker.requests[1]!.records.map((r) => r.record.key!.toString())).toEqual(['k1', 'k2', 'k3', 'k4', 'k5']);
    broker.requests[1]!.ack({ 'out:0': 101 });
    await pipeline.flush();
    expect(broker.maxInFlight).toBe(1);
    expect(pipeline.pending).toBe(0);
    expect(pipeline.lastOffset('out', 0)).toBe(105n);
  });

  it('flushes of the same records share one waiter, however many there are before the acknowledgement', async () => {
    const broker = new ScriptedBroker();
    const pipeline = new ProducerPipeline(broker);
    pipeline.enqueue(record(0));
    const flushes = Array.from({ length: 1000 }, () => pipeline.flush());
    expect(pipeline.waitingFlushes).toBe(1);
    pipeline.enqueue(record(1));
    const later = pipeline.flush();
    expect(pipeline.waitingFlushes).toBe(2);
    broker.requests[0]!.ack({ 'out:0': 0 });
    await Promise.all(flushes);
    expect(pipeline.waitingFlushes).toBe(1);
    await settle();
    broker.requests[1]!.ack({ 'out:0': 1 });
    await later;
    expect(pipeline.waitingFlushes).toBe(0);
  });

  it('holds processing in drainBelow until the backlog is under the limit', async () => {
    const broker = new ScriptedBroker();
    const pipeline = new ProducerPipeline(broker, 10);
    for (let i = 0; i < 25; i++) pipeline.enqueue(record(i));
    let drained = false;
    const drain = pipeline.drainBelow(5).then(() => (drained = true));
    await settle();
    expect(drained).toBe(false);
    broker.requests[0]!.ack(); // 10 of 25: 15 pending
    await settle();
    expect(drained).toBe(false);
    broker.requests[1]!.ack(); // 20 of 25: 5 pending
    await drain;
    expect(pipeline.pending).toBe(5);
    expect(broker.requests).toHaveLength(3);
  });

  it('fails every later flush and drain once a send failed, and sends nothing more', async () => {
    const broker = new ScriptedBroker();
    const pipeline = new ProducerPipeline(broker);
    pipeline.enqueue(record(0));
    const first = pipeline.flush();
    pipeline.enqueue(record(1));
    broker.requests[0]!.fail(new Error('NOT_LEADER_OR_FOLLOWER'));
    await expect(first).rejects.toThrow(/Producing 1 records failed: NOT_LEADER_OR_FOLLOWER/);
    await expect(pipeline.flush()).rejects.toThrow(/NOT_LEADER_OR_FOLLOWER/);
    await expect(pipeline.drainBelow(0)).rejects.toThrow(/NOT_LEADER_OR_FOLLOWER/);
    pipeline.kick();
    expect(broker.requests).toHaveLength(1);
  });

  it('splits a request before one partition would carry more than the batch byte limit', async () => {
    const broker = new ScriptedBroker();
    const pipeline = new ProducerPipeline(broker, 20_000, 1000);
    // ~312 bytes each as the pipeline counts them: three fit under 1000 for one partition, a fourth does not.
    for (let i = 0; i < 4; i++) pipeline.enqueue(record(i, 'out', 0, 240));
    pipeline.enqueue(record(9, 'out', 1, 240)); // another partition has a budget of its own
    pipeline.kick();
    expect(broker.requests[0]!.records.map((r) => r.record.key!.toString())).toEqual(['k0', 'k1', 'k2']);
    broker.requests[0]!.ack();
    await settle();
    expect(broker.requests[1]!.records.map((r) => r.record.key!.toString())).toEqual(['k3', 'k9']);
    broker.requests[1]!.ack();
    await pipeline.flush();
  });

  it("bounds a topic's batches by the topic's own limit where it is smaller (its max.message.bytes)", async () => {
    const broker = new ScriptedBroker();
    const pipeline = new ProducerPipeline(broker, 20_000, 768 * 1024, (topic) => (topic === 'small' ? 700 : undefined));
    // ~312 bytes each: two fit under 700 for 'small'; 'out' keeps the pipeline's own limit.
    for (let i = 0; i < 3; i++) pipeline.enqueue(record(i, 'small', 0, 240));
    for (let i = 5; i < 8; i++) pipeline.enqueue(record(i, 'out', 0, 240));
    pipeline.kick();
    expect(broker.requests[0]!.records.map((r) => r.record.key!.toString())).toEqual(['k0', 'k1']);
    broker.requests[0]!.ack();
    await settle();
    expect(broker.requests[1]!.records.map((r) => r.record.key!.toString())).toEqual(['k2', 'k5', 'k6', 'k7']);
    broker.requests[1]!.ack();
    await pipeline.flush();
  });

  it('a retired pipeline fails its waiting flush at once, even when the send in flight succeeds later, and keeps that reason', async () => {
    // A task suspended in a broker outage retires its pipeline while kafkajs still retries a send. If that
    // send got through once the broker is back, the commit waiting on the flush must not go on.
    const broker = new ScriptedBroker();
    const pipeline = new ProducerPipeline(broker, 1);
    for (let i = 0; i < 3; i++) pipeline.enqueue(record(i));
    pipeline.kick();
    const flushed = pipeline.flush().then(() => 'flushed', (err: Error) => err.message);
    const retired = new Error('task suspended');
    pipeline.retire(retired);
    expect(await flushed).toBe('task suspended');
    broker.requests[0]!.ack({ 'out:0': 0 });
    await settle();
    expect(broker.requests).toHaveLength(1);
    await expect(pipeline.flush()).rejects.toBe(retired);
    // A send that fails after the retirement (the new producer fenced the old one) reports the retirement.
    const other = new ProducerPipeline(broker, 1);
    other.enqueue(record(9));
    other.kick();
    other.retire(retired);
    broker.requests[1]!.fail(new Error('Producer attempted an operation with an old epoch'));
    await settle();
    await expect(other.drainBelow(0)).rejects.toBe(retired);
  });
});

