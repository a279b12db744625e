import kafkajs, { AssignerProtocol, type Admin as KafkajsAdminClient } from 'kafkajs';
import { StreamsRuntimeError } from '../../errors/errors.js';
import type { Admin, DescribedGroup, DescribedMember, GroupOffsets, PartitionOffsets, TopicMetadata, TopicToCreate } from '../admin.js';
import type { StableOffsetFetch } from './stable-offset-fetch.js';

// Node's ESM loader does not see this enum among kafkajs' named (CommonJS) exports.
const { ConfigResourceTypes } = kafkajs;

function decodeSubscriptionUserData(metadata: Buffer): Buffer | undefined {
  if (metadata.length === 0) return undefined;
  try {
    return AssignerProtocol.MemberMetadata.decode(metadata)?.userData ?? Buffer.alloc(0);
  } catch {
    return undefined;
  }
}

function decodeAssignment(assignment: Buffer): DescribedMember['assignment'] {
  if (assignment.length === 0) return undefined;
  try {
    const decoded = AssignerProtocol.MemberAssignment.decode(assignment);
    return decoded === null ? undefined : { partitions: decoded.assignment, userData: decoded.userData ?? Buffer.alloc(0) };
  } catch {
    return undefined;
  }
}

/** Answers of a partition's leader that mean its leadership is moving or not yet known: ask again. */
const LEADERSHIP_MOVING = new Set(['NOT_LEADER_FOR_PARTITION', 'NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE', 'UNKNOWN_TOPIC_OR_PARTITION']);
/** How long an offset lookup keeps asking while leadership moves (a topic just created, a broker restarting). */
const LEADERSHIP_WAIT_MS = 15_000;

/** {@link Admin} on a kafkajs admin client. */
export class KafkajsAdmin implements Admin {
  /** `stableOffsets`: the connection stable offset fetches go through; without it they cannot be made. */
  constructor(
    private readonly admin: KafkajsAdminClient,
    private readonly stableOffsets?: StableOffsetFetch,
  ) {}

  connect(): Promise<void> {
    return this.admin.connect();
  }

  async disconnect(): Promise<void> {
    await Promise.all([this.admin.disconnect(), this.stableOffsets?.disconnect()]);
  }

  listTopics(): Promise<string[]> {
    return this.admin.listTopics();
  }

  fetchTopicMetadata(request: { topics: string[] }): Promise<{ topics: TopicMetadata[] }> {
    return this.admin.fetchTopicMetadata(request);
  }

  async createTopics(request: { topics: TopicToCreate[] }): Promise<void> {
    // kafkajs' own wait for leaders gives up on the first UNKNOWN_TOPIC_OR_PARTITION: callers wait themselves.
    const topics = request.topics.map((t) => ({ ...t, configEntries: t.configEntries?.map((e) => ({ ...e })) }));
    await this.admin.createTopics({ topics, waitForLeaders: false });
  }

  deleteTopics(request: { topics: string[] }): Promise<void> {
    return this.admin.deleteTopics(request);
  }

  async topicConfigs(topics: string[], configNames: string[]): Promise<Map<string, Map<string, string>>> {
    const described = await this.admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames })),
    });
    const result = new Map<string, Map<string, string>>();
    for (const resource of described.resources) {
      result.set(resource.resourceName, new Map(resource.configEntries.map((e) => [e.configName, e.configValue])));
    }
    return result;
  }

  fetchOffsets(request: { groupId: string; topics?: string[] }): Promise<GroupOffsets[]> {
    return this.admin.fetchOffsets(request);
  }

  fetchCommittedOffsets(request: { groupId: string; topics: string[]; partition?: number; requireStable: boolean }): Promise<GroupOffsets[]> {
    const { groupId, topics, partition, requireStable } = request;
    if (!requireStable) return this.admin.fetchOffsets({ groupId, topics });
    if (this.stableOffsets === undefined) throw new StreamsRuntimeError('this admin client was made without a connection for stable offset fetches');
    return this.stableOffsets.fetch(groupId, topics, partition);
  }

  fetchTopicOffsets(topic: string): Promise<PartitionOffsets[]> {
    return this.whileLeadershipMoves(topic, () => this.admin.fetchTopicOffsets(topic));
  }

  fetchTopicOffsetsByTimestamp(topic: string, timestamp: number): Promise<Array<{ partition: number; offset: string }>> {
    return this.whileLeadershipMoves(topic, () => this.admin.fetchTopicOffsetsByTimestamp(topic, timestamp));
  }

  /**
   * kafkajs sends ListOffsets to the leaders its metadata names and fails on the first NOT_LEADER answer
   * (seen in CI right after the runtime created its topics): refresh the topic's metadata and ask again,
   * for a bounded time; any other error, or the same one past the deadline, is the caller's.
   */
  private async whileLeadershipMoves<T>(topic: string, lookup: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + LEADERSHIP_WAIT_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        return await lookup();
      } catch (err) {
        if (!LEADERSHIP_MOVING.has((err as { type?: string }).type ?? '') || Date.now() > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 1000)));
        await this.admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
      }
    }
  }

  setOffsets(request: { groupId: string; topic: string; partitions: Array<{ partition: number; offset: string }> }): Promise<void> {
    return this.admin.setOffsets(request);
  }

  deleteTopicRecords(request: { topic: string; partitions: Array<{ partition: number; offset: string }> }): Promise<void> {
    return this.admin.deleteTopicRecords(request);
  }

  async describeGroup(groupId: string): Promise<DescribedGroup> {
    const { groups } = await this.admin.describeGroups([groupId]);
    const group = groups[0];
    return {
      state: group?.state ?? 'Dead',
      members: (group?.members ?? []).map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        subscriptionUserData: decodeSubscriptionUserData(m.memberMetadata),
        assignment: decodeAssignment(m.memberAssignment),
      })),
    };
  }
}
