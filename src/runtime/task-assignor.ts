import type { GroupAssignor } from '../client/group-assignor.js';
import type { Topology } from '../processor/topology.js';
import { formatTaskId, parseTaskId } from '../processor/task-id.js';
import type { TopologyMetadata } from './internal-topic-manager.js';

export const ASSIGNOR_NAME = 'kstreams-ts-tasks';

/** What each member tells the group leader when it joins: the tasks it runs, with their ownership tokens. */
export interface SubscriptionInfo {
  /** taskId -> ownership token, a random id a member draws when it starts running a task. */
  readonly active: Record<string, string>;
  /** The member's `applicationServer` (host:port), for interactive queries. */
  readonly server?: string;
  /** Tasks whose state this member holds on disk without running them: taskId -> changelog offsets summed. */
  readonly state?: Record<string, number>;
  /** The member's topology as tasks see it (see topologySummary); members that differ are refused. */
  readonly topology?: readonly string[];
}

export function decodeSubscription(userData: Buffer | null | undefined): SubscriptionInfo {
  if (userData === null || userData === undefined || userData.length === 0) return { active: {} };
  try {
    const parsed = JSON.parse(userData.toString('utf8')) as Partial<SubscriptionInfo>;
    return {
      active: parsed.active ?? {},
      server: typeof parsed.server === 'string' ? parsed.server : undefined,
      state: parsed.state ?? {},
      topology: Array.isArray(parsed.topology) ? parsed.topology.map(String) : undefined,
    };
  } catch {
    return { active: {} };
  }
}

/** What the leader tells each member besides its partitions; `refused` says why it got no task. */
export interface AssignmentInfo {
  readonly active: readonly string[];
  readonly refused?: string;
}

export function decodeAssignmentInfo(userData: Buffer | null | undefined): AssignmentInfo {
  if (userData === null || userData === undefined || userData.length === 0) return { active: [] };
  try {
    const parsed = JSON.parse(userData.toString('utf8')) as Partial<AssignmentInfo>;
    return { active: Array.isArray(parsed.active) ? parsed.active : [], refused: typeof parsed.refused === 'string' ? parsed.refused : undefined };
  } catch {
    return { active: [] };
  }
}

/**
 * The topology as far as tasks are concerned, one line per sub-topology: the topics it reads and the stores
 * it keeps. Two members that agree on this run the same tasks with the same state; processors may differ
 * (a rolling upgrade that adds a filter), which changes no task.
 */
export function topologySummary(topology: Topology): string[] {
  return topology.subtopologies.map((sub) => {
    const stores = sub.stores.map((d) => `${d.name} (${d.type})`).sort();
    return `sub-topology ${sub.id}: topics [${[...sub.sourceTopics].sort().join(', ')}], stores [${stores.join(', ')}]`;
  });
}

/** How one topology differs from another, for an error message. */
export function describeTopologyDifference(mine: readonly string[], theirs: readonly string[]): string {
  const onlyMine = mine.filter((l) => !theirs.includes(l));
  const onlyTheirs = theirs.filter((l) => !mine.includes(l));
  const parts: string[] = [];
  const count = (n: number) => `${n} sub-topolog${n === 1 ? 'y' : 'ies'}`;
  if (mine.length !== theirs.length) parts.push(`${count(mine.length)} here, ${count(theirs.length)} in the group`);
  if (onlyMine.length > 0) parts.push(`only here: ${onlyMine.join('; ')}`);
  if (onlyTheirs.length > 0) parts.push(`only in the group: ${onlyTheirs.join('; ')}`);
  return parts.join('; ') || 'the order of sub-topologies differs';
}

/**
 * Which members run the group's topology. Members report their topology summary; the one kept is the one
 * of the most members that already run tasks, then of the most members, then the leader's (the oldest
 * member, usually), so a newcomer with another topology never displaces a running fleet. The others are
 * refused with a reason naming what differs. Members that report no topology are kept.
 */
export function splitByTopology(
  members: ReadonlyArray<{ memberId: string; owned: readonly string[]; topology?: readonly string[] }>,
  leaderTopology: readonly string[] | undefined,
  applicationId: string,
): { accepted: Set<string>; refused: Map<string, string>; topology: readonly string[] | undefined } {
  const key = (t: readonly string[]) => t.join('\n');
  const votes = new Map<string, { topology: readonly string[]; running: number; members: number }>();
  for (const m of members) {
    if (m.topology === undefined) continue;
    const v = votes.get(key(m.topology)) ?? { topology: m.topology, running: 0, members: 0 };
    v.members++;
    if (m.owned.length > 0) v.running++;
    votes.set(key(m.topology), v);
  }
  const leaderKey = leaderTopology === undefined ? undefined : key(leaderTopology);
  const ranked = [...votes.entries()].sort(
    ([ka, a], [kb, b]) => b.running - a.running || b.members - a.members || Number(kb === leaderKey) - Number(ka === leaderKey) || (ka < kb ? -1 : 1),
  );
  const winner = ranked[0]?.[1].topology;
  const accepted = new Set<string>();
  const refused = new Map<string, string>();
  for (const m of members) {
    if (m.topology === undefined || winner === undefined || key(m.topology) === key(winner)) {
      accepted.add(m.memberId);
      continue;
    }
    refused.set(
      m.memberId,
      `member ${m.memberId} was refused by the group of application '${applicationId}': its topology differs from the one ` +
        `the group runs (${describeTopologyDifference(m.topology, winner)}). Instances of one applicationId must run the ` +
        'same topology: stop the old version before starting a changed one, or give the new one its own applicationId.',
    );
  }
  return { accepted, refused, topology: winner };
}

