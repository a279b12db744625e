/**
 * Big-endian 64-bit integers for times and segment ids, written as two 32-bit halves: exact for every safe
 * integer, and without the BigInt per call that `writeBigInt64BE` costs on the restoration path.
 */
const TWO_32 = 2 ** 32;

export function writeInt64(out: Buffer, value: number, offset: number): void {
  const high = Math.floor(value / TWO_32);
  out.writeInt32BE(high, offset);
  out.writeUInt32BE(value - high * TWO_32, offset + 4);
}

export function readInt64(buf: Buffer, offset: number): number {
  return buf.readInt32BE(offset) * TWO_32 + buf.readUInt32BE(offset + 4);
}

/** Unsigned with the sign bit flipped, so that byte order is numeric order, negative values first. */
export function writeOrderedInt64(out: Buffer, value: number, offset: number): void {
  const high = Math.floor(value / TWO_32);
  out.writeUInt32BE((high + 0x8000_0000) >>> 0, offset);
  out.writeUInt32BE(value - high * TWO_32, offset + 4);
}

export function readOrderedInt64(buf: Buffer, offset: number): number {
  return (buf.readUInt32BE(offset) - 0x8000_0000) * TWO_32 + buf.readUInt32BE(offset + 4);
}
