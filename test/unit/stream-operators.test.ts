import { describe, expect, it } from 'vitest';
import {
  Branched,
  Consumed,
  EmitStrategy,
  Grouped,
  Materialized,
  Named,
  Produced,
  Repartitioned,
  Serdes,
  SlidingWindows,
  StreamsBuilder,
  Stores,
  Suppressed,
  TimeWindows,
  TopologyTestDriver,
  WindowedSerdes,
  DeserializationError,
  ProcessingError,
  type KeyValueStore,
  type Processor,
  type ProcessorContext,
  type KStream,
} from '../../src/index.js';

const S = Serdes.String();
const N = Serdes.Int32();

/** Builds a topology from `input` (String/Int32 records) and returns a driver with helpers. */
function run(define: (input: KStream<string, number>, builder: StreamsBuilder) => void) {
  const builder = new StreamsBuilder();
  define(builder.stream('in', Consumed.with(S, N)), builder);
  const driver = new TopologyTestDriver(builder.build({ applicationId: 'ops' }));
  const input = driver.createInputTopic('in', S, N);
  const out = <K, V>(topic = 'out', keySerde = S as unknown, valueSerde = N as unknown) =>
    driver.createOutputTopic(topic, keySerde as never, valueSerde as never).readKeyValuesToList() as Array<{ key: K; value: V }>;
  return { driver, input, out };
}

describe('stateless KStream operators', () => {
  it('filter and filterNot keep and drop by predicate', () => {
    const { input, out } = run((s) => {
      s.filter((_k, v) => v % 2 === 0).to('out', Produced.with(S, N));
      s.filterNot((_k, v) => v % 2 === 0).to('odd', Produced.with(S, N));
    });
    input.pipeKeyValueList([1, 2, 3, 4].map((v) => ({ key: 'k', value: v })));
    expect(out().map((kv) => kv.value)).toEqual([2, 4]);
    expect(out('odd').map((kv) => kv.value)).toEqual([1, 3]);
  });

  it('map, mapValues and selectKey transform keys and values', () => {
    const { input, out } = run((s) => {
      s.map((k, v) => ({ key: `${k}!`, value: v * 10 })).to('out', Produced.with(S, N));
      s.mapValues((v, k) => `${k}=${v}`).to('mv', Produced.with(S, S));
      s.selectKey((_k, v) => `key-${v}`).to('sk', Produced.with(S, N));
    });
    input.pipeInput('a', 1);
    expect(out()).toEqual([{ key: 'a!', value: 10 }]);
    expect(out('mv', S, S)).toEqual([{ key: 'a', value: 'a=1' }]);
    expect(out('sk')).toEqual([{ key: 'key-1', value: 1 }]);
  });

  it('flatMap and flatMapValues emit zero or more records per input', () => {
    const { input, out } = run((s) => {
      s.flatMap((k, v) => Array.from({ length: v }, (_, i) => ({ key: `${k}${i}`, value: i }))).to('out', Produced.with(S, N));
      s.flatMapValues((v) => (v > 1 ? [v, v] : [])).to('fmv', Produced.with(S, N));
    });
    input.pipeInput('x', 2);
    input.pipeInput('y', 0);
    expect(out()).toEqual([
      { key: 'x0', value: 0 },
      { key: 'x1', value: 1 },
    ]);
    expect(out('fmv')).toEqual([
      { key: 'x', value: 2 },
      { key: 'x', value: 2 },
    ]);
  });

  it('peek and foreach see every record; peek passes them on', () => {
    const peeked: number[] = [];
    const seen: string[] = [];
    const { input, out } = run((s) => {
      s.peek((_k, v) => peeked.push(v)).to('out', Produced.with(S, N));
      s.foreach((k, v) => seen.push(`${k}:${v}`));
    });
    input.pipeInput('a', 1);
    input.pipeInput('b', 2);
    expect(peeked).toEqual([1, 2]);
    expect(seen).toEqual(['a:1', 'b:2']);
    expect(out()).toHaveLength(2);
  });

  it('split sends each record to the first matching branch, else the default', () => {
    const { input, out } = run((s) => {
      const branches = s
        .split(Named.as('size-'))
        .branch((_k, v) => v < 10, Branched.as('small'))
        .branch((_k, v) => v < 100, Branched.as('medium'))
        .defaultBranch(Branched.as('large'));
      branches['size-small']!.to('small', Produced.with(S, N));
      branches['size-medium']!.to('medium', Produced.with(S, N));
      branches['size-large']!.to('large', Produced.with(S, N));
    });
    for (const v of [5, 50, 500, 7]) input.pipeInput('k', v);
    expect(out('small').map((kv) => kv.value)).toEqual([5, 7]);
    expect(out('medium').map((kv) => kv.value)).toEqual([50]);
    expect(out('large').map((kv) => kv.value)).toEqual([500]);
  });

  it('merge interleaves two streams in processing order', () => {
    const builder = new StreamsBuilder();
    const a = builder.stream('a', Consumed.with(S, N));
    const b = builder.stream('b', Consumed.with(S, N));
    a.merge(b).to('out', Produced.with(S, N));
    const driver = new TopologyTestDriver(builder.build({ applicationId: 'merge' }));
    driver.createInputTopic('a', S, N).pipeInput('x', 1);
    driver.createInputTopic('b', S, N).pipeInput('y', 2);
    driver.createInputTopic('a', S, N).pipeInput('z', 3);
    expect(driver.createOutputTopic('out', S, N).readKeyValuesToList()).toEqual([
      { key: 'x', value: 1 },
      { key: 'y', value: 2 },
      { key: 'z', value: 3 },
    ]);
  });

  it('to() with an extractor picks the topic per record', () => {
    const { input, out } = run((s) => s.to((r) => (r.value > 0 ? 'pos' : 'neg'), Produced.with(S, N)));
    input.pipeInput('a', 1);
    input.pipeInput('b', -1);
    expect(out('pos')).toEqual([{ key: 'a', value: 1 }]);
    expect(out('neg')).toEqual([{ key: 'b', value: -1 }]);
  });

  it('keeps the timestamp and headers of the input on derived records', () => {
    const { input, driver } = run((s) => s.mapValues((v) => v + 1).to('out', Produced.with(S, N)));
    input.pipeInput('a', 1, 12345, { trace: 'abc' });
    const record = driver.createOutputTopic('out', S, N).readRecord();
    expect(record.timestamp).toBe(12345);
    expect(record.headers).toEqual({ trace: 'abc' });
  });
});

