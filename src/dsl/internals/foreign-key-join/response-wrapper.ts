import type { Serde } from '../../../serdes/serde.js';
import { WIRE_VERSION, wrapperVersion } from './wire-version.js';

/** The right side's answer to a subscription, keyed by primary key on the response topic (Kafka Streams' SubscriptionResponseWrapper). */
export interface ResponseWrapper {
  /** The hash of the left value the subscription was sent for (null: a deleted left value). */
  readonly hash: Buffer | null;
  /** The right value of the foreign key; null when it has none. */
  readonly foreignValue: unknown;
  /** The partition of the left record; -1 when unknown. */
  readonly primaryPartition: number;
}

/**
 * Our own wire format of a response, version 1:
 *
 *   [1 byte version = WIRE_VERSION, 1][1 byte flags: bit 0 = hash present, bit 1 = foreign value present]
 *   [16 bytes hash, if present][4 bytes primary partition, int32 big-endian][foreign value, its serde's bytes]
 */
export function responseWrapperSerde(foreignValueSerde: Serde<unknown>): Serde<ResponseWrapper> {
  return {
    name: 'SubscriptionResponseWrapper',
    serialize(wrapper, topic) {
      const present = wrapper.foreignValue !== null && wrapper.foreignValue !== undefined;
      const value = present ? foreignValueSerde.serialize(wrapper.foreignValue, topic) : Buffer.alloc(0);
      const head = Buffer.alloc(2);
      head.writeUInt8(WIRE_VERSION, 0);
      head.writeUInt8((wrapper.hash === null ? 0 : 1) | (present ? 2 : 0), 1);
      const partition = Buffer.alloc(4);
      partition.writeInt32BE(wrapper.primaryPartition);
      return Buffer.concat([head, wrapper.hash ?? Buffer.alloc(0), partition, value]);
    },
    deserialize(bytes, topic) {
      wrapperVersion(bytes, 'response');
      const flags = bytes.readUInt8(1);
      let at = 2;
      const hash = (flags & 1) === 1 ? Buffer.from(bytes.subarray(at, (at += 16))) : null;
      const primaryPartition = bytes.readInt32BE(at);
      const foreignValue = (flags & 2) === 2 ? foreignValueSerde.deserialize(bytes.subarray(at + 4), topic) : null;
      return { hash, foreignValue, primaryPartition };
    },
  };
}
