/** Keys per chunk before a chunk splits in two halves. */
const CHUNK_KEYS = 512;

/** Index of the first element of the sorted `list` that is >= key (list.length when none is). */
function lowerBound(list: readonly string[], key: string): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (list[mid]! < key) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * A sorted set of strings, compared by char code (for latin1 keys, the order of their bytes). Kept as a list
 * of sorted chunks of at most 2 × CHUNK_KEYS strings with each chunk's largest string, the layout of Python's
 * sortedcontainers.SortedList (Grant Jenks): an insertion or deletion costs two binary searches and a splice
 * within one chunk, never a move of the whole set, and a range is read from its first key without touching
 * the keys before it.
 */
export class SortedStrings {
  private chunks: string[][] = [];
  /** The largest string of each chunk (its last). */
  private maxes: string[] = [];

  /** Adds `key`; the caller knows it is absent. */
  add(key: string): void {
    if (this.chunks.length === 0) {
      this.chunks.push([key]);
      this.maxes.push(key);
      return;
    }
    // The first chunk whose largest key is >= key, or the last one for a key beyond every chunk.
    const c = Math.min(lowerBound(this.maxes, key), this.chunks.length - 1);
    const chunk = this.chunks[c]!;
    chunk.splice(lowerBound(chunk, key), 0, key);
    if (chunk.length > 2 * CHUNK_KEYS) {
      const upper = chunk.splice(CHUNK_KEYS);
      this.chunks.splice(c + 1, 0, upper);
      this.maxes.splice(c + 1, 0, upper[upper.length - 1]!);
    }
    this.maxes[c] = chunk[chunk.length - 1]!;
  }

  /** Removes `key`; false when it was absent. */
  delete(key: string): boolean {
    const c = lowerBound(this.maxes, key);
    const chunk = this.chunks[c];
    if (chunk === undefined) return false;
    const i = lowerBound(chunk, key);
    if (chunk[i] !== key) return false;
    chunk.splice(i, 1);
    if (chunk.length === 0) {
      this.chunks.splice(c, 1);
      this.maxes.splice(c, 1);
    } else {
      this.maxes[c] = chunk[chunk.length - 1]!;
    }
    return true;
  }

  /** The strings >= `low` in order (every string when `low` is omitted); stop iterating to end the range. */
  *from(low?: string): Generator<string> {
    let c = low === undefined ? 0 : lowerBound(this.maxes, low);
    let i = low === undefined || c === this.chunks.length ? 0 : lowerBound(this.chunks[c]!, low);
    for (; c < this.chunks.length; c++, i = 0) {
      const chunk = this.chunks[c]!;
      for (; i < chunk.length; i++) yield chunk[i]!;
    }
  }

  clear(): void {
    this.chunks = [];
    this.maxes = [];
  }
}
