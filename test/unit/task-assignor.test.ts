import { AssignerProtocol } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkajsAssignor } from '../../src/client/kafkajs/kafkajs-assignor.js';
import { buildSessionizeTopology } from '../../examples/sessionize/topology.js';
import { Consumed, Materialized, Serdes, StreamsBuilder, type Topology } from '../../src/index.js';
import {
  computeAssignment,
  computeStandbys,
  decodeAssignmentInfo,
  splitByTopology,
  taskAssignor,
  topologySummary,
  type SubscriptionInfo,
} from '../../src/runtime/task-assignor.js';

const tasks = ['0_0', '0_1', '0_2', '0_3', '0_4', '0_5', '1_0', '1_1', '1_2', '1_3', '1_4', '1_5'];

function moves(before: Map<string, string[]>, after: Map<string, string[]>): number {
  const owner = new Map<string, string>();
  for (const [m, ts] of before) for (const t of ts) owner.set(t, m);
  let n = 0;
  for (const [m, ts] of after) for (const t of ts) if (owner.has(t) && owner.get(t) !== m) n++;
  return n;
}

describe('task assignment', () => {
  it('spreads every sub-topology evenly over the members', () => {
    const result = computeAssignment([{ memberId: 'a', owned: tasks }, { memberId: 'b', owned: [] }], tasks);
    for (const tasksOf of result.values()) {
      expect(tasksOf.filter((t) => t.startsWith('0_'))).toHaveLength(3);
      expect(tasksOf.filter((t) => t.startsWith('1_'))).toHaveLength(3);
    }
  });

  it('keeps tasks with their owner, moving only what balance needs', () => {
    const three = computeAssignment(
      ['a', 'b', 'c'].map((memberId) => ({ memberId, owned: [] })),
      tasks,
    );
    const owned = (m: string) => three.get(m)!;
    // A fourth member joins: it takes a fair share; nobody else trades tasks.
    const four = computeAssignment(
      [...['a', 'b', 'c'].map((memberId) => ({ memberId, owned: owned(memberId) })), { memberId: 'd', owned: [] }],
      tasks,
    );
    expect([...four.values()].map((t) => t.length)).toEqual([3, 3, 3, 3]);
    expect(moves(three, four)).toBe(four.get('d')!.length);
    // Member b leaves: only b's tasks move.
    const two = computeAssignment(
      ['a', 'c'].map((memberId) => ({ memberId, owned: owned(memberId) })),
      tasks,
    );
    expect(moves(three, two)).toBe(owned('b').length);
  });

  it('assigns every task exactly once', () => {
    const result = computeAssignment(['x', 'y', 'z', 'w', 'v'].map((memberId) => ({ memberId, owned: [] })), tasks);
    expect([...result.values()].flat().sort()).toEqual([...tasks].sort());
  });

  it('gives a task without an owner to the member that has its state on disk', () => {
    const before = computeAssignment(['a', 'b'].map((memberId) => ({ memberId, owned: [] })), tasks);
    const ofB = before.get('b')!;
    // b crashed, a took everything; b comes back with b's old stores on disk: it gets exactly those back.
    const state = Object.fromEntries(ofB.map((t, i) => [t, 1000 + i]));
    const after = computeAssignment([{ memberId: 'a', owned: tasks }, { memberId: 'b2', owned: [], state }], tasks);
    expect(after.get('b2')!.sort()).toEqual([...ofB].sort());
    // A newcomer without state still gets a fair share, never more.
    const three = computeAssignment([{ memberId: 'a', owned: tasks }, { memberId: 'b2', owned: [], state }, { memberId: 'c', owned: [] }], tasks);
    expect([...three.values()].map((t) => t.length)).toEqual([4, 4, 4]);
  });

  it('places standby replicas away from the active owner, where state already is, evenly', () => {
    const members: Array<{ memberId: string; active: string[]; state?: Record<string, number> }> = [
      { memberId: 'a', active: ['1_0', '1_1', '1_2'], state: { '1_3': 500 } },
      { memberId: 'b', active: ['1_3', '1_4', '1_5'] },
      { memberId: 'c', active: [], state: { '1_0': 10 } },
    ];
    const stateful = ['1_0', '1_1', '1_2', '1_3', '1_4', '1_5'];
    const one = computeStandbys(members, stateful, 1);
    const owner = (t: string) => members.find((m) => m.active.includes(t))!.memberId;
    for (const [member, tasks] of one) for (const t of tasks) expect(owner(t)).not.toBe(member);
    expect([...one.values()].flat().sort()).toEqual(stateful);
    expect(one.get('a')).toContain('1_3'); // a has 1_3's state
    expect(one.get('c')).toContain('1_0');
    expect(Math.max(...[...one.values()].map((t) => t.length)) - Math.min(...[...one.values()].map((t) => t.length))).toBeLessThanOrEqual(2);
    // Two replicas: every task is on both other members.
    const two = computeStandbys(members, stateful, 2);
    expect([...two.values()].flat()).toHaveLength(12);
  });

  it('spreads standbys evenly when one member holds the state of every task (it ran alone first)', () => {
    const stateful = ['1_0', '1_1', '1_2', '1_3', '1_4', '1_5'];
    const all = Object.fromEntries(stateful.map((t) => [t, 100]));
    const members = [
      { memberId: 'a', active: ['1_0', '1_1'], state: all },
      { memberId: 'b', active: ['1_2', '1_3'] },
      { memberId: 'c', active: ['1_4', '1_5'] },
    ];
    const standbys = computeStandbys(members, stateful, 1);
    expect([...standbys.values()].map((t) => t.length)).toEqual([2, 2, 2]);
    expect([...standbys.values()].flat().sort()).toEqual(stateful);
    // Within its share, the member with the state still gets the tasks whose state it has.
    expect(standbys.get('a')!.every((t) => !members[0]!.active.includes(t))).toBe(true);
  });

  it('property: standbys are never on the owner, one per task and replica, and spread within one over members', () => {
    let seed = 7;
    const random = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let run = 0; run < 300; run++) {
      const memberCount = 3 + random(4);
      const ids = Array.from({ length: memberCount }, (_, i) => `m${i}`);
      const stateful = Array.from({ length: 4 + random(20) }, (_, i) => `1_${i}`);
      const members = ids.map((memberId, i) => ({
        memberId,
        active: stateful.filter((_, t) => t % memberCount === i),
        state: Object.fromEntries(stateful.filter(() => random(3) === 0).map((t) => [t, random(1000)])),
      }));
      const replicas = 1 + random(2);
      const standbys = computeStandbys(members, stateful, replicas);
      const sizes = [...standbys.values()].map((t) => t.length);
      expect(Math.max(...sizes) - Math.min(...sizes), `run ${run}`).toBeLessThanOrEqual(1);
      for (const t of stateful) {
        const holders = [...standbys].filter(([, ts]) => ts.includes(t)).map(([m]) => m);
        expect(holders).toHaveLength(replicas);
        expect(holders).not.toContain(members.find((m) => m.active.includes(t))!.memberId);
      }
    }
  });

  it('stays balanced when members keep state of tasks they handed over (joins one at a time, then a leave)', () => {
    let owned = new Map<string, string[]>();
    const everRan = new Map<string, Set<string>>();
    for (const members of [['a'], ['a', 'b'], ['a', 'b', 'c'], ['a', 'b', 'c', 'd'], ['a', 'c', 'd']]) {
      const result = computeAssignment(
        members.map((m) => {
          const mine = owned.get(m) ?? [];
          const state = Object.fromEntries([...(everRan.get(m) ?? [])].filter((t) => !mine.includes(t)).map((t) => [t, 100]));
          return { memberId: m, owned: mine, state };
        }),
        tasks,
      );
      const sizes = [...result.values()].map((t) => t.length);
      expect(Math.max(...sizes) - Math.min(...sizes), members.join('')).toBeLessThanOrEqual(1);
      for (const [m, t] of result) everRan.set(m, new Set([...(everRan.get(m) ?? []), ...t]));
      owned = result;
    }
  });
});

