/**
 * Kafka's default partitioner hash (murmur2, seed 0x9747b28c, as in the Java client's `Utils.murmur2`), so
 * that we pick the same partition for a key as Java producers and Kafka Streams do.
 */
export function murmur2(data: Buffer): number {
  const length = data.length;
  const seed = 0x9747b28c;
  const m = 0x5bd1e995;
  const r = 24;
  let h = seed ^ length;
  const length4 = length >> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i << 2;
    let k = (data[i4]! & 0xff) | ((data[i4 + 1]! & 0xff) << 8) | ((data[i4 + 2]! & 0xff) << 16) | ((data[i4 + 3]! & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const index = length4 << 2;
  const tail = length % 4;
  if (tail === 3) h ^= (data[index + 2]! & 0xff) << 16;
  if (tail >= 2) h ^= (data[index + 1]! & 0xff) << 8;
  if (tail >= 1) {
    h ^= data[index]! & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Kafka's default partitioner gives a non-null key. */
export function partitionForKey(keyBytes: Buffer, numPartitions: number): number {
  return (murmur2(keyBytes) & 0x7fffffff) % numPartitions;
}
