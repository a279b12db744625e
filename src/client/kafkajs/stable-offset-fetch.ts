import { StreamsRuntimeError } from '../../errors/errors.js';
import type { GroupOffsets } from '../admin.js';
import { protocolError, rawRequest, type RawCluster, type RawRequestBroker } from './kafkajs-internals.js';
import {
  OFFSET_FETCH_API_KEY,
  OFFSET_FETCH_STABLE_VERSION,
  decodeOffsetFetchV7Response,
  encodeOffsetFetchV7Request,
  type OffsetFetchV7Response,
} from './offset-fetch-v7.js';

const UNSTABLE_OFFSET_COMMIT = 88;
/** COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR: ask FindCoordinator again. */
const COORDINATOR_MOVING = new Set([14, 15, 16]);
/** As long as Kafka's consumer waits for committed offsets by default (default.api.timeout.ms). */
const DEFAULT_TIMEOUT_MS = 60_000;
/**
 * How long offsets a transaction is completing are waited for, as Kafka Streams retries a task's committed
 * offsets up to task.timeout.ms (5 min): reading the older completed ones instead can double count when the
 * transaction commits after all.
 */
const DEFAULT_UNSTABLE_TIMEOUT_MS = 300_000;

export interface StableOffsetFetchOptions {
  /** A cluster connection of its own, made on first use. */
  readonly cluster: () => RawCluster;
  /** kafkajs' OffsetFetch (v1–v4, never stable): for brokers older than Kafka 2.5. */
  readonly fallback: (request: { groupId: string; topics: string[] }) => Promise<GroupOffsets[]>;
  /** Told once that the broker cannot answer stably (the caller keeps it to one line per client). */
  readonly warnUnsupported: (message: string) => void;
  /** Told at each `timeoutMs` that offsets are still unstable (default: warnUnsupported). */
  readonly warnStillUnstable?: (message: string) => void;
  /** How long a moving coordinator is asked again; also the interval of the still-unstable warnings. */
  readonly timeoutMs?: number;
  /** How long offsets a transaction is completing are waited for before failing (default 300 000 ms). */
  readonly unstableTimeoutMs?: number;
}

/** The committed offsets could not be read stably in time: a transaction's offsets stayed pending, or the coordinator kept moving. */
export class StableOffsetsTimeoutError extends StreamsRuntimeError {}

/**
 * Reads a group's committed offsets as Kafka's consumer does under read_committed (KIP-447): with
 * `require_stable`, so that offsets a transaction committed are returned only once the coordinator completed
 * them, never the older ones from before the transaction. kafkajs' OffsetFetch (≤ v4) answers from the last
 * completed state at once: right after a producer fenced its predecessor (its InitProducerId completes the
 * old transaction), the marker may be written while the coordinator has not yet applied the transaction's
 * offsets, and a task started from those older offsets processes records its restored state already holds.
 */
export class StableOffsetFetch {
  private connecting: Promise<RawCluster> | undefined;

  constructor(private readonly options: StableOffsetFetchOptions) {}

