import { describe, expect, it } from 'vitest';
import { BufferConfig, Consumed, JoinWindows, Materialized, Serdes, SessionWindows, Stores, StreamsBuilder, Suppressed } from '../../src/index.js';

const S = Serdes.String();
const c = Consumed.with(S, S);
const builder = () => new StreamsBuilder({ defaultKeySerde: S, defaultValueSerde: S });
const describeText = (b: StreamsBuilder<string, string>) => b.build({ applicationId: 'd' }).describe().toString();

// The expected texts are what Kafka Streams 3.9.1 prints for the same topologies (Topology#describe()).
describe('describe() prints what Kafka Streams prints', () => {
  it('a stream-stream join: both windowed sides with their stores, the join processors reading each other', () => {
    const b = builder();
    b.stream('left', c).join(b.stream('right', c), (x, y) => x + y, JoinWindows.ofTimeDifferenceWithNoGrace(10)).to('out');
    expect(describeText(b)).toBe(
      [
        'Topologies:',
        '   Sub-topology: 0',
        '    Source: KSTREAM-SOURCE-0000000000 (topics: [left])',
        '      --> KSTREAM-WINDOWED-0000000002',
        '    Source: KSTREAM-SOURCE-0000000001 (topics: [right])',
        '      --> KSTREAM-WINDOWED-0000000003',
        '    Processor: KSTREAM-WINDOWED-0000000002 (stores: [KSTREAM-JOINTHIS-0000000004-store])',
        '      --> KSTREAM-JOINTHIS-0000000004',
        '      <-- KSTREAM-SOURCE-0000000000',
        '    Processor: KSTREAM-WINDOWED-0000000003 (stores: [KSTREAM-JOINOTHER-0000000005-store])',
        '      --> KSTREAM-JOINOTHER-0000000005',
        '      <-- KSTREAM-SOURCE-0000000001',
        '    Processor: KSTREAM-JOINOTHER-0000000005 (stores: [KSTREAM-JOINTHIS-0000000004-store])',
        '      --> KSTREAM-MERGE-0000000006',
        '      <-- KSTREAM-WINDOWED-0000000003',
        '    Processor: KSTREAM-JOINTHIS-0000000004 (stores: [KSTREAM-JOINOTHER-0000000005-store])',
        '      --> KSTREAM-MERGE-0000000006',
        '      <-- KSTREAM-WINDOWED-0000000002',
        '    Processor: KSTREAM-MERGE-0000000006 (stores: [])',
        '      --> KSTREAM-SINK-0000000007',
        '      <-- KSTREAM-JOINTHIS-0000000004, KSTREAM-JOINOTHER-0000000005',
        '    Sink: KSTREAM-SINK-0000000007 (topic: out)',
        '      <-- KSTREAM-MERGE-0000000006',
        '',
        '',
      ].join('\n'),
    );
  });

  it('a stream-table join: the join processor with the table store, nodes in Kafka Streams order (largest sub-tree first)', () => {
    const b = builder();
    const users = b.table('users', c);
    b.stream('views', c).leftJoin(users, (x, y) => `${x}${y}`).to('out');
    expect(describeText(b)).toBe(
      [
        'Topologies:',
        '   Sub-topology: 0',
        '    Source: KSTREAM-SOURCE-0000000003 (topics: [views])',
        '      --> KSTREAM-LEFTJOIN-0000000004',
        '    Processor: KSTREAM-LEFTJOIN-0000000004 (stores: [users-STATE-STORE-0000000000])',
        '      --> KSTREAM-SINK-0000000005',
        '      <-- KSTREAM-SOURCE-0000000003',
        '    Source: KSTREAM-SOURCE-0000000001 (topics: [users])',
        '      --> KTABLE-SOURCE-0000000002',
        '    Sink: KSTREAM-SINK-0000000005 (topic: out)',
        '      <-- KSTREAM-LEFTJOIN-0000000004',
        '    Processor: KTABLE-SOURCE-0000000002 (stores: [users-STATE-STORE-0000000000])',
        '      --> none',
        '      <-- KSTREAM-SOURCE-0000000001',
        '',
        '',
      ].join('\n'),
    );
  });

  it('a table-table join: each side with the other side store', () => {
    const b = builder();
    b.table('a', c).outerJoin(b.table('b', c), (x, y) => `${x}${y}`).toStream().to('out');
    expect(describeText(b)).toBe(
      [
        'Topologies:',
        '   Sub-topology: 0',
        '    Source: KSTREAM-SOURCE-0000000001 (topics: [a])',
        '      --> KTABLE-SOURCE-0000000002',
        '    Source: KSTREAM-SOURCE-0000000004 (topics: [b])',
        '      --> KTABLE-SOURCE-0000000005',
        '    Processor: KTABLE-SOURCE-0000000002 (stores: [a-STATE-STORE-0000000000])',
        '      --> KTABLE-JOINTHIS-0000000007',
        '      <-- KSTREAM-SOURCE-0000000001',
        '    Processor: KTABLE-SOURCE-0000000005 (stores: [b-STATE-STORE-0000000003])',
        '      --> KTABLE-JOINOTHER-0000000008',
        '      <-- KSTREAM-SOURCE-0000000004',
        '    Processor: KTABLE-JOINOTHER-0000000008 (stores: [a-STATE-STORE-0000000000])',
        '      --> KTABLE-MERGE-0000000006',
        '      <-- KTABLE-SOURCE-0000000005',
        '    Processor: KTABLE-JOINTHIS-0000000007 (stores: [b-STATE-STORE-0000000003])',
        '      --> KTABLE-MERGE-0000000006',
        '      <-- KTABLE-SOURCE-0000000002',
        '    Processor: KTABLE-MERGE-0000000006 (stores: [])',
        '      --> KTABLE-TOSTREAM-0000000009',
        '      <-- KTABLE-JOINTHIS-0000000007, KTABLE-JOINOTHER-0000000008',
        '    Processor: KTABLE-TOSTREAM-0000000009 (stores: [])',
        '      --> KSTREAM-SINK-0000000010',
        '      <-- KTABLE-MERGE-0000000006',
        '    Sink: KSTREAM-SINK-0000000010 (topic: out)',
        '      <-- KTABLE-TOSTREAM-0000000009',
        '',
        '',
      ].join('\n'),
    );
  });

  it('a global table: a global store sub-topology of its source and processor, after the stream one', () => {
    const b = builder();
    const views = b.stream('views', c);
    const users = b.globalTable('users', c);
    views.leftJoin(users, (_k, v) => v, (x, y) => `${x}${y}`).to('out');
    expect(describeText(b)).toBe(
      [
        'Topologies:',
        '   Sub-topology: 0',
        '    Source: KSTREAM-SOURCE-0000000000 (topics: [views])',
        '      --> KSTREAM-LEFTJOIN-0000000004',
        '    Processor: KSTREAM-LEFTJOIN-0000000004 (stores: [])',
        '      --> KSTREAM-SINK-0000000005',
        '      <-- KSTREAM-SOURCE-0000000000',
        '    Sink: KSTREAM-SINK-0000000005 (topic: out)',
        '      <-- KSTREAM-LEFTJOIN-0000000004',
        '',
        '  Sub-topology: 1 for global store (will not generate tasks)',
        '    Source: KSTREAM-SOURCE-0000000002 (topics: [users])',
        '      --> KTABLE-SOURCE-0000000003',
        '    Processor: KTABLE-SOURCE-0000000003 (stores: [users-STATE-STORE-0000000001])',
        '      --> none',
        '      <-- KSTREAM-SOURCE-0000000002',
        '',
      ].join('\n'),
    );
  });

  it('the Mermaid diagram draws both join sides with their stores, and the global store sub-topology', () => {
    const b = builder();
    const users = b.globalTable('users', c, Materialized.as('plans'));
    b.stream('left', c).join(b.stream('right', c), (x, y) => x + y, JoinWindows.ofTimeDifferenceWithNoGrace(10)).leftJoin(users, (_k, v) => v, (x, y) => `${x}${y}`).to('out');
    const mermaid = b.build({ applicationId: 'd' }).describe().toMermaid();
    expect(mermaid).toContain('KSTREAM_JOINTHIS_0000000006 --- store_KSTREAM_JOINOTHER_0000000007_store[("KSTREAM-JOINOTHER-0000000007-store")]');
    expect(mermaid).toContain('KSTREAM_JOINOTHER_0000000007 --- store_KSTREAM_JOINTHIS_0000000006_store[("KSTREAM-JOINTHIS-0000000006-store")]');
    expect(mermaid).toContain('subgraph sub1["Global store 1"]');
    expect(mermaid).toContain('KTABLE_SOURCE_0000000001 --- store_plans[("plans")]');
    expect(mermaid).toContain('topic_users --> KSTREAM_SOURCE_0000000000');
    expect(mermaid).toContain('store_plans[("plans")] -.-> KSTREAM_LEFTJOIN_0000000009');
  });

  it('names the sources of a named table, global table and global store `<name>-source`, as Kafka Streams 3.9 does', () => {
    // InternalStreamsBuilder's TABLE_SOURCE_SUFFIX is "-source"; the table's processor takes the name itself.
    const b = builder();
    b.table('users', Consumed.with(S, S).withName('users')).toStream().to('out');
    b.globalTable('plans', Consumed.with(S, S).withName('plans'));
    b.addGlobalStore(Stores.keyValueStore('seen', S, S), 'seen', Consumed.with(S, S).withName('seen'), () => ({ process: () => {} }));
    const text = describeText(b);
    expect(text).toContain('Source: users-source (topics: [users])\n      --> users\n');
    expect(text).toContain('Source: plans-source (topics: [plans])\n      --> plans\n');
    expect(text).toContain('Source: seen-source (topics: [seen])\n      --> seen\n');
  });

  it('a suppress takes its processor index before its store index, so its changelog topic is Kafka Streams\' too', () => {
    // KTableImpl#suppress: newProcessorName, then newStoreName. Compared with Kafka Streams 3.9.1 by the
    // differential suite's session-count-suppress cases (their descriptions).
    const b = builder();
    b.stream('in', c)
      .groupByKey()
      .windowedBy(SessionWindows.ofInactivityGapAndGrace(10, 3))
      .count()
      .suppress(Suppressed.untilWindowCloses(BufferConfig.unbounded()))
      .toStream()
      .to('out');
    const topology = b.build({ applicationId: 'd' });
    expect(topology.describe().toString()).toContain(
      [
        '    Processor: KTABLE-SUPPRESS-0000000003 (stores: [KTABLE-SUPPRESS-STATE-STORE-0000000004])',
        '      --> KTABLE-TOSTREAM-0000000005',
        '      <-- KSTREAM-AGGREGATE-0000000002',
      ].join('\n'),
    );
    expect(topology.internalTopics.map((t) => t.name)).toContain('d-KTABLE-SUPPRESS-STATE-STORE-0000000004-changelog');
  });
});