describe('grouping and aggregation', () => {
  it('count, reduce and aggregate per key, materialized in key-value stores', () => {
    const { input, out, driver } = run((s) => {
      const grouped = s.groupByKey();
      grouped.count(Materialized.as('counts')).toStream().to('out', Produced.with(S, Serdes.Int64()));
      grouped.reduce((a, b) => a + b, Materialized.as<string, number>('sums').withValueSerde(N)).toStream().to('sums', Produced.with(S, N));
      grouped
        .aggregate(() => '', (_k, v, agg) => agg + String(v), Materialized.as<string, string>('concat').withValueSerde(S))
        .toStream()
        .to('concat', Produced.with(S, S));
    });
    input.pipeKeyValueList([
      { key: 'a', value: 1 },
      { key: 'b', value: 5 },
      { key: 'a', value: 2 },
    ]);
    expect(out('out', S, Serdes.Int64())).toEqual([
      { key: 'a', value: 1 },
      { key: 'b', value: 1 },
      { key: 'a', value: 2 },
    ]);
    expect(out('sums').map((kv) => kv.value)).toEqual([1, 5, 3]);
    expect(out('concat', S, S).at(-1)).toEqual({ key: 'a', value: '12' });
    expect(driver.getKeyValueStore<string, number>('counts').get('a')).toBe(2);
    expect(driver.getKeyValueStore<string, number>('sums').all()).toEqual([
      { key: 'a', value: 3 },
      { key: 'b', value: 5 },
    ]);
  });

  it('groupBy re-keys through a repartition topic named after the grouping', () => {
    const builder = new StreamsBuilder();
    builder
      .stream('in', Consumed.with(S, N))
      .groupBy((k) => k.slice(0, 1), Grouped.with(S, N).withName('by-initial'))
      .count(Materialized.as('initials'))
      .toStream()
      .to('out', Produced.with(S, Serdes.Int64()));
    const topology = builder.build({ applicationId: 'gb' });
    expect(topology.internalTopics.map((t) => t.name)).toEqual(['gb-by-initial-repartition', 'gb-initials-changelog']);
    expect(topology.subtopologies).toHaveLength(2);
    const driver = new TopologyTestDriver(topology);
    const input = driver.createInputTopic('in', S, N);
    for (const k of ['apple', 'avocado', 'banana']) input.pipeInput(k, 1);
    expect(driver.createOutputTopic('out', S, Serdes.Int64()).readKeyValuesToList()).toEqual([
      { key: 'a', value: 1 },
      { key: 'a', value: 2 },
      { key: 'b', value: 1 },
    ]);
    // The repartition topic holds the re-keyed records.
    expect(driver.createOutputTopic('gb-by-initial-repartition', S, N).readKeyValuesToList().map((kv) => kv.key)).toEqual([
      'a',
      'a',
      'b',
    ]);
  });

  it('selectKey then groupByKey repartitions under a generated, stable name', () => {
    const build = () => {
      const builder = new StreamsBuilder();
      builder
        .stream('in', Consumed.with(S, N))
        .selectKey((_k, v) => String(v))
        .groupByKey(Grouped.with(S, N))
        .count()
        .toStream()
        .to('out');
      return builder.build({ applicationId: 'sk' });
    };
    const names = build().internalTopics.map((t) => t.name);
    expect(names).toEqual([
      'sk-KSTREAM-AGGREGATE-STATE-STORE-0000000002-repartition',
      'sk-KSTREAM-AGGREGATE-STATE-STORE-0000000002-changelog',
    ]);
    expect(build().internalTopics.map((t) => t.name)).toEqual(names);
  });

  it('repartition() writes through a named topic with an explicit partition count', () => {
    const builder = new StreamsBuilder();
    builder.stream('in', Consumed.with(S, N)).repartition(Repartitioned.as<string, number>('spread').withNumberOfPartitions(12)).to('out');
    const topology = builder.build({ applicationId: 'rp' });
    expect(topology.internalTopics).toMatchObject([{ name: 'rp-spread-repartition', kind: 'repartition', numberOfPartitions: 12 }]);
  });

  it('drops records with a null key or value from key-value aggregations', () => {
    const { input, out, driver } = run((s) => s.groupByKey().count().toStream().to('out', Produced.with(S, Serdes.Int64())));
    input.pipeInput(null, 1);
    input.pipeInput('a', null);
    expect(out('out', S, Serdes.Int64())).toEqual([]);
    expect(driver.metrics().droppedNullKey).toBe(2);
  });
});