describe('members with another topology', () => {
  const sessionize = buildSessionizeTopology({ applicationId: 'clicks' });
  // The same input, counted per key: one sub-topology with another store, where sessionize has two.
  const counting = (() => {
    const builder = new StreamsBuilder();
    builder.stream('page-views', Consumed.with(Serdes.String(), Serdes.String())).groupByKey().count(Materialized.as('view-count'));
    return builder.build({ applicationId: 'clicks' });
  })();
  const metadata = { partitionsBySubtopology: new Map([[0, 6], [1, 6]]), partitionsByTopic: new Map<string, number>() };
  const allTasks = [...tasks];

  function member(memberId: string, topology: Topology, owned: string[] = []) {
    const info: SubscriptionInfo = { active: Object.fromEntries(owned.map((t) => [t, 'token'])), topology: topologySummary(topology) };
    return {
      memberId,
      memberMetadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics: ['page-views'], userData: Buffer.from(JSON.stringify(info)) }),
    };
  }

  async function assign(leader: Topology, members: ReturnType<typeof member>[]) {
    const refusals: Array<{ refused: ReadonlyMap<string, string>; self: string | undefined }> = [];
    const assigner = kafkajsAssignor(taskAssignor(leader, () => metadata, () => ({ active: {}, topology: topologySummary(leader) }), (refused, self) =>
      refusals.push({ refused, self }),
    ))({} as never);
    const result = await assigner.assign({ members, topics: ['page-views'] });
    const byMember = new Map<string, { tasks: string[]; refused?: string; partitions: number }>();
    for (const { memberId, memberAssignment } of result) {
      const decoded = AssignerProtocol.MemberAssignment.decode(memberAssignment)!;
      const info = decodeAssignmentInfo(decoded.userData);
      byMember.set(memberId, { tasks: [...info.active], refused: info.refused, partitions: Object.values(decoded.assignment).flat().length });
    }
    return { byMember, refusals };
  }

  it('accepts members that agree on sub-topologies, topics and stores', async () => {
    const { byMember, refusals } = await assign(sessionize, [member('a', sessionize), member('b', buildSessionizeTopology({ applicationId: 'clicks' }))]);
    expect(refusals).toEqual([]);
    expect([...byMember.values()].flatMap((m) => m.tasks).sort()).toEqual(allTasks);
  });

  it('refuses a newcomer whose topology differs, saying what differs, and assigns every task to the others', async () => {
    const { byMember, refusals } = await assign(sessionize, [
      member('a', sessionize, ['0_0', '0_1', '0_2', '1_0', '1_1', '1_2']),
      member('b', sessionize, ['0_3', '0_4', '0_5', '1_3', '1_4', '1_5']),
      member('c-new', counting),
    ]);
    const c = byMember.get('c-new')!;
    expect(c.tasks).toEqual([]);
    expect(c.partitions).toBe(0);
    expect(c.refused).toMatch(/member c-new was refused by the group of application 'clicks': its topology differs/);
    expect(c.refused).toContain('1 sub-topology here, 2 sub-topologies in the group');
    expect(c.refused).toContain('view-count');
    expect([...byMember.values()].flatMap((m) => m.tasks).sort()).toEqual(allTasks);
    expect(refusals).toHaveLength(1);
    expect(refusals[0]!.self).toBeUndefined();
  });

  it('keeps the running fleet even when the leader is the newcomer: the leader assigns nothing and is told to leave', async () => {
    const { byMember, refusals } = await assign(counting, [member('a', sessionize, ['0_0', '1_0']), member('leader', counting)]);
    expect([...byMember.values()].flatMap((m) => m.tasks)).toEqual([]);
    expect(byMember.get('leader')!.refused).toMatch(/its topology differs/);
    expect(byMember.get('a')!.refused).toBeUndefined();
    expect(refusals[0]!.self).toMatch(/the group's leader\) was refused/);
  });

  it('breaks a tie between fresh members with the leader’s topology', () => {
    const members = [
      { memberId: 'x', owned: [], topology: topologySummary(counting) },
      { memberId: 'y', owned: [], topology: topologySummary(sessionize) },
    ];
    const split = splitByTopology(members, topologySummary(sessionize), 'clicks');
    expect([...split.accepted]).toEqual(['y']);
    expect([...split.refused.keys()]).toEqual(['x']);
  });
});
