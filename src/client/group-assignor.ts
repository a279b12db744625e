import type { PartitionsByTopic } from './topic-partitions.js';

/** A member as the group's leader sees it when it assigns. */
export interface SubscribedMember {
  readonly memberId: string;
  /** The userData of the member's subscription (empty if it sent none or it could not be read). */
  readonly userData: Buffer;
}

export interface MemberAssignment {
  readonly memberId: string;
  readonly partitions: PartitionsByTopic;
  readonly userData: Buffer;
}

/** A custom partition assignor: every member sends userData with its subscription; the leader assigns. */
export interface GroupAssignor {
  readonly name: string;
  readonly version: number;
  /** This member's subscription userData, asked at every join. */
  userData(): Buffer;
  /** On the leader: every member's partitions and assignment userData. */
  assign(members: readonly SubscribedMember[]): Promise<MemberAssignment[]>;
}
