import { SortedStrings } from './sorted-strings.js';

/**
 * A map by Buffer key that reads in the order of the keys' bytes: a hash map for point reads, and the keys'
 * latin1 strings (which compare by char code, that is by byte) kept sorted, so that a scan of a prefix or a
 * range starts at its first key and reads nothing else. It keeps no Buffer of a key: a read makes fresh key
 * Buffers of the entries it returns (fewer objects for the garbage collector to trace in a large map).
 */
export class ByteOrderedMap<V> {
  private readonly byId = new Map<string, V>();
  private readonly order = new SortedStrings();

  /** A map of `entries`; a later entry of the same key replaces an earlier one. */
  static of<V>(entries: Iterable<readonly [Buffer, V]>): ByteOrderedMap<V> {
    const map = new ByteOrderedMap<V>();
    for (const [key, value] of entries) map.set(key, value);
    return map;
  }

  get size(): number {
    return this.byId.size;
  }

  get(key: Buffer): V | undefined {
    return this.byId.get(key.toString('latin1'));
  }

  set(key: Buffer, value: V): void {
    const id = key.toString('latin1');
    if (!this.byId.has(id)) this.order.add(id);
    this.byId.set(id, value);
  }

  delete(key: Buffer): boolean {
    const id = key.toString('latin1');
    if (!this.byId.delete(id)) return false;
    this.order.delete(id);
    return true;
  }

  /** Every entry in key-byte order. */
  entries(): Array<[Buffer, V]> {
    return this.collect(this.order.from(), () => true);
  }

  /** The entries whose key starts with the bytes of `prefix`, in key-byte order. */
  withPrefix(prefix: Buffer): Array<[Buffer, V]> {
    const low = prefix.toString('latin1');
    return this.collect(this.order.from(low), (id) => id.startsWith(low));
  }

  /** The entries with gt < key < lt, in key-byte order. */
  between(gt: Buffer, lt: Buffer): Array<[Buffer, V]> {
    const low = gt.toString('latin1');
    const high = lt.toString('latin1');
    return this.collect(this.order.from(low), (id) => id < high).filter(([key]) => !key.equals(gt));
  }

  clear(): void {
    this.byId.clear();
    this.order.clear();
  }

  /** [key, value] pairs of the ids `ids` yields while `within` holds. */
  private collect(ids: Iterable<string>, within: (id: string) => boolean): Array<[Buffer, V]> {
    const out: Array<[Buffer, V]> = [];
    for (const id of ids) {
      if (!within(id)) break;
      out.push([Buffer.from(id, 'latin1'), this.byId.get(id)!]);
    }
    return out;
  }
}
