import { describe, expect, it } from 'vitest';
import {
  BufferConfig,
  ConfigError,
  Consumed,
  Produced,
  Serdes,
  StreamsBuilder,
  Suppressed,
  SuppressionBufferFullError,
  TimeWindows,
  TopologyTestDriver,
  type StrictBufferConfig,
  type Windowed,
} from '../../src/index.js';
import { bufferStore } from '../../src/dsl/internals/table-store.js';
import { SuppressionBuffer, type BufferedEntry } from '../../src/dsl/internals/processors/suppression-buffer.js';
import type { KeyValueStore } from '../../src/stores/state-store.js';
import { LoggedStore } from './support/logged-store.js';

const S = Serdes.String();

function limitedTable(suppressed: Suppressed) {
  const builder = new StreamsBuilder();
  builder.table('in', Consumed.with(S, S)).suppress(suppressed).toStream().to('out', Produced.with(S, S));
  const driver = new TopologyTestDriver(builder.build({ applicationId: 'bounded' }), { cacheMaxBytes: 0 });
  const input = driver.createInputTopic('in', S, S);
  const output = driver.createOutputTopic('out', S, S);
  const read = () => output.readRecordsToList().map((r) => [r.key, r.value, r.timestamp]);
  return { driver, input, read };
}

describe('Suppressed.untilTimeLimit with a bounded buffer', () => {
  it('emitEarlyWhenFull (maxRecords): the oldest key leaves early, by buffer time then key bytes', () => {
    const { input, read } = limitedTable(Suppressed.untilTimeLimit(100, BufferConfig.maxRecords(2)));
    input.pipeInput('b', '1', 5);
    input.pipeInput('a', '1', 5);
    input.pipeInput('b', '2', 6); // b keeps its place (buffer time 5) and takes its latest value
    expect(read()).toEqual([]);
    input.pipeInput('c', '1', 7); // three keys: a (5, sorts before b) goes first
    expect(read()).toEqual([['a', '1', 5]]);
    input.pipeInput('d', '1', 8);
    expect(read()).toEqual([['b', '2', 6]]);
  });

  it('counts bytes as Kafka Streams does: prior, old and new values, topic name, 28 bytes of fixed overhead', () => {
    // Key 'a' first: 8 (time) + 1 (key) + 1 (new) + 8 + 8 + 2 ('in') + 4 = 32 bytes: fits in 32.
    const { input, read } = limitedTable(Suppressed.untilTimeLimit(100, BufferConfig.maxBytes(32)));
    input.pipeInput('a', '1', 0);
    expect(read()).toEqual([]);
    // Its update holds the prior value (null), the old value '1' and the new '2': 33 bytes, emitted early.
    input.pipeInput('a', '2', 1);
    expect(read()).toEqual([['a', '2', 1]]);
    input.pipeInput('b', '1', 2);
    input.pipeInput('c', '1', 3); // 32 + 32 > 32: b goes
    expect(read()).toEqual([['b', '1', 2]]);
  });

  it('shutDownWhenFull stops with a SuppressionBufferFullError that names the processor and the counts', () => {
    const { input } = limitedTable(Suppressed.untilTimeLimit(100, BufferConfig.maxRecords(1).shutDownWhenFull()).withName('limit'));
    input.pipeInput('a', '1', 0);
    let error: unknown;
    try {
      input.pipeInput('b', '1', 1);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SuppressionBufferFullError);
    expect((error as Error).message).toMatch(/suppression buffer of limit exceeded its max capacity: it holds 2 records \(max 1\)/);
  });

  it('records that expire leave before the bound is checked', () => {
    const { input, read } = limitedTable(Suppressed.untilTimeLimit(10, BufferConfig.maxRecords(1).shutDownWhenFull()));
    input.pipeInput('a', '1', 0);
    input.pipeInput('b', '1', 10); // a expires (0 <= 10 - 10) before the buffer is counted: no error
    expect(read()).toEqual([['a', '1', 0]]);
  });
});