describe('time windows', () => {
  const windowed = WindowedSerdes.timeWindowed(S, 10);

  it('tumbling windows count per window and drop records past grace', () => {
    const { input, out, driver } = run((s) =>
      s
        .groupByKey()
        .windowedBy(TimeWindows.ofSizeAndGrace(10, 5))
        .count(Materialized.as('tumbling'))
        .toStream()
        .to('out', Produced.with(windowed, Serdes.Int64())),
    );
    input.pipeInput('a', 1, 0);
    input.pipeInput('a', 1, 9);
    input.pipeInput('a', 1, 10);
    input.pipeInput('a', 1, 21); // stream time 21: window [0,10) closed at 10 + 5 = 15 <= 21
    input.pipeInput('a', 1, 3); // late
    const results = out<{ key: string; window: { start: number; end: number } }, number>('out', windowed, Serdes.Int64());
    expect(results.map((r) => [r.key.window.start, r.key.window.end, r.value])).toEqual([
      [0, 10, 1],
      [0, 10, 2],
      [10, 20, 1],
      [20, 30, 1],
    ]);
    expect(driver.metrics().droppedLate).toBe(1);
    // Retention is size + grace = 15: at stream time 21 the window starting at 0 has expired from the store.
    const store = driver.getWindowStore<string, number>('tumbling');
    expect(store.fetch('a', 0)).toBeUndefined();
    expect(store.fetch('a', 10)).toBe(1);
    expect(store.fetchRange('a', 0, 20).map((kv) => kv.key)).toEqual([10, 20]);
  });

  it('hopping windows put a record in every window that contains it', () => {
    const { input, out } = run((s) =>
      s
        .groupByKey()
        .windowedBy(TimeWindows.ofSizeAndGrace(10, 100).advanceBy(5))
        .count()
        .toStream()
        .to('out', Produced.with(windowed, Serdes.Int64())),
    );
    input.pipeInput('a', 1, 12);
    const results = out<{ key: string; window: { start: number; end: number } }, number>('out', windowed, Serdes.Int64());
    expect(results.map((r) => [r.key.window.start, r.key.window.end])).toEqual([
      [5, 15],
      [10, 20],
    ]);
  });

  it('suppress(untilWindowCloses) emits only the final count of each window', () => {
    const { input, out } = run((s) =>
      s
        .groupByKey()
        .windowedBy(TimeWindows.ofSizeAndGrace(10, 5))
        .count()
        .suppress(Suppressed.untilWindowCloses())
        .toStream()
        .to('out', Produced.with(windowed, Serdes.Int64())),
    );
    input.pipeInput('a', 1, 1);
    input.pipeInput('a', 1, 2);
    input.pipeInput('b', 1, 14); // [0,10) closes at 15: not yet
    expect(out('out', windowed, Serdes.Int64())).toEqual([]);
    input.pipeInput('b', 1, 15);
    const final = out<{ key: string; window: { start: number } }, number>('out', windowed, Serdes.Int64());
    expect(final.map((r) => [r.key.key, r.key.window.start, r.value])).toEqual([['a', 0, 2]]);
  });
});

