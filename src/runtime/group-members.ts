import { AssignerProtocol, type Admin } from 'kafkajs';
import type { Topology } from '../processor/topology.js';
import { decodeAssignmentInfo, decodeSubscription, type SubscriptionInfo } from './task-assignor.js';
import { formatTaskId } from './task-id.js';

/** One member of the application's group as the broker describes it, decoded with our protocol. */
export interface GroupMember {
  readonly memberId: string;
  readonly clientId: string;
  readonly subscription: SubscriptionInfo;
  /** False while the member has no (readable) assignment, between a join and its sync. */
  readonly assigned: boolean;
  readonly activeTasks: string[];
  /** Why the leader gave this member no task (its topology differs from the group's), if it refused it. */
  readonly refused?: string;
}

/**
 * The members of the application's group, their subscription metadata and the tasks of their assignment.
 * A member between joins may show empty or foreign metadata: it is left out.
 */
export async function describeGroupMembers(admin: Admin, groupId: string, topology: Topology): Promise<GroupMember[]> {
  return (await describeGroup(admin, groupId, topology)).members;
}

/** The group's state (`Stable`, `PreparingRebalance`, `CompletingRebalance`, `Empty`, `Dead`) and its members. */
export async function describeGroup(admin: Admin, groupId: string, topology: Topology): Promise<{ state: string; members: GroupMember[] }> {
  const { groups } = await admin.describeGroups([groupId]);
  const members: GroupMember[] = [];
  for (const member of groups[0]?.members ?? []) {
    if (member.memberMetadata.length === 0) continue;
    let subscription: SubscriptionInfo;
    try {
      subscription = decodeSubscription(AssignerProtocol.MemberMetadata.decode(member.memberMetadata)?.userData);
    } catch {
      continue;
    }
    const activeTasks = new Set<string>();
    let assigned = false;
    let refused: string | undefined;
    if (member.memberAssignment.length > 0) {
      try {
        const decoded = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
        refused = decodeAssignmentInfo(decoded?.userData).refused;
        const assignment = decoded?.assignment ?? {};
        for (const [topic, partitions] of Object.entries(assignment)) {
          const sub = topology.subtopologyOfTopic(topic);
          if (sub !== undefined) for (const p of partitions) activeTasks.add(formatTaskId({ subtopology: sub.id, partition: p }));
        }
        assigned = true;
      } catch {
        // unreadable: treated as not assigned yet
      }
    }
    members.push({ memberId: member.memberId, clientId: member.clientId, subscription, assigned, activeTasks: [...activeTasks].sort(), refused });
  }
  return { state: groups[0]?.state ?? 'Dead', members };
}

/** Tasks of sub-topologies with persistent, logged stores: the ones standby replicas are kept of. */
export function statefulTaskIds(topology: Topology, partitionsBySubtopology: ReadonlyMap<number, number>): string[] {
  const tasks: string[] = [];
  for (const sub of topology.subtopologies) {
    if (!sub.stores.some((d) => d.persistent && d.loggingEnabled)) continue;
    const n = partitionsBySubtopology.get(sub.id) ?? 0;
    for (let p = 0; p < n; p++) tasks.push(formatTaskId({ subtopology: sub.id, partition: p }));
  }
  return tasks;
}
