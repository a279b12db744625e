import { describe, expect, it } from 'vitest';
import {
  Consumed,
  Grouped,
  Materialized,
  Produced,
  Serdes,
  SessionWindows,
  StreamsBuilder,
  Stores,
  TopologyError,
  WindowedSerdes,
} from '../../src/index.js';

const S = Serdes.String();

function sessionize() {
  const builder = new StreamsBuilder();
  builder
    .stream('page-views', Consumed.with(S, Serdes.Json<{ sessionId: string; status: number }>()))
    .filter((_k, v) => v.status < 500)
    .selectKey((_k, v) => v.sessionId)
    .groupByKey(Grouped.with(S, Serdes.Json<{ sessionId: string; status: number }>()))
    .windowedBy(SessionWindows.ofInactivityGapAndGrace(30 * 60_000, 60_000))
    .count(Materialized.as('session-stats'))
    .toStream()
    .to('session-stats', Produced.with(WindowedSerdes.sessionWindowed(S), Serdes.Int64()));
  return builder.build({ applicationId: 'clicks' });
}

describe('building a topology', () => {
  it('splits at the repartition topic into two sub-topologies and describes them as Kafka Streams does', () => {
    const topology = sessionize();
    expect(topology.describe().toString()).toBe(
      [
        'Topologies:',
        '   Sub-topology: 0',
        '    Source: KSTREAM-SOURCE-0000000000 (topics: [page-views])',
        '      --> KSTREAM-FILTER-0000000001',
        '    Processor: KSTREAM-FILTER-0000000001 (stores: [])',
        '      --> KSTREAM-KEY-SELECT-0000000002',
        '      <-- KSTREAM-SOURCE-0000000000',
        '    Processor: KSTREAM-KEY-SELECT-0000000002 (stores: [])',
        '      --> session-stats-repartition-filter',
        '      <-- KSTREAM-FILTER-0000000001',
        '    Processor: session-stats-repartition-filter (stores: [])',
        '      --> session-stats-repartition-sink',
        '      <-- KSTREAM-KEY-SELECT-0000000002',
        '    Sink: session-stats-repartition-sink (topic: clicks-session-stats-repartition)',
        '      <-- session-stats-repartition-filter',
        '',
        // Kafka Streams indents every entry after the first one space less. The repartition takes three
        // indexes (KStreamImpl#createRepartitionedSource), so toStream is 7: checked with Kafka Streams 3.9.1.
        '  Sub-topology: 1',
        '    Source: session-stats-repartition-source (topics: [clicks-session-stats-repartition])',
        '      --> KSTREAM-AGGREGATE-0000000003',
        '    Processor: KSTREAM-AGGREGATE-0000000003 (stores: [session-stats])',
        '      --> KTABLE-TOSTREAM-0000000007',
        '      <-- session-stats-repartition-source',
        '    Processor: KTABLE-TOSTREAM-0000000007 (stores: [])',
        '      --> KSTREAM-SINK-0000000008',
        '      <-- KSTREAM-AGGREGATE-0000000003',
        '    Sink: KSTREAM-SINK-0000000008 (topic: session-stats)',
        '      <-- KTABLE-TOSTREAM-0000000007',
        '',
        '',
      ].join('\n'),
    );
    expect(topology.externalSourceTopics()).toEqual(['page-views']);
  });

  it('names internal topics and configures the session changelog as compact,delete with retention', () => {
    const topology = sessionize();
    expect(topology.internalTopics).toEqual([
      expect.objectContaining({ name: 'clicks-session-stats-repartition', kind: 'repartition', subtopologyId: 1 }),
      expect.objectContaining({
        name: 'clicks-session-stats-changelog',
        kind: 'changelog',
        storeName: 'session-stats',
        subtopologyId: 1,
        config: { 'cleanup.policy': 'compact,delete', 'retention.ms': String(31 * 60_000 + 86_400_000) },
      }),
    ]);
  });

  it('draws a Mermaid diagram with topics, processors and stores', () => {
    const mermaid = sessionize().describe().toMermaid();
    expect(mermaid).toContain('flowchart TD');
    expect(mermaid).toContain('subgraph sub1["Sub-topology 1"]');
    expect(mermaid).toContain('store_session_stats[("session-stats")]');
  });

  it('rejects two stores of one name, naming the store', () => {
    const builder = new StreamsBuilder();
    const grouped = builder.stream('in', Consumed.with(S, S)).groupByKey();
    grouped.count(Materialized.as('dup'));
    grouped.count(Materialized.as('dup'));
    expect(() => builder.build({ applicationId: 'a' })).toThrow(/Two state stores are named 'dup'/);
  });

  it('rejects a store that no processor uses, and a processor that uses a missing store', () => {
    const builder = new StreamsBuilder();
    builder.addStateStore(Stores.keyValueStore('orphan', S, S));
    builder.stream('in', Consumed.with(S, S)).process(() => ({ process() {} }), 'missing');
    let error: unknown;
    try {
      builder.build({ applicationId: 'a' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TopologyError);
    expect((error as Error).message).toMatch(/'orphan' is not connected to any processor/);
    expect((error as Error).message).toMatch(/uses the state store 'missing', which was never added/);
  });

  it('rejects a topology without a source, and a topic read twice', () => {
    expect(() => new StreamsBuilder().build({ applicationId: 'a' })).toThrow(/has no source/);
    const builder = new StreamsBuilder();
    builder.stream('in').to('x');
    builder.stream('in').to('y');
    expect(() => builder.build({ applicationId: 'a' })).toThrow(/read by two sources/);
  });

  it('rejects a cycle through topics', () => {
    const builder = new StreamsBuilder();
    builder.stream('a').to('b');
    builder.stream('b').to('a');
    expect(() => builder.build({ applicationId: 'loop' })).toThrow(/cycle through topics/);
  });

  it('rejects an application id that cannot prefix topic names', () => {
    const builder = new StreamsBuilder();
    builder.stream('in').to('out');
    expect(() => builder.build({ applicationId: 'has space' })).toThrow(/applicationId/);
  });

  it('rejects a retention shorter than the windows need', () => {
    const builder = new StreamsBuilder();
    builder
      .stream('in', Consumed.with(S, S))
      .groupByKey()
      .windowedBy(SessionWindows.ofInactivityGapAndGrace(1000, 500))
      .count(Materialized.as<string, number>('short').withRetention(100));
    expect(() => builder.build({ applicationId: 'r' })).toThrow(/raise withRetention/);
  });
});