describe('Suppressed.untilWindowCloses with a bounded buffer', () => {
  it('takes only a strict buffer, and stops when full', () => {
    expect(() => Suppressed.untilWindowCloses(BufferConfig.maxRecords(1) as unknown as StrictBufferConfig)).toThrow(ConfigError);
    const builder = new StreamsBuilder();
    builder
      .stream('in', Consumed.with(S, S))
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeAndGrace(10, 0))
      .count()
      .suppress(Suppressed.untilWindowCloses(BufferConfig.maxRecords(1).shutDownWhenFull()))
      .toStream((windowed: Windowed<string>) => windowed.key)
      .to('out', Produced.with(S, Serdes.Int64()));
    const driver = new TopologyTestDriver(builder.build({ applicationId: 'final' }), { cacheMaxBytes: 0 });
    const input = driver.createInputTopic('in', S, S);
    input.pipeInput('a', 'x', 0);
    input.pipeInput('a', 'x', 1); // the same window: one key
    expect(() => input.pipeInput('b', 'x', 2)).toThrow(SuppressionBufferFullError);
  });

  it("counts a new window's old value, the initializer's 0L, as Kafka Streams does (differential 20250914:484)", () => {
    // Kafka Streams' KStreamWindowAggregate sends Change(1, 0) for a window's first record, so a fresh
    // entry holds prior = old = 0L (8 bytes, counted once): 8 + 9 (key@start) + 8 + 8 + 22 = 55 bytes;
    // an update adds the old value: 63. Kafka Streams 3.9.1 stops at the last record with [181/159] bytes.
    const run = (maxBytes: number) => {
      const builder = new StreamsBuilder();
      builder
        .stream('in', Consumed.with(S, S))
        .groupByKey()
        .windowedBy(TimeWindows.ofSizeAndGrace(10, 10))
        .count()
        .suppress(Suppressed.untilWindowCloses(BufferConfig.maxBytes(maxBytes).shutDownWhenFull()))
        .toStream((windowed: Windowed<string>) => `${windowed.key}@${windowed.window.start}`)
        .to('out', Produced.with(S, Serdes.Int64()));
      const driver = new TopologyTestDriver(builder.build({ applicationId: 'final-bytes' }), { cacheMaxBytes: 0 });
      const input = driver.createInputTopic('in', S, S);
      const output = driver.createOutputTopic('out', S, Serdes.Int64());
      const records: Array<[string, string | null, number]> = [
        ['c', 'e', 18], ['b', 'b', 39], ['b', 'd', 19], ['a', 'a', 39], ['b', null, 30], ['a', 'e', 32], ['a', 'c', 43],
      ];
      let error: unknown;
      try {
        for (const [key, value, ts] of records) input.pipeInput(key, value, ts);
      } catch (err) {
        error = err;
      }
      return { error, out: output.readRecordsToList().map((r) => [r.key, r.value, r.timestamp]) };
    };
    const full = run(159);
    expect(full.error).toBeInstanceOf(SuppressionBufferFullError);
    expect((full.error as Error).message).toMatch(/holds 3 records \(max unbounded\) and 181 bytes \(max 159\)/);
    expect(full.out).toEqual([['c@10', 1, 18]]);
    expect(run(181).error).toBeUndefined();
  });
});

describe('SuppressionBuffer', () => {
  const entries = (buffer: SuppressionBuffer): BufferedEntry[] => {
    const out: BufferedEntry[] = [];
    buffer.evictWhile(() => buffer.numRecords > 0, (e) => {
      const { keyBytes, bufferTime, prior, old, priorIsOld, value, timestamp, topic, headers } = e;
      out.push({ keyBytes, bufferTime, prior, old, priorIsOld, value, timestamp, topic, headers });
    });
    return out;
  };

  it('is restored from its changelog with the same order, sizes, prior values and record contexts', () => {
    const logged = new LoggedStore(bufferStore('buffer'), 0);
    const buffer = new SuppressionBuffer(logged.store as unknown as KeyValueStore<Buffer, Buffer>);
    const b = (s: string) => Buffer.from(s);
    buffer.put(7, b('k2'), null, b('v1'), 7, 'in', {});
    buffer.put(5, b('k1'), b('old'), b('v1'), 5, 'in', { trace: 'x', raw: Buffer.of(1, 2) });
    buffer.put(9, b('k2'), b('v1'), b('v2'), 9, 'other', {}); // keeps buffer time 7 and prior null
    buffer.put(3, b('k3'), b('o'), null, 3, undefined, {});
    buffer.evictWhile(() => buffer.minTime() <= 3, () => {}); // k3 leaves: a tombstone in the changelog
    logged.commit();
    const size = buffer.bufferSize;
    // k1: 8 + 2 + 3 (prior = old, once) + 2 + 8 + 8 + 2 + 4 + ('trace' 5 + 1) + ('raw' 3 + 2) = 48
    // k2: 8 + 2 + 0 (prior null) + 2 (old) + 2 (new) + 8 + 8 + 5 ('other') + 4 = 39
    expect(size).toBe(87);
    const restored = new SuppressionBuffer(logged.replayed(1) as unknown as KeyValueStore<Buffer, Buffer>);
    restored.restore(() => {
      throw new Error('no legacy entries here');
    });
    expect([restored.numRecords, restored.bufferSize]).toEqual([2, size]);
    const fromRestored = entries(restored);
    expect(fromRestored.map((e) => e.keyBytes.toString())).toEqual(['k1', 'k2']);
    expect(fromRestored).toEqual(entries(buffer));
  });

  it("counts an update's old value once when it has the prior value's bytes, as BufferValue de-duplicates them (differential 20250914:1422)", () => {
    const logged = new LoggedStore(bufferStore('buffer'), 0);
    const buffer = new SuppressionBuffer(logged.store as unknown as KeyValueStore<Buffer, Buffer>);
    const zero = (): Buffer => Buffer.alloc(8);
    // A sliding window created twice by one record (the previous record's right window, then its own left
    // window), each time from the initializer's 0L: prior and old are equal bytes, not the same array.
    buffer.put(6, Buffer.from('k'), zero(), Buffer.of(0, 0, 0, 0, 0, 0, 0, 1), 6, 'in', {});
    const once = buffer.bufferSize; // 8 + 1 + 8 (prior = old) + 8 + 8 + 8 + 2 + 4 = 47
    buffer.put(6, Buffer.from('k'), zero(), Buffer.of(0, 0, 0, 0, 0, 0, 0, 1), 6, 'in', {});
    expect([once, buffer.bufferSize]).toEqual([47, 47]);
    buffer.put(6, Buffer.from('k'), Buffer.of(0, 0, 0, 0, 0, 0, 0, 1), Buffer.of(0, 0, 0, 0, 0, 0, 0, 2), 6, 'in', {});
    expect(buffer.bufferSize).toBe(55); // the old value 1 differs from the prior 0: both count
  });
});