/**
 * Assigns tasks, not partitions. All partitions of one task (the same partition number of every topic its
 * sub-topology reads) go to one member, so co-partitioned data meets. Each sub-topology's tasks are spread
 * evenly (so every member gets input and aggregation work alike); within that, a task stays with the member
 * that ran it (sticky), and the rest go to the least loaded member. Deterministic for the same input, so any
 * leader decides the same.
 */
export function computeAssignment(
  members: ReadonlyArray<{ memberId: string; owned: readonly string[]; state?: Readonly<Record<string, number>> }>,
  taskIds: readonly string[],
): Map<string, string[]> {
  const result = new Map<string, string[]>();
  const sortedMembers = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : 1));
  for (const m of sortedMembers) result.set(m.memberId, []);
  if (sortedMembers.length === 0) return result;
  const ownerOf = new Map<string, string>();
  for (const m of sortedMembers) for (const t of m.owned) if (!ownerOf.has(t)) ownerOf.set(t, m.memberId);
  // The member (not the owner) with the most of a task's state on disk: where the task goes when it moves.
  const warmest = new Map<string, { memberId: string; offsets: number }>();
  for (const m of sortedMembers) {
    for (const [task, offsets] of Object.entries(m.state ?? {})) {
      if (ownerOf.get(task) === m.memberId) continue;
      const best = warmest.get(task);
      if (best === undefined || offsets > best.offsets) warmest.set(task, { memberId: m.memberId, offsets });
    }
  }
  const bySubtopology = new Map<number, string[]>();
  for (const task of taskIds) {
    const sub = parseTaskId(task).subtopology;
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
    // Sticky first: owners keep up to the floor, giving up first the tasks another member has state for...
    const leftOver: string[] = [];
    const ordered = [...tasks].sort((a, b) => Number(warmest.has(a)) - Number(warmest.has(b)) || (a < b ? -1 : 1));
    for (const task of ordered) {
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
    const slots = (member: string) => count.get(member)! < floor || (count.get(member)! === floor && extraSlots > 0);
    for (const task of unassigned) {
      // The member that has the task's state, while it has room; else the least loaded within this
      // sub-topology, then overall, then by member id.
      const warm = warmest.get(task)?.memberId;
      let target = sortedMembers[0]!.memberId;
      for (const m of sortedMembers) {
        const [c, t] = [count.get(m.memberId)!, count.get(target)!];
        if (c < t || (c === t && total(m.memberId) < total(target))) target = m.memberId;
      }
      if (warm !== undefined && count.has(warm) && slots(warm) && total(warm) < fairTotal && count.get(warm)! <= count.get(target)! + 1) target = warm;
      if (count.get(target)! >= floor) extraSlots--;
      give(task, target);
    }
  }
  return result;
}

