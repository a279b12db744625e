/**
 * Static membership (KIP-345) for kafkajs 2.2.4, which speaks JoinGroup v5, SyncGroup v3 and Heartbeat v3
 * (the versions that carry `group.instance.id`) but always sends the field empty. For the group consumers
 * of our clients marked with a group instance id (see client-marks.ts), these broker requests carry it,
 * and LeaveGroup is not sent: as with Kafka's consumer, a static member that closes stays in the group
 * until its session times out, so a restart within the session timeout takes its tasks back without a
 * rebalance. Every other client's requests are kafkajs' own.
 */
import { createRequire } from 'node:module';
import { markOf, type MarkedBroker } from './client-marks.js';
import { checkKafkajsVersion } from './kafkajs-version.js';

const require = createRequire(import.meta.url);

/** A request as kafkajs' protocol layer builds it for the negotiated version. */
interface BuiltRequest {
  readonly request: { readonly apiVersion: number };
}

type RequestBuilder = (args: Record<string, unknown>) => BuiltRequest;
type GroupCall = (this: KafkajsBroker, args: Record<string, unknown>) => Promise<unknown>;

interface KafkajsBroker extends MarkedBroker {
  lookupRequest(apiKey: number, definition: unknown): RequestBuilder;
  [send: symbol]: (request: BuiltRequest) => Promise<unknown>;
}

interface BrokerPrototype extends Record<symbol, unknown> {
  joinGroup: GroupCall;
  syncGroup: GroupCall;
  heartbeat: GroupCall;
  leaveGroup: GroupCall;
}

const INSTALLED = Symbol.for('kstreams-ts.staticMembership');

/** The first version of each request that carries group.instance.id. */
const FIRST_VERSION = { JoinGroup: 5, SyncGroup: 3, Heartbeat: 3 } as const;

/**
 * Installs the patch once per process. Throws if kafkajs' broker lacks what it relies on (its private send,
 * the group calls) or the patch did not take: static membership must never silently be dynamic.
 */
export function installStaticMembership(): void {
  checkKafkajsVersion();
  const Broker = require('kafkajs/src/broker/index.js') as { prototype: BrokerPrototype };
  const apiKeys = require('kafkajs/src/protocol/requests/apiKeys.js') as Record<keyof typeof FIRST_VERSION, number>;
  const { requests } = require('kafkajs/src/protocol/requests/index.js') as { requests: Record<keyof typeof FIRST_VERSION, unknown> };
  const proto = Broker.prototype;
  if (proto[INSTALLED] === true) return;
  const send = Object.getOwnPropertySymbols(proto).find((s) => s.description === 'private:Broker:sendRequest');
  const original = { joinGroup: proto.joinGroup, syncGroup: proto.syncGroup, heartbeat: proto.heartbeat, leaveGroup: proto.leaveGroup };
  if (send === undefined || Object.values(original).some((f) => typeof f !== 'function')) {
    throw new Error("kstreams-ts: kafkajs' Broker no longer has the calls static membership patches");
  }

  /** Sends `name` with the group instance id; refuses a broker that negotiated a version without the field. */
  const sendStatic = (broker: KafkajsBroker, name: keyof typeof FIRST_VERSION, args: Record<string, unknown>): Promise<unknown> => {
    const built = broker.lookupRequest(apiKeys[name], requests[name])(args);
    if (built.request.apiVersion < FIRST_VERSION[name]) {
      throw new Error(`static membership needs ${name} v${FIRST_VERSION[name]}+, the broker speaks v${built.request.apiVersion}: leave groupInstanceId unset`);
    }
    return broker[send]!(built);
  };

  proto.joinGroup = async function joinGroup(this: KafkajsBroker, args: Record<string, unknown>): Promise<unknown> {
    const groupInstanceId = markOf(this)?.groupInstanceId;
    if (groupInstanceId === undefined) return original.joinGroup.call(this, args);
    const request = { memberId: '', protocolType: 'consumer', ...args, groupInstanceId };
    try {
      return await sendStatic(this, 'JoinGroup', request);
    } catch (error) {
      // As kafkajs: a broker that wants a member id first hands one over in the error.
      const { name, memberId } = error as { name?: string; memberId?: string };
      if (name === 'KafkaJSMemberIdRequired') return sendStatic(this, 'JoinGroup', { ...request, memberId });
      throw error;
    }
  };
  proto.syncGroup = function syncGroup(this: KafkajsBroker, args: Record<string, unknown>): Promise<unknown> {
    const groupInstanceId = markOf(this)?.groupInstanceId;
    if (groupInstanceId === undefined) return original.syncGroup.call(this, args);
    return sendStatic(this, 'SyncGroup', { ...args, groupInstanceId });
  };
  proto.heartbeat = function heartbeat(this: KafkajsBroker, args: Record<string, unknown>): Promise<unknown> {
    const groupInstanceId = markOf(this)?.groupInstanceId;
    if (groupInstanceId === undefined) return original.heartbeat.call(this, args);
    return sendStatic(this, 'Heartbeat', { ...args, groupInstanceId });
  };
  proto.leaveGroup = function leaveGroup(this: KafkajsBroker, args: Record<string, unknown>): Promise<unknown> {
    // A static member stays until its session times out (or it comes back): that is the point of it.
    if (markOf(this)?.groupInstanceId !== undefined) return Promise.resolve({});
    return original.leaveGroup.call(this, args);
  };
  if (Object.entries(original).some(([name, f]) => proto[name as keyof typeof original] === f)) {
    throw new Error("kstreams-ts: could not patch kafkajs' group calls (static membership)");
  }
  proto[INSTALLED] = true;
}
