/**
 * MurmurHash3, x64 128-bit variant (Austin Appleby's public-domain algorithm, as Kafka Streams'
 * `org.apache.kafka.streams.state.internals.Murmur3.hash128` computes it, with its default seed 104729).
 * The foreign-key join hashes a left value with it, so that a response computed for an older value of the
 * left key can be recognised as stale. Returns 16 bytes: h1 then h2, each big-endian.
 */
const MASK = (1n << 64n) - 1n;
const C1 = 0x87c37b91114253d5n;
const C2 = 0x4cf5ad432745937fn;
const SEED = 104729n;

const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & MASK;

function fmix(k: bigint): bigint {
  k ^= k >> 33n;
  k = (k * 0xff51afd7ed558ccdn) & MASK;
  k ^= k >> 33n;
  k = (k * 0xc4ceb9fe1a85ec53n) & MASK;
  return k ^ (k >> 33n);
}

const mixK1 = (k: bigint): bigint => (rotl((k * C1) & MASK, 31n) * C2) & MASK;
const mixK2 = (k: bigint): bigint => (rotl((k * C2) & MASK, 33n) * C1) & MASK;

/** Little-endian bytes [from, to) of `data` as an unsigned 64-bit number. */
function littleEndian(data: Buffer, from: number, to: number): bigint {
  let k = 0n;
  for (let i = to - 1; i >= from; i--) k = (k << 8n) | BigInt(data[i]!);
  return k;
}

export function murmur3Hash128(data: Buffer): Buffer {
  let h1 = SEED;
  let h2 = SEED;
  const blocks = data.length >> 4;
  for (let b = 0; b < blocks; b++) {
    const i = b * 16;
    h1 ^= mixK1(data.readBigUInt64LE(i));
    h1 = (((rotl(h1, 27n) + h2) & MASK) * 5n + 0x52dce729n) & MASK;
    h2 ^= mixK2(data.readBigUInt64LE(i + 8));
    h2 = (((rotl(h2, 31n) + h1) & MASK) * 5n + 0x38495ab5n) & MASK;
  }
  const tail = blocks * 16;
  const rest = data.length - tail;
  if (rest > 8) h2 ^= mixK2(littleEndian(data, tail + 8, data.length));
  if (rest > 0) h1 ^= mixK1(littleEndian(data, tail, Math.min(tail + 8, data.length)));
  const length = BigInt(data.length);
  h1 ^= length;
  h2 ^= length;
  h1 = (h1 + h2) & MASK;
  h2 = (h2 + h1) & MASK;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h1 = (h1 + h2) & MASK;
  h2 = (h2 + h1) & MASK;
  const out = Buffer.alloc(16);
  out.writeBigUInt64BE(h1, 0);
  out.writeBigUInt64BE(h2, 8);
  return out;
}
