import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';
import type { Topology } from '../dsl/topology.js';
import { formatTaskId } from './task-id.js';
import type { TopologyMetadata } from './internal-topic-manager.js';

export const ASSIGNOR_NAME = 'kstreams-ts-tasks';

/** What each member tells the group leader when it joins: the tasks it runs, with their ownership tokens. */
export interface SubscriptionInfo {
  /** taskId -> ownership token, a random id a member draws when it starts running a task. */
  readonly active: Record<string, string>;
  /** The member's `applicationServer` (host:port), for interactive queries. */
  readonly server?: string;
}

export function decodeSubscription(userData: Buffer | null | undefined): SubscriptionInfo {
  if (userData === null || userData === undefined || userData.length === 0) return { active: {} };
  try {
    const parsed = JSON.parse(userData.toString('utf8')) as Partial<SubscriptionInfo>;
    return { active: parsed.active ?? {}, server: typeof parsed.server === 'string' ? parsed.server : undefined };
  } catch {
    return { active: {} };
  }
}

/**
 * Assigns tasks, not partitions. All partitions of one task (the same partition number of every topic its
 * sub-topology reads) go to one member, so co-partitioned data meets. Each sub-topology's tasks are spread
 * evenly (so every member gets input and aggregation work alike); within that, a task stays with the member
 * that ran it (sticky), and the rest go to the least loaded member. Deterministic for the same input, so any
 * leader decides the same.
 */
export function computeAssignment(
  members: ReadonlyArray<{ memberId: string; owned: readonly string[] }>,
  taskIds: readonly string[],
): Map<string, string[]> {
  const result = new Map<string, string[]>();
  const sortedMembers = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : 1));
  for (const m of sortedMembers) result.set(m.memberId, []);
  if (sortedMembers.length === 0) return result;
  const ownerOf = new Map<string, string>();
  for (const m of sortedMembers) for (const t of m.owned) if (!ownerOf.has(t)) ownerOf.set(t, m.memberId);
  const bySubtopology = new Map<string, string[]>();
  for (const task of taskIds) {
    const sub = task.slice(0, task.indexOf('_'));
    bySubtopology.set(sub, [...(bySubtopology.get(sub) ?? []), task]);
  }
  const total = (m: string): number => result.get(m)!.length;
  const fairTotal = Math.ceil(taskIds.length / sortedMembers.length);
  for (const tasks of bySubtopology.values()) {
    // Every member gets floor or floor + 1 tasks of each sub-topology.
    const floor = Math.floor(tasks.length / sortedMembers.length);
    let extraSlots = tasks.length % sortedMembers.length;
    const count = new Map<string, number>(sortedMembers.map((m) => [m.memberId, 0]));
    const give = (task: string, member: string): void => {
      result.get(member)!.push(task);
      count.set(member, count.get(member)! + 1);
    };
    // Sticky first: owners keep up to the floor...
    const leftOver: string[] = [];
    for (const task of tasks) {
      const owner = ownerOf.get(task);
      if (owner !== undefined && count.has(owner) && count.get(owner)! < floor) give(task, owner);
      else leftOver.push(task);
    }
    // ...and one more where a slot is left and the owner is below its fair share overall.
    const unassigned: string[] = [];
    const byOwnerLoad = [...leftOver].sort((a, b) => {
      const oa = ownerOf.get(a);
      const ob = ownerOf.get(b);
      return (oa === undefined ? Infinity : total(oa)) - (ob === undefined ? Infinity : total(ob)) || (a < b ? -1 : 1);
    });
    for (const task of byOwnerLoad) {
      const owner = ownerOf.get(task);
      if (owner !== undefined && count.has(owner) && count.get(owner)! === floor && extraSlots > 0 && total(owner) < fairTotal) {
        give(task, owner);
        extraSlots--;
      } else {
        unassigned.push(task);
      }
    }
    unassigned.sort();
    for (const task of unassigned) {
      // Least loaded within this sub-topology, then overall, then by member id.
      let target = sortedMembers[0]!.memberId;
      for (const m of sortedMembers) {
        const [c, t] = [count.get(m.memberId)!, count.get(target)!];
        if (c < t || (c === t && total(m.memberId) < total(target))) target = m.memberId;
      }
      give(task, target);
    }
  }
  return result;
}

/** The kafkajs partition assigner that puts {@link computeAssignment} into the group protocol. */
export function taskAssignor(
  topology: Topology,
  metadata: () => TopologyMetadata,
  subscription: () => SubscriptionInfo,
): PartitionAssigner {
  return () => ({
    name: ASSIGNOR_NAME,
    version: 1,
    protocol({ topics }) {
      return {
        name: ASSIGNOR_NAME,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 1,
          topics,
          userData: Buffer.from(JSON.stringify(subscription())),
        }),
      };
    },
    async assign({ members }) {
      const { partitionsBySubtopology } = metadata();
      const taskIds: string[] = [];
      for (const sub of topology.subtopologies) {
        const n = partitionsBySubtopology.get(sub.id) ?? 0;
        for (let p = 0; p < n; p++) taskIds.push(formatTaskId({ subtopology: sub.id, partition: p }));
      }
      const decoded = members.map((m) => {
        const meta = AssignerProtocol.MemberMetadata.decode(m.memberMetadata);
        return { memberId: m.memberId, owned: Object.keys(decodeSubscription(meta?.userData).active) };
      });
      const assignment = computeAssignment(decoded, taskIds);
      return [...assignment].map(([memberId, tasks]) => {
        const topics: Record<string, number[]> = {};
        for (const task of tasks) {
          const [sub, partition] = task.split('_').map(Number) as [number, number];
          for (const topic of topology.subtopologies[sub]!.sourceTopics) (topics[topic] ??= []).push(partition);
        }
        return {
          memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({
            version: 1,
            assignment: topics,
            userData: Buffer.from(JSON.stringify({ active: tasks })),
          }),
        };
      });
    },
  });
}
