/**
 * A Bloom filter over byte keys: `mightContain` is false only for a key never added. Fixed at 2^23 bits
 * (1 MiB) and three probes: about 3 % false positives at a million keys, more beyond; a false positive
 * costs only the read it would have saved.
 */
const BITS = 1 << 23;
const MASK = BITS - 1;

export class KeyFilter {
  private readonly words = new Uint32Array(BITS >>> 5);

  add(key: Buffer): void {
    const [h1, h2] = hashes(key);
    for (let i = 0; i < 3; i++) {
      const bit = (h1 + i * h2) & MASK;
      this.words[bit >>> 5]! |= 1 << (bit & 31);
    }
  }

  mightContain(key: Buffer): boolean {
    const [h1, h2] = hashes(key);
    for (let i = 0; i < 3; i++) {
      const bit = (h1 + i * h2) & MASK;
      if ((this.words[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

const pair: [number, number] = [0, 0];

/** Two independent 32-bit hashes (FNV-1a with two offsets), for double hashing. */
function hashes(key: Buffer): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ key.length;
  for (let i = 0; i < key.length; i++) {
    a = Math.imul(a ^ key[i]!, 0x01000193);
    b = Math.imul(b ^ key[i]!, 0x5bd1e995);
  }
  pair[0] = a >>> 0;
  pair[1] = (b >>> 0) | 1;
  return pair;
}
