import type { Headers } from '../../../processor/record.js';
import type { KeyValueStore } from '../../../stores/state-store.js';

/** One buffered key: the bytes Kafka Streams' BufferValue holds, and the record context it was buffered with. */
export interface BufferedEntry {
  readonly keyBytes: Buffer;
  /** Where the key sorts: it keeps this time however often it is updated (non-resetting). */
  readonly bufferTime: number;
  /** The old value when the key entered the buffer. */
  readonly prior: Buffer | null;
  /** The latest change's old value; `priorIsOld` when it has the same bytes as `prior` (counted once). */
  readonly old: Buffer | null;
  readonly priorIsOld: boolean;
  /** The latest change's new value; null: a deletion. */
  readonly value: Buffer | null;
  readonly timestamp: number;
  /** The topic of the record that brought the latest change (undefined after a cache flush or a punctuation). */
  readonly topic: string | undefined;
  readonly headers: Headers;
}

interface Entry extends BufferedEntry {
  readonly id: string;
  /** Tells a live heap slot from one left behind by an evicted entry of the same key. */
  readonly seq: number;
  readonly size: number;
}

/** What an entry stored before this layout holds (the buffers of earlier versions, read on restore). */
export type LegacyDecoder = (value: Buffer) => { bufferTime: number; timestamp: number; value: Buffer | null };

/** First byte of the stored layout; earlier layouts start with a big-endian time, whose first byte is 0. */
const LAYOUT = 0x01;

/**
 * The buffer of a suppression (Kafka Streams' InMemoryTimeOrderedKeyValueChangeBuffer): keys sorted by
 * buffer time, then by key bytes, each entry in a logged in-memory store so that it is restored after a
 * restart or a move, sizes and order included.
 *
 * Its size is counted as Kafka Streams counts it (computeRecordSize, BufferValue and ProcessorRecordContext's
 * residentMemorySizeEstimate), so that a `maxBytes` bound gives the same emissions: per key, 8 (buffer time)
 * + key bytes + prior value + old value (unless it is the prior value's very bytes) + new value + 8
 * (timestamp) + 8 (offset) + topic name length in chars + 4 (partition) + each header's key length in chars
 * and value bytes.
 *
 * Single-threaded: one processor owns it.
 */
export class SuppressionBuffer {
  private readonly entries = new Map<string, Entry>();
  private readonly heap: Entry[] = [];
  private bytes = 0;
  private nextSeq = 0;

  constructor(private readonly store: KeyValueStore<Buffer, Buffer>) {}

  /** Reads back what the store holds (after a restore from its changelog). */
  restore(legacy: LegacyDecoder): void {
    for (const { key, value } of this.store.all()) {
      const entry = value[0] === LAYOUT ? decode(key, value) : fromLegacy(key, legacy(value));
      this.insert(entry, undefined);
    }
  }

  get numRecords(): number {
    return this.entries.size;
  }

  get bufferSize(): number {
    return this.bytes;
  }

  /** The smallest buffer time held; Infinity when empty. */
  minTime(): number {
    return this.peek()?.bufferTime ?? Number.POSITIVE_INFINITY;
  }

  /**
   * Buffers a change of a key (Kafka Streams' `put`): a key already buffered keeps its place and its prior
   * value, and takes the new change's old and new values and record context.
   */
  put(bufferTime: number, keyBytes: Buffer, old: Buffer | null, value: Buffer | null, timestamp: number, topic: string | undefined, headers: Headers): void {
    const previous = this.entries.get(keyBytes.toString('latin1'));
    const entry: BufferedEntry =
      previous === undefined
        ? { keyBytes, bufferTime, prior: old, old, priorIsOld: true, value, timestamp, topic, headers }
        : // As BufferValue's constructor: a prior value with the same bytes as the old one is that one (counted once).
          { keyBytes, bufferTime: previous.bufferTime, prior: previous.prior, old, priorIsOld: sameBytes(previous.prior, old), value, timestamp, topic, headers };
    this.insert(entry, previous);
    this.store.put(keyBytes, encode(entry));
  }

  /** Evicts the first entry, in order, while `predicate` holds; `emit` sees each before it leaves. */
  evictWhile(predicate: () => boolean, emit: (entry: BufferedEntry) => void): void {
    while (predicate()) {
      const first = this.peek();
      if (first === undefined) return;
      emit(first);
      this.popHeap();
      this.entries.delete(first.id);
      this.bytes -= first.size;
      this.store.delete(first.keyBytes);
    }
  }

  private insert(buffered: BufferedEntry, previous: Entry | undefined): void {
    const id = buffered.keyBytes.toString('latin1');
    const entry: Entry = { ...buffered, id, seq: previous?.seq ?? this.nextSeq++, size: sizeOf(buffered) };
    this.entries.set(id, entry);
    this.bytes += entry.size - (previous?.size ?? 0);
    if (previous === undefined) this.pushHeap(entry);
  }

