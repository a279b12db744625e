/**
 * Quick retries of CONCURRENT_TRANSACTIONS for kafkajs 2.2.4's transactional producer, installed before
 * kafkajs loads, as kafkajs-preload.ts installs its linear grouping.
 *
 * Right after a transaction commits, its coordinator answers CONCURRENT_TRANSACTIONS until the commit's
 * markers are written, a few milliseconds. Like the Java producer, the next transaction retries briefly:
 * - AddPartitionsToTxn (its first send): kafkajs retries it with the producer's whole retry backoff (300 ms
 *   and more). Measured on Kafka 4.4.0, a third of the first sends after a commit took 290-470 ms instead of
 *   3-14 ms, the tail of exactly-once latency. The Java producer retries this case after 20 ms
 *   (TransactionManager's ADD_PARTITIONS_RETRY_BACKOFF_MS): so does this wrapper, for up to 2 s, after which
 *   kafkajs' own retries take over.
 * - AddOffsetsToTxn (`sendOffsets`): kafkajs does not retry it at all and the transaction would fail; it is
 *   retried from 10 ms, doubling up to 200 ms, for up to 5 s.
 */
import { compileKafkajsModule, kafkajsModuleIs, replaceKafkajsModule } from './module-cache.js';

export const EOS_MANAGER_MODULE = 'kafkajs/src/producer/eosManager/index.js';

/** How a request is retried while the coordinator answers CONCURRENT_TRANSACTIONS. */
export interface ConcurrentTransactionRetry {
  readonly firstBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly deadlineMs: number;
}

const ADD_PARTITIONS: ConcurrentTransactionRetry = { firstBackoffMs: 20, maxBackoffMs: 20, deadlineMs: 2000 };
const ADD_OFFSETS: ConcurrentTransactionRetry = { firstBackoffMs: 10, maxBackoffMs: 200, deadlineMs: 5000 };

interface EosManager {
  addPartitionsToTransaction(topicData: unknown): Promise<void>;
  sendOffsets(offsets: unknown): Promise<void>;
}
type EosManagerFactory = (options: unknown) => EosManager;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The coordinator's CONCURRENT_TRANSACTIONS, as kafkajs throws it (not looked for among causes). */
function isConcurrentTransactions(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { type?: unknown }).type === 'CONCURRENT_TRANSACTIONS';
}

/** `method` of `manager`, retried as `retry` says while the coordinator answers CONCURRENT_TRANSACTIONS. */
function retried<A>(manager: EosManager, method: (this: EosManager, arg: A) => Promise<void>, retry: ConcurrentTransactionRetry): (arg: A) => Promise<void> {
  return async (arg) => {
    const deadline = Date.now() + retry.deadlineMs;
    for (let backoff = retry.firstBackoffMs; ; backoff = Math.min(backoff * 2, retry.maxBackoffMs)) {
      try {
        return await method.call(manager, arg);
      } catch (err) {
        if (!isConcurrentTransactions(err) || Date.now() >= deadline) throw err;
        await sleep(backoff);
      }
    }
  };
}

/** `create`'s managers, whose AddPartitionsToTxn and AddOffsetsToTxn retry CONCURRENT_TRANSACTIONS quickly. */
export function withQuickConcurrentTransactionRetry(
  create: EosManagerFactory,
  addPartitions: ConcurrentTransactionRetry = ADD_PARTITIONS,
  addOffsets: ConcurrentTransactionRetry = ADD_OFFSETS,
): EosManagerFactory {
  return (options) => {
    const manager = create(options);
    manager.addPartitionsToTransaction = retried(manager, manager.addPartitionsToTransaction, addPartitions);
    manager.sendOffsets = retried(manager, manager.sendOffsets, addOffsets);
    return manager;
  };
}

let installed: EosManagerFactory | undefined;

/** Puts the wrapped transaction manager in Node's module cache under kafkajs' path, if kafkajs has not loaded it yet. */
export function installQuickConcurrentTransactionRetry(): void {
  let kafkajs: EosManagerFactory | undefined;
  const original: EosManagerFactory = (options) => (kafkajs ??= compileKafkajsModule(EOS_MANAGER_MODULE) as EosManagerFactory)(options);
  replaceKafkajsModule(EOS_MANAGER_MODULE, () => (installed = withQuickConcurrentTransactionRetry(original)));
}

/** True when kafkajs' producers use the wrapped transaction manager. */
export function quickConcurrentTransactionRetryActive(): boolean {
  return kafkajsModuleIs(EOS_MANAGER_MODULE, installed);
}
