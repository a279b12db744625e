import type { Serde } from '../../serdes/serde.js';
import { change, type Change } from './change.js';

/**
 * The serde of a grouped table's repartition topic, which carries changes. Kafka Streams' ChangedSerializer
 * layout, so that its consumers read ours: `[old][0]` (a subtraction), `[new][1]` (an addition), or
 * `[zigzag varint length of new][new][old][2]` (both, for the same key).
 */
export function changeSerde<V>(inner: Serde<V>): Serde<Change<V>> {
  return {
    name: `Change<${inner.name}>`,
    serialize(value, topic) {
      const hasNew = value.newValue !== null;
      const hasOld = value.oldValue !== null;
      if (hasNew && !hasOld) return Buffer.concat([inner.serialize(value.newValue!, topic), Buffer.of(1)]);
      if (hasOld && !hasNew) return Buffer.concat([inner.serialize(value.oldValue!, topic), Buffer.of(0)]);
      if (!hasNew) throw new Error('a change with neither a new nor an old value cannot be serialized');
      const newBytes = inner.serialize(value.newValue!, topic);
      const oldBytes = inner.serialize(value.oldValue!, topic);
      return Buffer.concat([zigzagVarint(newBytes.length), newBytes, oldBytes, Buffer.of(2)]);
    },
    deserialize(bytes, topic) {
      const flag = bytes[bytes.length - 1];
      const body = bytes.subarray(0, bytes.length - 1);
      if (flag === 1) return change(inner.deserialize(body, topic), null);
      if (flag === 0) return change(null, inner.deserialize(body, topic));
      if (flag !== 2) throw new Error(`unknown change encoding flag ${String(flag)}`);
      const [length, start] = readZigzagVarint(body);
      return change(
        inner.deserialize(body.subarray(start, start + length), topic),
        inner.deserialize(body.subarray(start + length), topic),
      );
    },
  };
}

function zigzagVarint(n: number): Buffer {
  let v = ((n << 1) ^ (n >> 31)) >>> 0;
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}

function readZigzagVarint(bytes: Buffer): [value: number, next: number] {
  let v = 0;
  let shift = 0;
  let i = 0;
  for (;;) {
    const b = bytes[i++];
    if (b === undefined) throw new Error('truncated varint in a change');
    v |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
  }
  v >>>= 0;
  return [(v >>> 1) ^ -(v & 1), i];
}
