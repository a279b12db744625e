import { StreamsRuntimeError } from '../errors/errors.js';

/**
 * What a client error means to the runtime, independent of the client library. The runtime asks only these
 * questions; which error names, protocol codes and messages answer them is the client's business: the
 * client's module registers its ClientErrorClassifier as it loads (kafkajs-client.ts registers
 * kafkajs-errors.ts), so this file knows no client.
 *
 * Said of the cluster, so any error in the cause chain counts (a wrapper does not change what the broker
 * answered):
 *  - `unavailable`: the broker, or the coordinator or partition leader on it, cannot be reached right now
 *    (connection refused or lost, a coordinator loading, a leader moving, a request timing out). Not a fault:
 *    the runtime rides it out for up to `brokerUnavailableTimeoutMs`.
 *  - `rebalancing`: the consumer group moved on (its generation ended, the member is unknown to it, or it is
 *    rebalancing). An offset commit is skipped; it is redone after the rebalance.
 *  - `fenced`: another producer with our transactional id took over (a newer epoch). The task is lost to
 *    another owner, not broken.
 *
 * Said of one request, so only the outermost error counts (a wrapper such as "retries exhausted" is the
 * client's last word on it):
 *  - `concurrent-transactions`: the transaction coordinator is still completing the previous transaction of
 *    this transactional id; the same request succeeds shortly.
 *  - `already-exists`: a topic to create exists already.
 *  - `timed-out`: the broker did not answer the request in time; it may still carry it out.
 *  - `retriable`: the client itself says the same request may succeed if repeated.
 *
 * An error of no kind is, to the runtime, a real failure.
 */
export type ClientErrorKind =
  | 'unavailable'
  | 'rebalancing'
  | 'fenced'
  | 'concurrent-transactions'
  | 'already-exists'
  | 'timed-out'
  | 'retriable';

/** The fields of one error object a client may classify it by; any may be missing or of another type. */
export interface ClientErrorFields {
  readonly name?: unknown;
  readonly message?: unknown;
  /** The broker's answer, named as Kafka's protocol names its error codes. */
  readonly type?: unknown;
  readonly retriable?: unknown;
}

/**
 * How a client library tells whether one error object is of `kind`, as that library reports it. It looks at
 * that object only, never at its causes (isClientError walks the chain), and never throws.
 */
export type ClientErrorClassifier = (error: ClientErrorFields, kind: ClientErrorKind) => boolean;

let classifier: ClientErrorClassifier | undefined;

/**
 * Registers how the errors of the client in use read; its module calls this as it loads, before it can
 * make any client, so every error a client raises finds its classifier.
 */
export function registerClientErrorClassifier(classify: ClientErrorClassifier): void {
  classifier = classify;
}

const ALL_KINDS: readonly ClientErrorKind[] = ['unavailable', 'rebalancing', 'fenced', 'concurrent-transactions', 'already-exists', 'timed-out', 'retriable'];

/** Kinds that hold when any error of the cause chain has them; the others are the outermost error's. */
const CAUSE_CHAIN_KINDS: ReadonlySet<ClientErrorKind> = new Set(['unavailable', 'rebalancing', 'fenced']);

/** How far down `.cause` a chain is followed (a bound, so that a cyclic chain ends). */
const MAX_CAUSE_DEPTH = 8;

function isOfKind(value: unknown, kind: ClientErrorKind): boolean {
  if (value === undefined || value === null) return false;
  // Without a classifier every broker outage would be taken as fatal: say so instead of guessing.
  if (classifier === undefined) throw new StreamsRuntimeError('No Kafka client has registered how to classify its errors (registerClientErrorClassifier)');
  return classifier(value, kind);
}

/**
 * True when `err` is of `kind` (see ClientErrorKind for which kinds look down the cause chain). Accepts any
 * thrown value: one that is no object is of no kind.
 */
export function isClientError(err: unknown, kind: ClientErrorKind): boolean {
  if (!CAUSE_CHAIN_KINDS.has(kind)) return isOfKind(err, kind);
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < MAX_CAUSE_DEPTH; e = (e as { cause?: unknown }).cause, depth++) {
    if (isOfKind(e, kind)) return true;
  }
  return false;
}

/** Every kind `err` is of; empty for an error that is none (for logs and tests). */
export function classifyClientError(err: unknown): ReadonlySet<ClientErrorKind> {
  return new Set(ALL_KINDS.filter((kind) => isClientError(err, kind)));
}
