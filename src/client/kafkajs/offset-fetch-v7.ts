/**
 * OffsetFetch version 7 (Kafka ≥ 2.5), which kafkajs 2.2.4 lacks: it stops at version 4, which has no
 * `require_stable` flag. With the flag set, the group coordinator answers UNSTABLE_OFFSET_COMMIT for a
 * partition while a transaction's offsets for it are pending (KIP-447), instead of the last completed offset.
 *
 * Layout, from Kafka's clients/src/main/resources/common/message/OffsetFetchRequest.json and
 * OffsetFetchResponse.json (flexible from version 6: compact strings and arrays, tagged fields), and
 * RequestHeader.json / ResponseHeader.json:
 *
 *   request header v2 = kafkajs' header v1 (api_key, api_version, correlation_id, client_id as INT16 string)
 *                       + TAGGED_FIELDS; kafkajs writes v1, so the body below starts with the header's (empty)
 *                       tagged fields
 *   request body      = group_id COMPACT_STRING
 *                       topics COMPACT_ARRAY [ name COMPACT_STRING, partition_indexes COMPACT_ARRAY[INT32],
 *                                              TAGGED_FIELDS ]
 *                       require_stable BOOLEAN (INT8)
 *                       TAGGED_FIELDS
 *   response header v1 = correlation_id INT32 (kafkajs reads it) + TAGGED_FIELDS (skipped first below)
 *   response body     = throttle_time_ms INT32
 *                       topics COMPACT_ARRAY [ name COMPACT_STRING,
 *                         partitions COMPACT_ARRAY [ partition_index INT32, committed_offset INT64,
 *                           committed_leader_epoch INT32, metadata COMPACT_NULLABLE_STRING, error_code INT16,
 *                           TAGGED_FIELDS ],
 *                         TAGGED_FIELDS ]
 *                       error_code INT16
 *                       TAGGED_FIELDS
 *
 * COMPACT_STRING / COMPACT_ARRAY: an unsigned varint of length + 1 (0 = null), then the bytes / elements.
 * TAGGED_FIELDS: an unsigned varint count, then per field an unsigned varint tag, an unsigned varint size and
 * that many bytes (none are defined for these versions; any the broker sends are skipped).
 */

export const OFFSET_FETCH_API_KEY = 9;
export const OFFSET_FETCH_STABLE_VERSION = 7;

export interface OffsetFetchV7Request {
  readonly groupId: string;
  readonly topics: ReadonlyArray<{ readonly topic: string; readonly partitions: readonly number[] }>;
  readonly requireStable: boolean;
}

export interface OffsetFetchV7Partition {
  readonly partition: number;
  /** A decimal string; -1 where the group committed nothing. */
  readonly offset: string;
  readonly leaderEpoch: number;
  readonly metadata: string | null;
  readonly errorCode: number;
}

export interface OffsetFetchV7Response {
  readonly throttleTimeMs: number;
  readonly topics: ReadonlyArray<{ readonly topic: string; readonly partitions: readonly OffsetFetchV7Partition[] }>;
  /** The group-level error (e.g. NOT_COORDINATOR), 0 if none. */
  readonly errorCode: number;
}

/** The request body as kafkajs' connection sends it after its header v1 (so: header v2's tagged fields first). */
export function encodeOffsetFetchV7Request(request: OffsetFetchV7Request): Buffer {
  const parts: Buffer[] = [];
  const uvarint = (v: number): void => {
    const bytes: number[] = [];
    while (v >= 0x80) {
      bytes.push((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    bytes.push(v);
    parts.push(Buffer.from(bytes));
  };
  const compactString = (s: string): void => {
    const bytes = Buffer.from(s, 'utf8');
    uvarint(bytes.length + 1);
    parts.push(bytes);
  };
  const int32 = (v: number): void => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    parts.push(b);
  };
  const noTaggedFields = (): void => uvarint(0);

  noTaggedFields(); // request header v2
  compactString(request.groupId);
  uvarint(request.topics.length + 1);
  for (const { topic, partitions } of request.topics) {
    compactString(topic);
    uvarint(partitions.length + 1);
    for (const p of partitions) int32(p);
    noTaggedFields();
  }
  parts.push(Buffer.from([request.requireStable ? 1 : 0]));
  noTaggedFields();
  return Buffer.concat(parts);
}

/** Reads a response as kafkajs' connection hands it over: everything after the correlation id. */
export function decodeOffsetFetchV7Response(payload: Buffer): OffsetFetchV7Response {
  const r = new Reader(payload);
  r.skipTaggedFields(); // response header v1
  const throttleTimeMs = r.int32();
  const topics = r.compactArray(() => {
    const topic = r.compactString() ?? '';
    const partitions = r.compactArray(() => {
      const partition: OffsetFetchV7Partition = {
        partition: r.int32(),
        offset: r.int64(),
        leaderEpoch: r.int32(),
        metadata: r.compactString(),
        errorCode: r.int16(),
      };
      r.skipTaggedFields();
      return partition;
    });
    r.skipTaggedFields();
    return { topic, partitions };
  });
  const errorCode = r.int16();
  r.skipTaggedFields();
  return { throttleTimeMs, topics, errorCode };
}

class Reader {
  private pos = 0;

  constructor(private readonly buf: Buffer) {}

  int16(): number {
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  int64(): string {
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v.toString();
  }

  uvarint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.pos >= this.buf.length) throw new RangeError('OffsetFetch response ends inside a varint');
      const byte = this.buf[this.pos++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
    throw new RangeError('OffsetFetch response holds a varint longer than 5 bytes');
  }

  compactString(): string | null {
    const length = this.uvarint() - 1;
    if (length < 0) return null;
    const end = this.pos + length;
    if (end > this.buf.length) throw new RangeError('OffsetFetch response ends inside a string');
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end;
    return s;
  }

  compactArray<T>(element: () => T): T[] {
    const length = this.uvarint() - 1;
    const result: T[] = [];
    for (let i = 0; i < length; i++) result.push(element());
    return result;
  }

  skipTaggedFields(): void {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      this.uvarint(); // tag
      const size = this.uvarint(); // (not `pos += uvarint()`: that adds to pos as it was before the varint)
      this.pos += size;
    }
    if (this.pos > this.buf.length) throw new RangeError('OffsetFetch response ends inside a tagged field');
  }
}
