import type { StoreDefinition } from '../processor/store-definition.js';
import type { Serde } from '../serdes/serde.js';
import { Serdes } from '../serdes/serdes.js';
import { InternalBuilder, type BuilderDefaults } from './internals/internal-builder.js';
import { KStream } from './kstream.js';
import type { Consumed } from './options.js';
import type { TimestampExtractor } from '../processor/timestamp-extractor.js';
import { Topology, type TopologyConfig } from '../processor/topology.js';

/** Defaults of a StreamsBuilder; see its constructor. */
export interface StreamsBuilderOptions<DK, DV> {
  /** Keys of sources and operators that name no serde (Kafka Streams' `default.key.serde`). */
  readonly defaultKeySerde?: Serde<DK>;
  /** Values of sources and operators that name no serde (`default.value.serde`). */
  readonly defaultValueSerde?: Serde<DV>;
  /** Event time of sources that name no extractor; default: the record's timestamp. */
  readonly defaultTimestampExtractor?: TimestampExtractor;
}

/**
 * The entry point of the DSL: read topics as streams, chain operators, then `build()` the topology.
 *
 * ```ts
 * const builder = new StreamsBuilder();
 * builder.stream('page-views', Consumed.with(Serdes.String(), Serdes.Json<PageView>()))
 *   .groupByKey()
 *   .windowedBy(SessionWindows.ofInactivityGapAndGrace(30 * 60_000, 60_000))
 *   .count()
 *   .toStream()
 *   .to('session-counts');
 * const topology = builder.build({ applicationId: 'clicks' });
 * ```
 */
export class StreamsBuilder<DK = Buffer, DV = Buffer> {
  private readonly graph: InternalBuilder;
  private readonly subscribed = new Set<string>();

  /**
   * `defaultKeySerde` and `defaultValueSerde` serve every source, sink, grouping and store given no serde
   * and inheriting none (Kafka Streams' `default.key.serde` / `default.value.serde`); without them, sources
   * read raw Buffers and an operator that needs a serde it cannot know fails `build()` naming the operator.
   * `defaultTimestampExtractor` gives event time to sources without their own (default: the record's Kafka
   * timestamp, failing on a negative one).
   */
  constructor(options: StreamsBuilderOptions<DK, DV> = {}) {
    this.graph = new InternalBuilder(options as BuilderDefaults);
  }

  /** A stream of the records of one or more topics (records of each partition in offset order). */
  stream(topics: string | readonly string[]): KStream<DK, DV>;
  stream<K, V>(topics: string | readonly string[], consumed: Consumed<K, V>): KStream<K, V>;
  stream<K, V>(topics: string | readonly string[], consumed?: Consumed<K, V>): KStream<K, V> {
    const list = typeof topics === 'string' ? [topics] : [...topics];
    for (const topic of list) {
      if (this.subscribed.has(topic)) {
        this.graph.problems.push(`Topic '${topic}' is read by two sources: read it once and reuse the stream.`);
      }
      this.subscribed.add(topic);
    }
    const name = consumed?.processorName ?? this.graph.newProcessorName('KSTREAM-SOURCE-');
    const bytes = Serdes.Buffer() as Serde<unknown>;
    const keySerde = (consumed?.keySerde as Serde<unknown> | undefined) ?? this.graph.defaults.defaultKeySerde ?? bytes;
    const valueSerde = (consumed?.valueSerde as Serde<unknown> | undefined) ?? this.graph.defaults.defaultValueSerde ?? bytes;
    this.graph.addSource({
      name,
      topics: list.map((t) => ({ name: t, internal: false })),
      keySerde,
      valueSerde,
      timestampExtractor: (consumed?.timestampExtractor as TimestampExtractor | undefined) ?? this.graph.defaults.defaultTimestampExtractor,
    });
    return new KStream<K, V>(this.graph, name, keySerde as Serde<K>, valueSerde as Serde<V>, false);
  }

  /** Adds a store for the Processor API; connect it by passing its name to `stream.process(...)`. */
  addStateStore(store: StoreDefinition): this {
    this.graph.addStore(store);
    return this;
  }

  /** Checks and compiles the topology; throws a TopologyError that lists every problem found. */
  build(config: TopologyConfig): Topology {
    return new Topology(this.graph, config);
  }
}
