/**
 * A quicker retry of AddPartitionsToTxn for kafkajs 2.2.4's transactional producer, installed before
 * kafkajs loads, as kafkajs-preload.ts installs its linear grouping.
 *
 * Right after a transaction commits, its coordinator answers CONCURRENT_TRANSACTIONS until the commit's
 * markers are written, a few milliseconds. The next transaction's first send adds its partitions then, and
 * kafkajs retries that with the producer's whole retry backoff (300 ms and more): measured on Kafka 4.4.0, a
 * third of the first sends after a commit took 290-470 ms instead of 3-14 ms, which under exactly-once was
 * the tail of the end-to-end latency. The Java producer retries this case after 20 ms
 * (TransactionManager's ADD_PARTITIONS_RETRY_BACKOFF_MS); so does this wrapper, up to a deadline after
 * which kafkajs' own retries take over.
 */
import { compileKafkajsModule, kafkajsModuleIs, replaceKafkajsModule } from './module-cache.js';

export const EOS_MANAGER_MODULE = 'kafkajs/src/producer/eosManager/index.js';
const RETRY_BACKOFF_MS = 20;
const RETRY_DEADLINE_MS = 2000;

interface EosManager {
  addPartitionsToTransaction(topicData: unknown): Promise<void>;
}
type EosManagerFactory = (options: unknown) => EosManager;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function isConcurrentTransactions(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { type?: unknown }).type === 'CONCURRENT_TRANSACTIONS';
}

/** `create`'s managers, whose addPartitionsToTransaction retries CONCURRENT_TRANSACTIONS after 20 ms. */
export function withQuickConcurrentTransactionRetry(create: EosManagerFactory, backoffMs = RETRY_BACKOFF_MS, deadlineMs = RETRY_DEADLINE_MS): EosManagerFactory {
  return (options) => {
    const manager = create(options);
    const addPartitions = manager.addPartitionsToTransaction;
    manager.addPartitionsToTransaction = async function (this: unknown, topicData: unknown): Promise<void> {
      const deadline = Date.now() + deadlineMs;
      for (;;) {
        try {
          return await addPartitions.call(this, topicData);
        } catch (err) {
          if (!isConcurrentTransactions(err) || Date.now() >= deadline) throw err;
          await sleep(backoffMs);
        }
      }
    };
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
