import type { Serde } from '../serdes/serde.js';
import { TopologyError } from '../errors/errors.js';
import { Serdes } from '../serdes/serdes.js';
import type { InternalBuilder } from './internals/internal-builder.js';
import type { Predicate, ValueMapper } from './internals/processors/functions.js';
import { ktableFilter, ktableMapValues } from './internals/processors/ktable-processors.js';
import { passThrough } from './internals/processors/stateless.js';
import { suppressFinalResults } from './internals/processors/suppress-final-results.js';
import { KStream } from './kstream.js';
import type { Named, Suppressed } from './options.js';
import type { ProcessorSupplier } from '../processor/processor-api.js';
import type { Windowed } from '../processor/windowed.js';

/** For windowed tables: how long after a window's end it closes (grace, or gap + grace for sessions). */
interface WindowInfo {
  readonly closeAfterMs: number;
}

type AnySupplier = ProcessorSupplier<unknown, unknown, unknown, unknown>;

/**
 * A changelog stream: the latest value per key, where a null value deletes the key. Aggregations return
 * tables; `toStream()` turns the updates back into a stream.
 */
export class KTable<K, V> {
  /** @internal */
  constructor(
    private readonly graph: InternalBuilder,
    /** @internal */ readonly nodeName: string,
    /** @internal */ readonly keySerde: Serde<K>,
    /** @internal */ readonly valueSerde: Serde<V> | undefined,
    private readonly window?: WindowInfo,
  ) {}

  private add<VR>(prefix: string, named: Named | undefined, supplier: AnySupplier, valueSerde: Serde<VR> | undefined): KTable<K, VR> {
    const name = named?.name ?? this.graph.newProcessorName(prefix);
    this.graph.addProcessor({ name, parents: [this.nodeName], supplier, stores: [] });
    return new KTable<K, VR>(this.graph, name, this.keySerde, valueSerde, this.window);
  }

  /** The stream of this table's updates; deletions arrive as records with a null value. */
  toStream(named?: Named): KStream<K, V> {
    const name = named?.name ?? this.graph.newProcessorName('KTABLE-TOSTREAM-');
    this.graph.addProcessor({ name, parents: [this.nodeName], supplier: passThrough(), stores: [] });
    return new KStream<K, V>(this.graph, name, this.keySerde, this.valueSerde, false);
  }

  /** The rows for which `predicate` is true; a row that stops matching is deleted downstream (a null value). */
  filter(predicate: Predicate<K, V>, named?: Named): KTable<K, V> {
    return this.add('KTABLE-FILTER-', named, ktableFilter(predicate as Predicate<unknown, unknown>, true), this.valueSerde);
  }

  /** The rows for which `predicate` is false. */
  filterNot(predicate: Predicate<K, V>, named?: Named): KTable<K, V> {
    return this.add('KTABLE-FILTER-', named, ktableFilter(predicate as Predicate<unknown, unknown>, false), this.valueSerde);
  }

  /** A new value for every row, the key kept, e.g. `.mapValues((stats) => stats.count)`. */
  mapValues<VR>(mapper: ValueMapper<K, V, VR>, named?: Named): KTable<K, VR> {
    return this.add<VR>('KTABLE-MAPVALUES-', named, ktableMapValues(mapper as ValueMapper<unknown, unknown, unknown>), undefined);
  }

  /**
   * `Suppressed.untilWindowCloses()`: one final result per window, when it closes. Only for windowed tables.
   * The buffer is a logged store (`<name>-store` or a generated name), so it survives restarts.
   */
  suppress(suppressed: Suppressed): KTable<K, V> {
    if (this.window === undefined) {
      throw new TopologyError(
        'suppress(Suppressed.untilWindowCloses()) needs a windowed table: call it on the result of ' +
          'windowedBy(...).aggregate/count/reduce.',
      );
    }
    const storeName = suppressed.name !== undefined ? `${suppressed.name}-store` : this.graph.newStoreName('KTABLE-SUPPRESS-');
    const name = suppressed.name ?? this.graph.newProcessorName('KTABLE-SUPPRESS-');
    const supplier = suppressFinalResults(
      storeName,
      this.window.closeAfterMs,
      this.keySerde as unknown as Serde<Windowed<unknown>>,
      this.graph.serdeFor('value', `suppress ${name}`, 'pass Materialized...withValueSerde(serde) to the aggregation', this.valueSerde as Serde<unknown> | undefined),
    );
    this.graph.addProcessor({ name, parents: [this.nodeName], supplier: supplier as AnySupplier, stores: [] });
    this.graph.addStore({
      name: storeName,
      type: 'keyValue',
      keySerde: Serdes.Buffer() as Serde<unknown>,
      valueSerde: Serdes.Buffer() as Serde<unknown>,
      persistent: false,
      loggingEnabled: true,
      changelogConfig: {},
    });
    this.graph.connectStore(name, storeName);
    return new KTable<K, V>(this.graph, name, this.keySerde, this.valueSerde, this.window);
  }
}
