import type { Admin } from '../client/admin.js';
import type { Topology } from '../processor/topology.js';
import { decodeAssignmentInfo, decodeSubscription, type SubscriptionInfo } from './task-assignor.js';
import { formatTaskId } from '../processor/task-id.js';

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
  const group = await admin.describeGroup(groupId);
  const members: GroupMember[] = [];
  for (const member of group.members) {
    if (member.subscriptionUserData === undefined) continue;
    const subscription: SubscriptionInfo = decodeSubscription(member.subscriptionUserData);
    const activeTasks = new Set<string>();
    // An assignment that cannot be read counts as none yet.
    const assignment = member.assignment;
    if (assignment !== undefined) {
      for (const [topic, partitions] of Object.entries(assignment.partitions)) {
        const sub = topology.subtopologyOfTopic(topic);
        if (sub !== undefined) for (const p of partitions) activeTasks.add(formatTaskId({ subtopology: sub.id, partition: p }));
      }
    }
    members.push({
      memberId: member.memberId,
      clientId: member.clientId,
      subscription,
      assigned: assignment !== undefined,
      activeTasks: [...activeTasks].sort(),
      refused: assignment === undefined ? undefined : decodeAssignmentInfo(assignment.userData).refused,
    });
  }
  return { state: group.state, members };
}

/** Tasks of sub-topologies with persistent, logged stores: the ones standby replicas are kept of. */
export function statefulTaskIds(topology: Topology, partitionsBySubtopology: ReadonlyMap<number, number>): string[] {
  const tasks: string[] = [];
  for (const sub of topology.subtopologies) {
    if (!sub.stores.some((d) => d.persistent && (d.loggingEnabled || d.sourceChangelogTopic !== undefined))) continue;
    const n = partitionsBySubtopology.get(sub.id) ?? 0;
    for (let p = 0; p < n; p++) tasks.push(formatTaskId({ subtopology: sub.id, partition: p }));
  }
  return tasks;
}