describe('KTable operators', () => {
  it('filter turns rejected updates into deletions; mapValues keeps deletions', () => {
    const { input, out } = run((s) => {
      const table = s.groupByKey().reduce((a, b) => a + b, Materialized.as<string, number>('t').withValueSerde(N));
      table.filter((_k, v) => v < 5).toStream().to('out', Produced.with(S, N));
      table.mapValues((v) => `v${v}`).toStream().to('mapped', Produced.with(S, S));
    });
    input.pipeInput('a', 3);
    input.pipeInput('a', 4); // sum 7: filtered out -> tombstone
    expect(out()).toEqual([
      { key: 'a', value: 3 },
      { key: 'a', value: null },
    ]);
    expect(out('mapped', S, S).map((kv) => kv.value)).toEqual(['v3', 'v7']);
  });
});

describe('Processor API', () => {
  it('runs a processor with a store and stream-time and wall-clock punctuators', () => {
    const punctuations: string[] = [];
    class Dedup implements Processor<string, number, string, number> {
      private context!: ProcessorContext<string, number>;
      private seen!: KeyValueStore<string, number>;
      init(context: ProcessorContext<string, number>): void {
        this.context = context;
        this.seen = context.getStateStore('seen');
        context.schedule(10, 'STREAM_TIME', (t) => punctuations.push(`stream@${t}`));
        context.schedule(1000, 'WALL_CLOCK_TIME', (t) => {
          punctuations.push(`wall@${t}`);
          context.forward({ key: 'tick', value: t, timestamp: t, headers: {} });
        });
      }
      process(record: { key: string; value: number; timestamp: number; headers: Record<string, string | Buffer | undefined> }): void {
        if (this.seen.get(record.key) !== undefined) return;
        this.seen.put(record.key, record.value);
        this.context.forward(record);
      }
    }
    const builder = new StreamsBuilder();
    builder.addStateStore(Stores.keyValueStore('seen', S, N));
    builder
      .stream('in', Consumed.with(S, N))
      .process(() => new Dedup(), 'seen')
      .to('out', Produced.with(S, N));
    const driver = new TopologyTestDriver(builder.build({ applicationId: 'papi' }), {}, 0);
    const input = driver.createInputTopic('in', S, N);
    input.pipeInput('a', 1, 5);
    input.pipeInput('a', 2, 12);
    input.pipeInput('b', 3, 31);
    driver.advanceWallClockTime(1500);
    expect(driver.createOutputTopic('out', S, N).readKeyValuesToList()).toEqual([
      { key: 'a', value: 1 },
      { key: 'b', value: 3 },
      { key: 'tick', value: 1500 },
    ]);
    expect(punctuations).toEqual(['stream@12', 'stream@31', 'wall@1500']);
  });

  it('refuses a store that is not connected to the processor', () => {
    const builder = new StreamsBuilder();
    builder.addStateStore(Stores.keyValueStore('mine', S, N));
    const s = builder.stream('in', Consumed.with(S, N));
    s.process(() => ({ process() {} }), 'mine');
    s.process(() => ({
      init(ctx: ProcessorContext<never, never>) {
        ctx.getStateStore('mine');
      },
      process() {},
    }));
    expect(() => new TopologyTestDriver(builder.build({ applicationId: 'x' }))).toThrow(/not connected/);
  });
});

