/**
 * Snappy decompression (the raw block format LevelDB compresses table blocks with), for verifying stores
 * without opening them. Throws on any malformed input: a damaged block must never decode quietly.
 */
export function snappyUncompress(input: Uint8Array): Uint8Array {
  let pos = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= input.length || shift > 28) throw new Error('bad snappy length');
    const b = input[pos++]!;
    length += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  const out = new Uint8Array(length);
  let op = 0;
  while (pos < input.length) {
    const tag = input[pos++]!;
    let len: number;
    let offset: number;
    switch (tag & 3) {
      case 0: {
        len = (tag >>> 2) + 1;
        if (len > 60) {
          const bytes = len - 60;
          if (pos + bytes > input.length) throw new Error('snappy literal length past the input');
          len = 1;
          for (let i = 0; i < bytes; i++) len += input[pos + i]! * 2 ** (8 * i);
          pos += bytes;
        }
        if (pos + len > input.length || op + len > length) throw new Error('snappy literal past the end');
        out.set(input.subarray(pos, pos + len), op);
        pos += len;
        op += len;
        continue;
      }
      case 1:
        if (pos >= input.length) throw new Error('snappy copy past the input');
        len = ((tag >>> 2) & 7) + 4;
        offset = ((tag >>> 5) << 8) | input[pos++]!;
        break;
      case 2:
        if (pos + 2 > input.length) throw new Error('snappy copy past the input');
        len = (tag >>> 2) + 1;
        offset = input[pos]! | (input[pos + 1]! << 8);
        pos += 2;
        break;
      default:
        if (pos + 4 > input.length) throw new Error('snappy copy past the input');
        len = (tag >>> 2) + 1;
        offset = (input[pos]! | (input[pos + 1]! << 8) | (input[pos + 2]! << 16) | (input[pos + 3]! << 24)) >>> 0;
        pos += 4;
    }
    if (offset === 0 || offset > op || op + len > length) throw new Error('bad snappy copy');
    // Copies may overlap their own output (a run), so byte by byte.
    for (let i = 0; i < len; i++, op++) out[op] = out[op - offset]!;
  }
  if (op !== length) throw new Error(`snappy output is ${op} bytes, ${length} expected`);
  return out;
}