/** The group assignor that puts {@link computeAssignment} into the group protocol. */
export function taskAssignor(
  topology: Topology,
  metadata: () => TopologyMetadata,
  subscription: () => SubscriptionInfo,
  /**
   * Called on the leader when it refuses members (memberId -> reason), with `self` set when the leader's
   * own topology is not the group's (then it assigns nothing and must leave).
   */
  onRefused: (refused: ReadonlyMap<string, string>, self: string | undefined) => void = () => {},
): GroupAssignor {
  return {
    name: ASSIGNOR_NAME,
    version: 1,
    userData: () => Buffer.from(JSON.stringify(subscription())),
    async assign(members) {
      const { partitionsBySubtopology } = metadata();
      const taskIds: string[] = [];
      for (const sub of topology.subtopologies) {
        const n = partitionsBySubtopology.get(sub.id) ?? 0;
        for (let p = 0; p < n; p++) taskIds.push(formatTaskId({ subtopology: sub.id, partition: p }));
      }
      const decoded = members.map((m) => {
        const info = decodeSubscription(m.userData);
        return { memberId: m.memberId, owned: Object.keys(info.active), state: info.state, topology: info.topology };
      });
      const own = subscription().topology ?? topologySummary(topology);
      const { accepted, refused, topology: kept } = splitByTopology(decoded, own, topology.applicationId);
      // The task list comes from this leader's topology: if the group runs another one, assign nothing and
      // leave; a leader of the group's topology assigns every task at the next rebalance.
      const leaderRefused = kept !== undefined && kept.join('\n') !== own.join('\n');
      if (refused.size > 0 || leaderRefused) {
        const self = leaderRefused
          ? `this instance (the group's leader) was refused by the group of application '${topology.applicationId}': its topology ` +
            `differs from the one the group runs (${describeTopologyDifference(own, kept)}). Instances of one applicationId must ` +
            'run the same topology: stop the old version before starting a changed one, or give the new one its own applicationId.'
          : undefined;
        onRefused(refused, self);
      }
      const assignment = leaderRefused
        ? new Map(decoded.map((m) => [m.memberId, [] as string[]]))
        : computeAssignment(decoded.filter((m) => accepted.has(m.memberId)), taskIds);
      for (const m of decoded) if (!assignment.has(m.memberId)) assignment.set(m.memberId, []);
      return [...assignment].map(([memberId, tasks]) => {
        const topics: Record<string, number[]> = {};
        for (const task of tasks) {
          const { subtopology: sub, partition } = parseTaskId(task);
          for (const topic of topology.subtopologies[sub]!.sourceTopics) (topics[topic] ??= []).push(partition);
        }
        return {
          memberId,
          partitions: topics,
          userData: Buffer.from(JSON.stringify({ active: tasks, refused: refused.get(memberId) } satisfies AssignmentInfo)),
        };
      });
    },
  };
}

/**
 * Where the standby replicas of stateful tasks go: `replicas` members per task, never the task's active
 * owner, preferring members below their fair share of standbys (all standbys over all members, rounded up),
 * then members that already hold the task's state (most offsets first), then the members with the fewest
 * standbys, then by member id. The fair share keeps a member that holds everyone's state (the first one to
 * run, say) from taking every standby, as Kafka Streams' standby assignor spreads them by load. Every member
 * computes this from the group's description after a rebalance; being deterministic, they all agree without
 * the leader having to ship it.
 */
export function computeStandbys(
  members: ReadonlyArray<{ memberId: string; active: readonly string[]; state?: Readonly<Record<string, number>> }>,
  statefulTasks: readonly string[],
  replicas: number,
): Map<string, string[]> {
  const result = new Map<string, string[]>(members.map((m) => [m.memberId, []]));
  const ownerOf = new Map<string, string>();
  for (const m of members) for (const t of m.active) ownerOf.set(t, m.memberId);
  const fairShare = members.length === 0 ? 0 : Math.ceil((statefulTasks.length * Math.min(replicas, members.length - 1)) / members.length);
  for (const task of [...statefulTasks].sort()) {
    const candidates = members
      .filter((m) => ownerOf.get(task) !== m.memberId)
      .map((m) => ({ id: m.memberId, offsets: m.state?.[task] ?? -1, load: result.get(m.memberId)!.length }))
      .sort((a, b) => Number(a.load >= fairShare) - Number(b.load >= fairShare) || b.offsets - a.offsets || a.load - b.load || (a.id < b.id ? -1 : 1));
    for (const c of candidates.slice(0, replicas)) result.get(c.id)!.push(task);
  }
  balanceStandbys(members, result, ownerOf);
  return result;
}

/**
 * Greedy placement in task order can still leave one member a standby over its share (the members below it
 * own the rest as actives): move standbys from the most loaded member to the least loaded one that may take
 * them (not the task's owner, not holding it already), tasks whose state the receiver has first, until the
 * counts differ by at most one or no move is left.
 */
function balanceStandbys(
  members: ReadonlyArray<{ memberId: string; state?: Readonly<Record<string, number>> }>,
  result: Map<string, string[]>,
  ownerOf: ReadonlyMap<string, string>,
): void {
  const stateOf = new Map(members.map((m) => [m.memberId, m.state ?? {}]));
  for (let moves = 0; moves < 10_000; moves++) {
    const byLoad = [...result].sort(([a, x], [b, y]) => y.length - x.length || (a < b ? -1 : 1));
    let moved = false;
    for (const [, tasksOfFrom] of byLoad) {
      for (const [to, tasksOfTo] of [...byLoad].reverse()) {
        if (tasksOfFrom.length - tasksOfTo.length <= 1) break;
        const movable = tasksOfFrom
          .filter((t) => ownerOf.get(t) !== to && !tasksOfTo.includes(t))
          .sort((a, b) => (stateOf.get(to)![b] ?? -1) - (stateOf.get(to)![a] ?? -1) || (a < b ? -1 : 1));
        const task = movable[0];
        if (task === undefined) continue;
        tasksOfFrom.splice(tasksOfFrom.indexOf(task), 1);
        tasksOfTo.push(task);
        moved = true;
        break;
      }
      if (moved) break;
    }
    if (!moved) return;
  }
}
