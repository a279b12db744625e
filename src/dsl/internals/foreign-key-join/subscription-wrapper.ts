import type { Serde } from '../../../serdes/serde.js';
import { WIRE_VERSION, wrapperVersion } from './wire-version.js';

/**
 * What a subscription asks of the right side (Kafka Streams' SubscriptionWrapper.Instruction), named as
 * there. DELETE_* remove the subscription of (foreign key, primary key); the others add or keep it.
 */
export type SubscriptionInstruction =
  | 'DELETE_KEY_AND_PROPAGATE'
  | 'DELETE_KEY_NO_PROPAGATE'
  | 'PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE'
  | 'PROPAGATE_ONLY_IF_FK_VAL_AVAILABLE';

const INSTRUCTIONS: readonly SubscriptionInstruction[] = [
  'DELETE_KEY_AND_PROPAGATE',
  'DELETE_KEY_NO_PROPAGATE',
  'PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE',
  'PROPAGATE_ONLY_IF_FK_VAL_AVAILABLE',
];

/** A left-side change sent to the right side, keyed by foreign key on the registration topic. */
export interface SubscriptionWrapper {
  /** murmur3 128 of the left value it was computed from; null for a deleted left value. */
  readonly hash: Buffer | null;
  readonly instruction: SubscriptionInstruction;
  readonly primaryKey: unknown;
  /** The partition of the left record, where the response must go; -1 when unknown. */
  readonly primaryPartition: number;
}

/**
 * Our own wire format of a subscription (the topic and the subscription store are internal, so it need not be
 * Kafka Streams' bytes), version 1:
 *
 *   [1 byte version = WIRE_VERSION, 1][1 byte instruction, 0-3 in the order above][1 byte flags: bit 0 = hash present]
 *   [16 bytes hash, if present][4 bytes primary partition, int32 big-endian][primary key, its serde's bytes]
 *
 * A reader refuses a version it does not know (written by a newer release) rather than misread it.
 */
export function subscriptionWrapperSerde(primaryKeySerde: Serde<unknown>): Serde<SubscriptionWrapper> {
  // As Kafka Streams: the primary key is serialized for the pseudo topic `<registration topic>-pk`.
  const primaryKeyTopic = (topic: string | undefined): string | undefined => (topic === undefined ? undefined : `${topic}-pk`);
  return {
    name: 'SubscriptionWrapper',
    serialize(wrapper, topic) {
      const key = primaryKeySerde.serialize(wrapper.primaryKey, primaryKeyTopic(topic));
      const hash = wrapper.hash ?? Buffer.alloc(0);
      const head = Buffer.alloc(3);
      head.writeUInt8(WIRE_VERSION, 0);
      head.writeUInt8(INSTRUCTIONS.indexOf(wrapper.instruction), 1);
      head.writeUInt8(wrapper.hash === null ? 0 : 1, 2);
      const partition = Buffer.alloc(4);
      partition.writeInt32BE(wrapper.primaryPartition);
      return Buffer.concat([head, hash, partition, key]);
    },
    deserialize(bytes, topic) {
      wrapperVersion(bytes, 'subscription');
      const instruction = INSTRUCTIONS[bytes.readUInt8(1)];
      if (instruction === undefined) throw new Error(`Unknown foreign-key join instruction ${bytes.readUInt8(1)}`);
      const hashed = (bytes.readUInt8(2) & 1) === 1;
      let at = 3;
      const hash = hashed ? Buffer.from(bytes.subarray(at, at + 16)) : null;
      if (hashed) at += 16;
      const primaryPartition = bytes.readInt32BE(at);
      const primaryKey = primaryKeySerde.deserialize(bytes.subarray(at + 4), primaryKeyTopic(topic));
      return { hash, instruction, primaryKey, primaryPartition };
    },
  };
}
