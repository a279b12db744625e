/**
 * Safe defaults: records pass through byte-exact, a serde that cannot be known fails build() naming the
 * operator and what to pass, type arguments cannot lie about serdes, and event time comes from the data
 * through timestamp extractors with Kafka Streams' handling of invalid timestamps.
 */
import { describe, expect, it } from 'vitest';
import {
  Consumed,
  Grouped,
  InvalidTimestampError,
  KStream,
  Materialized,
  ProcessingError,
  Produced,
  Serdes,
  SessionWindows,
  StreamsBuilder,
  TimestampExtractors,
  TopologyError,
  TopologyTestDriver,
  WindowedSerdes,
} from '../../src/index.js';

describe('serdes', () => {
  it('stream(in).to(out) copies keys and values byte for byte', () => {
    const builder = new StreamsBuilder();
    builder.stream('in').to('out');
    const driver = new TopologyTestDriver(builder.build({ applicationId: 'bytes' }));
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    driver.createInputTopic('in', Serdes.Buffer(), Serdes.Buffer()).pipeInput(Buffer.from('k'), bytes, 5);
    const [record] = driver.createOutputTopic('out', Serdes.Buffer(), Serdes.Buffer()).readRecordsToList();
    expect(record!.key).toEqual(Buffer.from('k'));
    expect(record!.value).toEqual(bytes);
  });

  it('a serde nobody can know fails build() naming the operator and what to pass', () => {
    const builder = new StreamsBuilder();
    builder
      .stream('in', Consumed.with(Serdes.String(), Serdes.String()))
      .mapValues((v) => v.length)
      .to('lengths');
    expect(() => builder.build({ applicationId: 'no-serde' })).toThrow(
      /Sink KSTREAM-SINK-0000000002 \(topic lengths\) needs a value serde .*Produced\.with.*defaultValueSerde/,
    );

    const grouping = new StreamsBuilder();
    grouping
      .stream('in', Consumed.with(Serdes.String(), Serdes.String()))
      .selectKey((_k, v) => v.length)
      .groupByKey()
      .count();
    expect(() => grouping.build({ applicationId: 'no-key-serde' })).toThrow(TopologyError);
    expect(() => grouping.build({ applicationId: 'no-key-serde' })).toThrow(/Store 'KSTREAM-AGGREGATE-STATE-STORE-0000000002' of the aggregate needs a key serde[^\n]*Grouped\.with/);
  });

  it("an aggregate's new value type takes no serde from its input: Materialized or the default", () => {
    const builder = new StreamsBuilder();
    builder
      .stream('in', Consumed.with(Serdes.String(), Serdes.String()))
      .groupByKey()
      .aggregate(() => ({ n: 0 }), (_k, _v, agg) => ({ n: agg.n + 1 }));
    expect(() => builder.build({ applicationId: 'agg' })).toThrow(/needs a value serde.*withValueSerde/);
  });

  it('the builder defaults fill in where no serde is given', () => {
    const builder = new StreamsBuilder({ defaultKeySerde: Serdes.String(), defaultValueSerde: Serdes.String() });
    builder
      .stream('in')
      .mapValues((v) => v.toUpperCase())
      .to('out');
    const driver = new TopologyTestDriver(builder.build({ applicationId: 'defaults' }));
    driver.createInputTopic('in', Serdes.String(), Serdes.String()).pipeInput('k', 'abc', 1);
    expect(driver.createOutputTopic('out', Serdes.String(), Serdes.String()).readKeyValuesToList()).toEqual([{ key: 'k', value: 'ABC' }]);
  });

  it('type arguments come only with the serdes that make them true', () => {
    const builder = new StreamsBuilder();
    // @ts-expect-error: without a Consumed there is nothing to read strings with
    builder.stream<string, string>('in');
    const bytes: KStream<Buffer, Buffer> = builder.stream('other');
    expect(bytes).toBeDefined();
  });
});

interface View {
  user: string;
  reportedAt: number;
}

