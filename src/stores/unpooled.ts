/**
 * A Buffer the cache may keep for long, in memory of its own. Node hands out small Buffers
 * (`Buffer.from`, `allocUnsafe`, serializers built on them) as slices of shared 8 KiB slabs, and one live
 * slice keeps its whole slab alive: a cache holding one key or value from each of thousands of slabs held
 * megabytes of otherwise dead slabs, growing with the number of keys (the catch-up benchmark's peak
 * `arrayBuffers`). Buffers that own their memory already are returned as they are.
 */
export function unpooled(bytes: Buffer): Buffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
  const own = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(own, 0);
  return own;
}
