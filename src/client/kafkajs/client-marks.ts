/**
 * Tells our kafkajs clients from others in the same process. kafkajs builds its brokers deep inside its
 * clients, so the patches of this folder sit on Broker.prototype; each client of ours gets a socket factory
 * of its own (the same sockets as kafkajs' default), which kafkajs keeps on every broker's connection pool,
 * and the patches look the client's mark up by it. An application's own kafkajs clients carry no mark.
 */

/** What a client of ours asks of the patches. */
export interface ClientMark {
  /** Static membership: the group.instance.id its group consumer joins with (see static-membership.ts). */
  readonly groupInstanceId?: string;
}

/** The part of a kafkajs Broker the patches read: the factory its connections were made with. */
export interface MarkedBroker {
  readonly connectionPool?: { readonly socketFactory?: unknown };
}

type SocketFactory = (...args: never[]) => unknown;

const marks = new WeakMap<object, ClientMark>();

/** A socket factory that makes the kafkajs client created with it one of ours, with this mark. */
export function markedSocketFactory<F extends SocketFactory>(base: F, mark: ClientMark = {}): F {
  const factory = ((...args: Parameters<F>) => base(...args)) as F;
  marks.set(factory, mark);
  return factory;
}

/**
 * The mark of the client a broker belongs to; undefined when the client is not ours. Throws when the broker
 * carries no socket factory: another kafkajs layout, where no patch could tell its clients.
 */
export function markOf(broker: MarkedBroker): ClientMark | undefined {
  const factory = broker.connectionPool?.socketFactory;
  if (typeof factory !== 'function') {
    throw new Error('kstreams-ts: kafkajs brokers no longer carry their socket factory; its patches cannot tell its clients');
  }
  return marks.get(factory);
}