  /** The committed offsets of `topics` (only `partition` of each, when given: see Admin.fetchCommittedOffsets). */
  async fetch(groupId: string, topics: string[], partition?: number): Promise<GroupOffsets[]> {
    const timeoutMs = this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const cluster = await this.connected();
    if (topics.length > 0) await cluster.addMultipleTargetTopics(topics);
    await cluster.refreshMetadataIfNecessary();
    // Every partition of each topic unless one is named, as kafkajs' fetchOffsets asks: the answer has -1
    // where nothing is committed.
    const requested = topics.map((topic) => ({
      topic,
      partitions: partition === undefined ? cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId) : [partition],
    }));
    const unstableTimeoutMs = Math.max(this.options.unstableTimeoutMs ?? DEFAULT_UNSTABLE_TIMEOUT_MS, timeoutMs);
    const startedAt = Date.now();
    let nextWarningAt = startedAt + timeoutMs;
    let coordinator = await cluster.findGroupCoordinator({ groupId });
    for (let attempt = 0; ; attempt++) {
      const maxVersion = coordinator.versions?.[OFFSET_FETCH_API_KEY]?.maxVersion ?? 0;
      if (maxVersion < OFFSET_FETCH_STABLE_VERSION) {
        this.options.warnUnsupported(
          `the broker answers OffsetFetch up to version ${maxVersion}, without require_stable (Kafka 2.5+): committed ` +
            'offsets are read as kafkajs reads them, possibly from before a transaction that is completing',
        );
        return this.options.fallback({ groupId, topics });
      }
      const response = await send(coordinator, { groupId, topics: requested, requireStable: true });
      const outcome = read(response);
      if ('offsets' in outcome) return outcome.offsets;
      const waited = Date.now() - startedAt;
      const partitions = outcome.waitingFor ?? requested.flatMap(({ topic, partitions }) => partitions.map((p) => `${topic}-${p}`));
      const unstable = outcome.errorCode === UNSTABLE_OFFSET_COMMIT;
      if (waited >= (unstable ? unstableTimeoutMs : timeoutMs)) {
        // Never the older completed offsets instead: a transaction whose offsets stay pending may still commit
        // (seen after a broker restart on Kafka 4.4.0, minutes later), and a task started before them would
        // process again what that transaction's output already holds.
        const reason = unstable ? 'stayed unstable (a transaction is completing them)' : "could not be read: the group's coordinator kept moving";
        throw new StableOffsetsTimeoutError(
          `committed offsets of group ${groupId} for ${partitions.join(', ')} ${reason} for ${waited} ms` +
            (unstable ? '; the transaction that wrote them has not completed: check the broker (its transaction coordinator and the partitions\' leaders)' : ''),
          { cause: protocolError(outcome.errorCode) },
        );
      }
      if (unstable && Date.now() >= nextWarningAt) {
        nextWarningAt += timeoutMs;
        (this.options.warnStillUnstable ?? this.options.warnUnsupported)(
          `committed offsets of group ${groupId} for ${partitions.join(', ')} are still unstable after ${Math.round(waited / 1000)} s ` +
            `(a transaction is completing them); waiting up to ${Math.round(unstableTimeoutMs / 1000)} s`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(20 * 2 ** attempt, 500)));
      if (outcome.errorCode !== UNSTABLE_OFFSET_COMMIT) coordinator = await cluster.findGroupCoordinator({ groupId });
    }
  }

  async disconnect(): Promise<void> {
    const connecting = this.connecting;
    this.connecting = undefined;
    await (await connecting?.catch(() => undefined))?.disconnect();
  }

  private connected(): Promise<RawCluster> {
    this.connecting ??= this.connect();
    return this.connecting;
  }

  private async connect(): Promise<RawCluster> {
    const cluster = this.options.cluster();
    try {
      await cluster.connect();
      return cluster;
    } catch (err) {
      // Tried again on the next fetch.
      this.connecting = undefined;
      await cluster.disconnect().catch(() => {});
      throw err;
    }
  }
}

async function send(coordinator: RawRequestBroker, request: Parameters<typeof encodeOffsetFetchV7Request>[0]): Promise<OffsetFetchV7Response> {
  const protocolRequest = rawRequest(
    { apiKey: OFFSET_FETCH_API_KEY, apiVersion: OFFSET_FETCH_STABLE_VERSION, apiName: 'OffsetFetch', body: encodeOffsetFetchV7Request(request) },
    (payload) => {
      const decoded = decodeOffsetFetchV7Response(payload);
      // Brokers answer before throttling (KIP-219): kafkajs' connection holds its next requests back, as for its own v4.
      return { ...decoded, clientSideThrottleTime: decoded.throttleTimeMs };
    },
  );
  try {
    return await coordinator.connectionPool.send(protocolRequest);
  } catch (err) {
    // What kafkajs' broker does around its own requests: a closed connection is dropped, reconnected on next use.
    if ((err as { name?: string }).name === 'KafkaJSConnectionClosedError') await coordinator.disconnect();
    throw err;
  }
}

type Outcome =
  | { readonly offsets: GroupOffsets[] }
  /** UNSTABLE_OFFSET_COMMIT, or a coordinator moving; `waitingFor` names the partitions (all, for a group-level error). */
  | { readonly errorCode: number; readonly waitingFor?: string[] };

/** The offsets, or what to wait for: unstable partitions, or a coordinator that moved. Any other error is thrown. */
function read(response: OffsetFetchV7Response): Outcome {
  if (response.errorCode !== 0) {
    if (COORDINATOR_MOVING.has(response.errorCode)) return { errorCode: response.errorCode };
    throw protocolError(response.errorCode);
  }
  const waitingFor: string[] = [];
  let errorCode = 0;
  for (const { topic, partitions } of response.topics) {
    for (const p of partitions) {
      if (p.errorCode === 0) continue;
      if (p.errorCode !== UNSTABLE_OFFSET_COMMIT && !COORDINATOR_MOVING.has(p.errorCode)) throw protocolError(p.errorCode);
      // A moving coordinator outranks unstable offsets: it is asked for again.
      if (errorCode === 0 || errorCode === UNSTABLE_OFFSET_COMMIT) errorCode = p.errorCode;
      waitingFor.push(`${topic}-${p.partition}`);
    }
  }
  if (waitingFor.length > 0) return { errorCode, waitingFor };
  // The shape of kafkajs' fetchOffsets, which also turns empty metadata into null.
  return {
    offsets: response.topics.map(({ topic, partitions }) => ({
      topic,
      partitions: partitions.map(({ partition, offset, metadata }) => ({ partition, offset, metadata: metadata || null })),
    })),
  };
}