function sessionCounts(consumed: Consumed<string, View>) {
  const builder = new StreamsBuilder();
  builder
    .stream('views', consumed)
    .groupByKey(Grouped.with(Serdes.String(), Serdes.Json<View>()))
    .windowedBy(SessionWindows.ofInactivityGapAndGrace(10, 0))
    .count(Materialized.as('counts'))
    .toStream()
    .to('counts', Produced.with(WindowedSerdes.sessionWindowed(Serdes.String()), Serdes.Int64()));
  const driver = new TopologyTestDriver(builder.build({ applicationId: 'ts' }));
  const input = driver.createInputTopic('views', Serdes.String(), Serdes.Json<View>());
  const output = driver.createOutputTopic('counts', WindowedSerdes.sessionWindowed(Serdes.String()), Serdes.Int64());
  const read = () => output.readRecordsToList().map((r) => `${r.key!.key}@${r.key!.window.start}-${r.key!.window.end}=${r.value}`);
  return { driver, input, read };
}

describe('timestamp extractors', () => {
  it('sessions are cut on the time the event reports, not the time the record was produced', () => {
    const { input, read } = sessionCounts(
      Consumed.with(Serdes.String(), Serdes.Json<View>()).withTimestampExtractor((record) => record.value.reportedAt),
    );
    // Produced a second apart, but reported 5 ms apart: one session.
    input.pipeInput('u', { user: 'u', reportedAt: 100 }, 1000);
    input.pipeInput('u', { user: 'u', reportedAt: 105 }, 2000);
    expect(read()).toEqual(['u@100-100=1', 'u@100-100=null', 'u@100-105=2']);
  });

  it('by default a negative Kafka timestamp is fatal, naming the record and the way out', () => {
    const { input } = sessionCounts(Consumed.with(Serdes.String(), Serdes.Json<View>()));
    expect(() => input.pipeInput('u', { user: 'u', reportedAt: 1 }, -1)).toThrow(InvalidTimestampError);
    expect(() => input.pipeInput('u', { user: 'u', reportedAt: 1 }, -1)).toThrow(/views-0@1 has an invalid \(negative\) timestamp .*logAndSkipOnInvalidTimestamp/);
  });

  it('logAndSkipOnInvalidTimestamp drops and counts such records; an extractor that throws is a processing error', () => {
    const skip = sessionCounts(Consumed.with(Serdes.String(), Serdes.Json<View>()).withTimestampExtractor(TimestampExtractors.logAndSkipOnInvalidTimestamp));
    skip.input.pipeInput('u', { user: 'u', reportedAt: 1 }, -1);
    skip.input.pipeInput('u', { user: 'u', reportedAt: 1 }, 7);
    expect(skip.read()).toEqual(['u@7-7=1']);
    expect(skip.driver.metrics().processed).toBe(1);

    const broken = sessionCounts(
      Consumed.with(Serdes.String(), Serdes.Json<View>()).withTimestampExtractor(() => {
        throw new Error('no time in this record');
      }),
    );
    expect(() => broken.input.pipeInput('u', { user: 'u', reportedAt: 1 }, 7)).toThrow(ProcessingError);
    expect(() => broken.input.pipeInput('u', { user: 'u', reportedAt: 1 }, 7)).toThrow(/timestamp extractor.*no time in this record/);
  });

  it('usePartitionTimeOnInvalidTimestamp gives a record without a timestamp its partition time', () => {
    const { input, read } = sessionCounts(
      Consumed.with(Serdes.String(), Serdes.Json<View>()).withTimestampExtractor(TimestampExtractors.usePartitionTimeOnInvalidTimestamp),
    );
    input.pipeInput('u', { user: 'u', reportedAt: 0 }, 50);
    input.pipeInput('u', { user: 'u', reportedAt: 0 }, -1);
    // The same single-instant window: updated in place, as Kafka Streams does (no tombstone).
    expect(read()).toEqual(['u@50-50=1', 'u@50-50=2']);
  });
});