describe('bad input', () => {
  it('raises a DeserializationError that names topic, partition and offset', () => {
    const builder = new StreamsBuilder();
    builder.stream('in', Consumed.with(S, Serdes.Json<{ a: number }>())).to('out');
    const driver = new TopologyTestDriver(builder.build({ applicationId: 'bad' }));
    const raw = driver.createInputTopic('in', S, Serdes.Buffer());
    raw.pipeInput('k', Buffer.from('{"a":1}'));
    let caught: unknown;
    try {
      raw.pipeInput('k', Buffer.from('not json'));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DeserializationError);
    expect((caught as DeserializationError).origin).toEqual({ topic: 'in', partition: 0, offset: '1' });
    expect((caught as Error).message).toMatch(/value of the record at in-0@1 with the Json serde/);
    // And how to go on past such records.
    expect((caught as Error).message).toContain("set deserializationExceptionHandler: 'logAndContinue' or a dead-letter topic to route such records elsewhere");
  });

  it('wraps an error thrown by a user function in a ProcessingError naming the processor', () => {
    const { input } = run((s) =>
      s
        .mapValues(
          (): number => {
            throw new Error('boom');
          },
          Named.as('explode'),
        )
        .to('out', Produced.with(S, N)),
    );
    expect(() => input.pipeInput('a', 1)).toThrow(ProcessingError);
    expect(() => input.pipeInput('a', 1)).toThrow(/Processor explode failed on the record at in-0@1: boom/);
  });
});

describe('sliding windows', () => {
  it('aggregates each distinct set of records at most the time difference apart', () => {
    const { input, out } = run((s) =>
      s
        .groupByKey()
        .windowedBy(SlidingWindows.ofTimeDifferenceWithNoGrace(10))
        .count()
        .toStream()
        .to('out', Produced.with(WindowedSerdes.timeWindowed(S, 10), Serdes.Int64())),
    );
    input.pipeInput('a', 1, 20);
    input.pipeInput('a', 1, 25);
    const counts = out<{ key: string; window: { start: number; end: number } }, number>('out', WindowedSerdes.timeWindowed(S, 10), Serdes.Int64());
    expect(counts.map((r) => [r.key.window.start, r.key.window.end, r.value])).toEqual([
      [10, 20, 1], // a@20's left window
      [21, 31, 1], // a@20's right window, created when a@25 arrives
      [15, 25, 2], // a@25's left window holds both
    ]);
  });
});

describe('emitStrategy(onWindowClose)', () => {
  it('emits each window once, its final result, when it closes', () => {
    const windowed = WindowedSerdes.timeWindowed(S, 10);
    const { input, out } = run((s) => {
      const windows = s.groupByKey().windowedBy(TimeWindows.ofSizeAndGrace(10, 2));
      windows.emitStrategy(EmitStrategy.onWindowClose());
      windows.count().toStream().to('out', Produced.with(windowed, Serdes.Int64()));
    });
    input.pipeInput('a', 1, 1);
    input.pipeInput('a', 1, 5);
    input.pipeInput('b', 1, 11); // close time 9: [0,10) still open
    expect(out('out', windowed, Serdes.Int64())).toEqual([]);
    input.pipeInput('b', 1, 12); // close time 10: [0,10) closes
    const final = out<{ key: string; window: { start: number } }, number>('out', windowed, Serdes.Int64());
    expect(final.map((r) => [r.key.key, r.key.window.start, r.value])).toEqual([['a', 0, 2]]);
  });
});