  private peek(): Entry | undefined {
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || this.entries.get(top.id)?.seq === top.seq) return top === undefined ? undefined : this.entries.get(top.id);
      this.popHeap();
    }
  }

  private pushHeap(entry: Entry): void {
    const heap = this.heap;
    heap.push(entry);
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (before(heap[parent]!, heap[i]!)) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  }

  private popHeap(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    heap[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let first = i;
      if (l < heap.length && before(heap[l]!, heap[first]!)) first = l;
      if (r < heap.length && before(heap[r]!, heap[first]!)) first = r;
      if (first === i) return;
      [heap[first], heap[i]] = [heap[i]!, heap[first]!];
      i = first;
    }
  }
}

/** Java's `Arrays.equals` of two nullable byte arrays. */
const sameBytes = (a: Buffer | null, b: Buffer | null): boolean => (a === null || b === null ? a === b : a.equals(b));

/** Kafka Streams' BufferKey order: buffer time, then key bytes unsigned (latin1 strings compare so). */
const before = (a: Entry, b: Entry): boolean =>
  a.bufferTime !== b.bufferTime ? a.bufferTime < b.bufferTime : a.id <= b.id;

function sizeOf(entry: BufferedEntry): number {
  let size = 8 + entry.keyBytes.length;
  size += entry.prior?.length ?? 0;
  if (entry.old !== null && !entry.priorIsOld) size += entry.old.length;
  size += entry.value?.length ?? 0;
  size += 8 + 8 + (entry.topic?.length ?? 0) + 4;
  for (const [key, value] of Object.entries(entry.headers)) {
    size += key.length;
    if (value !== undefined) size += typeof value === 'string' ? Buffer.byteLength(value) : value.length;
  }
  return size;
}

function fromLegacy(keyBytes: Buffer, legacy: ReturnType<LegacyDecoder>): BufferedEntry {
  return { keyBytes, ...legacy, prior: null, old: null, priorIsOld: true, topic: undefined, headers: {} };
}

/**
 * [0x01][buffer time i64][timestamp i64][prior is old u8][prior][old, unless prior is old][new][topic]
 * [header count u16][per header: key, type u8 (0 bytes, 1 string), value]; each part an i32 length
 * (-1: null / undefined) then its bytes.
 */
function encode(entry: BufferedEntry): Buffer {
  const headers = Object.entries(entry.headers);
  const parts: Array<Buffer | null> = [entry.prior];
  if (!entry.priorIsOld) parts.push(entry.old);
  parts.push(entry.value, entry.topic === undefined ? null : Buffer.from(entry.topic));
  const head = Buffer.allocUnsafe(18);
  head[0] = LAYOUT;
  head.writeBigInt64BE(BigInt(entry.bufferTime), 1);
  head.writeBigInt64BE(BigInt(entry.timestamp), 9);
  head[17] = entry.priorIsOld ? 1 : 0;
  const chunks: Buffer[] = [head];
  const part = (bytes: Buffer | null): void => {
    const length = Buffer.allocUnsafe(4);
    length.writeInt32BE(bytes === null ? -1 : bytes.length);
    chunks.push(length);
    if (bytes !== null) chunks.push(bytes);
  };
  for (const p of parts) part(p);
  const count = Buffer.allocUnsafe(2);
  count.writeUInt16BE(headers.length);
  chunks.push(count);
  for (const [key, value] of headers) {
    part(Buffer.from(key));
    chunks.push(Buffer.of(typeof value === 'string' ? 1 : 0));
    part(value === undefined ? null : typeof value === 'string' ? Buffer.from(value) : value);
  }
  return Buffer.concat(chunks);
}

function decode(keyBytes: Buffer, stored: Buffer): BufferedEntry {
  let at = 18;
  const part = (): Buffer | null => {
    const length = stored.readInt32BE(at);
    at += 4;
    if (length < 0) return null;
    at += length;
    return stored.subarray(at - length, at);
  };
  const priorIsOld = stored[17] === 1;
  const prior = part();
  const old = priorIsOld ? prior : part();
  const value = part();
  const topic = part()?.toString();
  const headers: Record<string, Buffer | string | undefined> = {};
  const count = stored.readUInt16BE(at);
  at += 2;
  for (let i = 0; i < count; i++) {
    const key = part()!.toString();
    const isString = stored[at++] === 1;
    const bytes = part();
    headers[key] = bytes === null ? undefined : isString ? bytes.toString() : bytes;
  }
  return {
    keyBytes,
    bufferTime: Number(stored.readBigInt64BE(1)),
    timestamp: Number(stored.readBigInt64BE(9)),
    prior,
    old,
    priorIsOld,
    value,
    topic,
    headers,
  };
}
