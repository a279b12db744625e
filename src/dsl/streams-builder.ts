import type { StoreDefinition } from '../stores/store-definition.js';
import type { Serde } from '../serdes/serde.js';
import { InternalBuilder } from './internals/internal-builder.js';
import { KStream } from './kstream.js';
import type { Consumed } from './options.js';
import { Topology, type TopologyConfig } from './topology.js';

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
export class StreamsBuilder {
  private readonly graph = new InternalBuilder();
  private readonly subscribed = new Set<string>();

  /** A stream of the records of one or more topics (records of each partition in offset order). */
  stream<K = Buffer, V = Buffer>(topics: string | readonly string[], consumed?: Consumed<K, V>): KStream<K, V> {
    const list = typeof topics === 'string' ? [topics] : [...topics];
    for (const topic of list) {
      if (this.subscribed.has(topic)) {
        this.graph.problems.push(`Topic '${topic}' is read by two sources: read it once and reuse the stream.`);
      }
      this.subscribed.add(topic);
    }
    const name = consumed?.processorName ?? this.graph.newProcessorName('KSTREAM-SOURCE-');
    this.graph.addSource({
      name,
      topics: list.map((t) => ({ name: t, internal: false })),
      keySerde: consumed?.keySerde as Serde<unknown> | undefined,
      valueSerde: consumed?.valueSerde as Serde<unknown> | undefined,
    });
    return new KStream<K, V>(this.graph, name, consumed?.keySerde, consumed?.valueSerde, false);
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
