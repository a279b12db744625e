import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';
import type { GroupAssignor } from '../group-assignor.js';

function userDataOf(memberMetadata: Buffer): Buffer {
  try {
    return AssignerProtocol.MemberMetadata.decode(memberMetadata)?.userData ?? Buffer.alloc(0);
  } catch {
    return Buffer.alloc(0);
  }
}

/** A {@link GroupAssignor} as a kafkajs partition assigner (the consumer protocol's encoding of both sides). */
export function kafkajsAssignor(assignor: GroupAssignor): PartitionAssigner {
  return () => ({
    name: assignor.name,
    version: assignor.version,
    protocol({ topics }) {
      return {
        name: assignor.name,
        metadata: AssignerProtocol.MemberMetadata.encode({ version: assignor.version, topics, userData: assignor.userData() }),
      };
    },
    async assign({ members }) {
      const assigned = await assignor.assign(members.map((m) => ({ memberId: m.memberId, userData: userDataOf(m.memberMetadata) })));
      return assigned.map(({ memberId, partitions, userData }) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: assignor.version, assignment: partitions, userData }),
      }));
    },
  });
}
