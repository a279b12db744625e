/** The static membership patch on kafkajs' broker calls, on brokers whose requests go nowhere (no Kafka). */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { markedSocketFactory } from '../../src/client/kafkajs/client-marks.js';
import { installStaticMembership } from '../../src/client/kafkajs/static-membership.js';

interface GroupCalls {
  joinGroup(args: object): Promise<unknown>;
  syncGroup(args: object): Promise<unknown>;
  heartbeat(args: object): Promise<unknown>;
  leaveGroup(args: object): Promise<unknown>;
}

/** A kafkajs Broker (the real, patched prototype) that records what it would send, at `version`. */
function brokerWith(socketFactory: unknown, version = 5): { broker: GroupCalls; sent: Array<Record<string, unknown>> } {
  const Broker = createRequire(import.meta.url)('kafkajs/src/broker/index.js') as { prototype: object };
  const send = Object.getOwnPropertySymbols(Broker.prototype).find((s) => s.description === 'private:Broker:sendRequest')!;
  const sent: Array<Record<string, unknown>> = [];
  const broker = Object.assign(Object.create(Broker.prototype) as GroupCalls, {
    connectionPool: { socketFactory },
    lookupRequest: () => (args: Record<string, unknown>) => ({ request: { apiVersion: version }, args }),
    [send]: async (built: { args: Record<string, unknown> }) => {
      sent.push(built.args);
      return {};
    },
  });
  return { broker, sent };
}

const base = () => ({});

describe('static membership (group.instance.id through kafkajs)', () => {
  it('sends the instance id with JoinGroup, SyncGroup and Heartbeat of a static member, and no LeaveGroup', async () => {
    installStaticMembership();
    const { broker, sent } = brokerWith(markedSocketFactory(base, { groupInstanceId: 'clicks-1' }));
    await broker.joinGroup({ groupId: 'g', sessionTimeout: 10_000, rebalanceTimeout: 60_000, groupProtocols: [] });
    await broker.syncGroup({ groupId: 'g', generationId: 1, memberId: 'm', groupAssignment: [] });
    await broker.heartbeat({ groupId: 'g', groupGenerationId: 1, memberId: 'm' });
    await broker.leaveGroup({ groupId: 'g', memberId: 'm' });
    expect(sent.map((a) => a.groupInstanceId)).toEqual(['clicks-1', 'clicks-1', 'clicks-1']);
    expect(sent[0]).toMatchObject({ groupId: 'g', memberId: '', protocolType: 'consumer' });
  });

  it('leaves every other client as kafkajs made it: no instance id, and it leaves the group', async () => {
    installStaticMembership();
    for (const factory of [markedSocketFactory(base), base]) {
      const { broker, sent } = brokerWith(factory);
      await broker.joinGroup({ groupId: 'g', sessionTimeout: 10_000, rebalanceTimeout: 60_000, groupProtocols: [] });
      await broker.leaveGroup({ groupId: 'g', memberId: 'm' });
      expect(sent).toHaveLength(2);
      expect(sent.every((a) => a.groupInstanceId === undefined)).toBe(true);
    }
  });

  it('refuses a broker whose JoinGroup cannot carry the instance id, rather than join as a dynamic member', async () => {
    installStaticMembership();
    const { broker, sent } = brokerWith(markedSocketFactory(base, { groupInstanceId: 'clicks-1' }), 4);
    await expect(broker.joinGroup({ groupId: 'g', sessionTimeout: 10_000, rebalanceTimeout: 60_000, groupProtocols: [] })).rejects.toThrow(
      /JoinGroup v5/,
    );
    expect(sent).toEqual([]);
  });
});
