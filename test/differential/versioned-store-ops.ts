/**
 * Our side of the `versioned-store` cases (VersionedStoreSpec in cases.ts): a processor of the stream `in`
 * applies each record as one operation on a versioned store and forwards the answer to `out`, as
 * DifferentialRunner.java's `runVersionedStore` does on Kafka Streams' RocksDBVersionedStore.
 */
import {
  Consumed,
  PUT_RETURN_CODE_NOT_PUT,
  PUT_RETURN_CODE_VALID_TO_UNDEFINED,
  Produced,
  Serdes,
  Stores,
  StreamsBuilder,
  TopologyTestDriver,
  type ProcessorContext,
  type Topology,
  type VersionedKeyValueStore,
} from '../../src/index.js';
import { versionedRecordText, type DifferentialCase, type OutputRecord } from './cases.js';

/** The answer of one operation (`put:<value>`, `put-null`, `delete`, `get`, `get:<asOf>`), as cases.ts prints it. */
function apply(store: VersionedKeyValueStore<string, string>, key: string, op: string, timestamp: number): string {
  if (op.startsWith('put:') || op === 'put-null') {
    const validTo = store.put(key, op === 'put-null' ? null : op.slice(4), timestamp);
    if (validTo === PUT_RETURN_CODE_VALID_TO_UNDEFINED) return 'put:undefined';
    if (validTo === PUT_RETURN_CODE_NOT_PUT) return 'put:not-put';
    return `put:${validTo}`;
  }
  if (op === 'delete') return versionedRecordText(store.delete(key, timestamp));
  if (op === 'get') return versionedRecordText(store.get(key));
  if (op.startsWith('get:')) return versionedRecordText(store.get(key, Number(op.slice(4))));
  throw new Error(`versioned-store case: unknown operation '${op}'`);
}

export function runVersionedStoreOps(c: DifferentialCase, describe: (topology: Topology) => string): { records: OutputRecord[]; description: string } {
  const spec = c.versionedStore!;
  const S = Serdes.String();
  const builder = new StreamsBuilder();
  const supplier = Stores.persistentVersionedKeyValueStore('store', spec.historyRetentionMs, spec.segmentIntervalMs);
  builder.addStateStore(Stores.versionedKeyValueStoreBuilder(supplier, S, S));
  builder
    .stream('in', Consumed.with(S, S))
    .process<string, string>(() => {
      let context!: ProcessorContext<string, string>;
      let store!: VersionedKeyValueStore<string, string>;
      return {
        init(ctx) {
          context = ctx;
          store = ctx.getStateStore('store');
        },
        process(record) {
          const answer = apply(store, record.key, record.value, record.timestamp);
          context.forward({ ...record, value: answer });
        },
      };
    }, 'store')
    .to('out', Produced.with(S, S));
  const topology = builder.build({ applicationId: 'differential' });
  const driver = new TopologyTestDriver(topology, { cacheMaxBytes: 0 });
  try {
    const input = driver.createInputTopic('in', S, S);
    const output = driver.createOutputTopic('out', S, S);
    for (const r of c.records) input.pipeInput(r.key, r.value === null ? null : String(r.value), r.ts);
    const records = output.readRecordsToList().map((r) => ({ key: r.key, value: r.value, ts: r.timestamp }));
    return { records, description: describe(topology) };
  } finally {
    driver.close();
  }
}
