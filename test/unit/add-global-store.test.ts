import { describe, expect, it } from 'vitest';
import {
  Consumed,
  Produced,
  Serdes,
  Stores,
  StreamsBuilder,
  TopologyTestDriver,
  type KeyValueStore,
  type ProcessorContext,
} from '../../src/index.js';

const S = Serdes.String();
const N = Serdes.Int64();

describe('StreamsBuilder.addGlobalStore', () => {
  it('feeds a global store through a processor of its own, readable by any processor without a connection', () => {
    const builder = new StreamsBuilder();
    // The global processor keeps the largest rate seen per currency (a table would keep the latest).
    builder.addGlobalStore(Stores.keyValueStore('max-rates', S, N), 'rates', Consumed.with(S, N), () => {
      let rates!: KeyValueStore<string, number>;
      return {
        init: (context) => {
          rates = context.getStateStore('max-rates');
        },
        process: (record) => {
          if (record.key === null || record.value === null) return;
          rates.put(record.key, Math.max(record.value, rates.get(record.key) ?? 0));
        },
      };
    });
    builder
      .stream('orders', Consumed.with(S, N))
      .process<string, number>(() => {
        let context!: ProcessorContext<string, number>;
        let rates!: KeyValueStore<string, number>;
        return {
          init: (ctx) => {
            context = ctx;
            rates = ctx.getStateStore('max-rates');
          },
          process: (record) => context.forward({ ...record, value: record.value * (rates.get(record.key) ?? 0) }),
        };
      })
      .to('priced', Produced.with(S, N));
    const topology = builder.build({ applicationId: 'global-store' });
    const text = topology.describe().toString();
    expect(text).toContain('Source: KSTREAM-SOURCE-0000000000 (topics: [rates])');
    expect(text).toContain('Processor: KTABLE-SOURCE-0000000001 (stores: [max-rates])');
    const driver = new TopologyTestDriver(topology);
    const rates = driver.createInputTopic('rates', S, N);
    rates.pipeInput('eur', 3, 0);
    rates.pipeInput('eur', 2, 1);
    driver.createInputTopic('orders', S, N).pipeInput('eur', 10, 2);
    expect(driver.createOutputTopic('priced', S, N).readKeyValuesToList()).toEqual([{ key: 'eur', value: 30 }]);
    expect(driver.getKeyValueStore<string, number>('max-rates').get('eur')).toBe(3);
  });

  it('names its source and processor after Consumed.as, and turns the store\'s changelog off', () => {
    const builder = new StreamsBuilder();
    builder.addGlobalStore(Stores.keyValueStore('seen', S, S), 'in', Consumed.with(S, S).withName('seen-updater'), () => ({ process: () => {} }));
    builder.stream('other', Consumed.with(S, S)).to('out', Produced.with(S, S));
    const topology = builder.build({ applicationId: 'global-store' });
    expect(topology.describe().toString()).toContain('Source: seen-updater-source (topics: [in])');
    expect(topology.describe().toString()).toContain('Processor: seen-updater (stores: [seen])');
    expect(topology.internalTopics.map((t) => t.name)).not.toContain('global-store-seen-changelog');
  });
});
