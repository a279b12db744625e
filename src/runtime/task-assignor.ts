import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';
import type { Topology } from '../dsl/topology.js';
import { formatTaskId } from './task-id.js';
import type { TopologyMetadata } from './internal-topic-manager.js';

export const ASSIGNOR_NAME = 'kstreams-ts-tasks';

/** What each member tells the group leader when it joins: the tasks it runs, with their ownership tokens. */
export interface SubscriptionInfo {
  /** taskId -> ownership token, a random id a member draws when it starts running a task. */
  readonly active: Record<string, string>;
}

export function decodeSubscription(userData: Buffer | null | undefined): SubscriptionInfo {
  if (userData === null || userData === undefined || userData.length === 0) return { active: {} };
  try {
    const parsed = JSON.parse(userData.toString('utf8')) as Partial<SubscriptionInfo>;
    return { active: parsed.active ?? {} };
  } catch {
    return { active: {} };
  }
}

/**
 * Assigns tasks, not partitions. All partitions of one task (the same partition number of every topic its
 * sub-topology reads) go to one member, so co-partitioned data meets. A task stays with the member that
 * ran it (sticky) as long as that member is not above its fair share; the rest go to the least loaded
 * member. Deterministic for the same input, so every leader would decide the same.
 */
export function computeAssignment(
  members: ReadonlyArray<{ memberId: string; owned: readonly string[] }>,
  taskIds: readonly string[],
): Map<string, string[]> {
  const result = new Map<string, string[]>();
  const sortedMembers = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : 1));
  for (const m of sortedMembers) result.set(m.memberId, []);
  if (sortedMembers.length === 0) return result;
  const capacity = Math.ceil(taskIds.length / sortedMembers.length);
  const ownerOf = new Map<string, string>();
  for (const m of sortedMembers) for (const t of m.owned) if (!ownerOf.has(t)) ownerOf.set(t, m.memberId);
  const unassigned: string[] = [];
  for (const task of taskIds) {
    const owner = ownerOf.get(task);
    const list = owner === undefined ? undefined : result.get(owner);
    if (list !== undefined && list.length < capacity) list.push(task);
    else unassigned.push(task);
  }
  for (const task of unassigned) {
    let target = sortedMembers[0]!.memberId;
    for (const m of sortedMembers) if (result.get(m.memberId)!.length < result.get(target)!.length) target = m.memberId;
    result.get(target)!.push(task);
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
