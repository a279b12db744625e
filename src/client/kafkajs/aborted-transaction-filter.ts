/**
 * A correct read_committed filter for kafkajs 2.2.4.
 *
 * kafkajs drops records of aborted transactions by walking the fetch response's aborted-transaction list,
 * but it activates at most one listed transaction per record. When a fetch starts inside several aborted
 * transactions of different producers (a repartition topic written by many transactional tasks, read from
 * a committed offset after a crash), records of all but one of them pass as if committed, and exactly-once
 * counts them twice. This replaces that step with the Java consumer's algorithm (Fetcher's
 * CompletedFetch): per record batch, first mark every listed aborted transaction that starts at or before
 * the batch's last offset, then drop the batch if it is transactional and its producer is marked; an abort
 * marker unmarks its producer. The filtered response carries no aborted list, so kafkajs' own filter
 * passes everything through.
 *
 * Dropped records stay in the response flagged as control records, which kafkajs hides from the
 * application but counts for positions. Removing them would make a fetch that holds only aborted records
 * (a fetch starting at the first offset of a large aborted transaction) look truly empty: kafkajs then
 * never resolves past it and fetches the same offset for ever, and so did restoration. Flagged, the batch is
 * "empty due to filtering", its lastOffset() is the last aborted record, and the position moves on.
 *
 * The patch is on Broker.prototype (kafkajs builds brokers deep inside its clients), but it filters only
 * the fetches of our clients (see client-marks.ts): an application's own kafkajs clients in the same
 * process see kafkajs' behaviour unchanged.
 */
import { createRequire } from 'node:module';
import { markOf, type MarkedBroker } from './client-marks.js';
import { checkKafkajsVersion } from './kafkajs-version.js';

const require = createRequire(import.meta.url);

interface BatchContext {
  readonly firstOffset: string;
  readonly lastOffsetDelta: number;
  readonly producerId: string;
  readonly inTransaction: boolean;
}

interface FetchedMessage {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly isControlRecord?: boolean;
  readonly batchContext?: BatchContext;
}

interface AbortedTransaction {
  readonly producerId: string;
  readonly firstOffset: string;
}

interface FetchedPartition {
  messages: FetchedMessage[];
  abortedTransactions?: AbortedTransaction[] | null;
}

type FetchResponse = { responses: Array<{ partitions: FetchedPartition[] }> };
type Fetch = (this: MarkedBroker, request: unknown) => Promise<FetchResponse>;

const ABORT_MARKER_KEY = Buffer.from([0, 0, 0, 0]);
const INSTALLED = Symbol.for('kstreams-ts.abortedTransactionFilter');

/** A fetched partition's records, those of aborted transactions flagged as control records (skipped, still counted for positions). */
export function dropAbortedRecords(messages: readonly FetchedMessage[], aborted: readonly AbortedTransaction[]): FetchedMessage[] {
  const pending = [...aborted].sort((a, b) => (BigInt(a.firstOffset) < BigInt(b.firstOffset) ? -1 : 1));
  const abortedProducers = new Set<string>();
  const kept: FetchedMessage[] = [];
  let next = 0;
  let batchFirst: string | undefined;
  let dropBatch = false;
  for (const message of messages) {
    const ctx = message.batchContext;
    if (ctx === undefined) {
      kept.push(message);
      continue;
    }
    if (ctx.firstOffset !== batchFirst) {
      // A new record batch: decide for the whole batch, as the Java consumer does.
      batchFirst = ctx.firstOffset;
      const batchLast = BigInt(ctx.firstOffset) + BigInt(ctx.lastOffsetDelta);
      while (next < pending.length && BigInt(pending[next]!.firstOffset) <= batchLast) abortedProducers.add(pending[next++]!.producerId);
      dropBatch = false;
      if (message.isControlRecord === true) {
        if (message.key !== null && Buffer.from(message.key).equals(ABORT_MARKER_KEY)) abortedProducers.delete(ctx.producerId);
      } else if (ctx.inTransaction && abortedProducers.has(ctx.producerId)) {
        dropBatch = true;
      }
    }
    kept.push(dropBatch ? { ...message, isControlRecord: true } : message);
  }
  return kept;
}

function filterAborted(response: FetchResponse): FetchResponse {
  for (const topic of response.responses) {
    for (const partition of topic.partitions) {
      const aborted = partition.abortedTransactions;
      if (aborted === undefined || aborted === null || aborted.length === 0) continue;
      partition.messages = dropAbortedRecords(partition.messages, aborted);
      partition.abortedTransactions = [];
    }
  }
  return response;
}

/**
 * Installs the filter on kafkajs' Broker.fetch, once per process; it filters the fetches of our clients
 * only (see client-marks.ts). Throws if the patch did not take, or if a broker cannot be told ours or not.
 */
export function installAbortedTransactionFilter(): void {
  checkKafkajsVersion();
  const Broker = require('kafkajs/src/broker/index.js') as { prototype: { fetch: Fetch } & Record<symbol, boolean> };
  const proto = Broker.prototype;
  if (proto[INSTALLED] === true) return;
  const original = proto.fetch;
  const fetchFiltered = async function fetchFiltered(this: MarkedBroker, request: unknown): Promise<FetchResponse> {
    const ours = markOf(this) !== undefined;
    const response = await original.call(this, request);
    return ours ? filterAborted(response) : response;
  };
  proto.fetch = fetchFiltered;
  if (proto.fetch !== fetchFiltered) throw new Error("kstreams-ts: could not patch kafkajs' Broker.fetch (read_committed filter)");
  proto[INSTALLED] = true;
}
