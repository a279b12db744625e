/**
 * A faster encoder of kafkajs 2.2.4's Produce request (version 3, which versions 4–7 reuse), installed
 * before kafkajs loads, as kafkajs-preload.ts installs its linear grouping.
 *
 * kafkajs builds each record as its own Encoder (growing a buffer per record), spreads every message into a
 * new object, computes varlongs through its Long class and sorts each partition's timestamps as strings:
 * about 12% of all CPU in a profile of the sessionization benchmark. This one writes the same bytes in one
 * pass into one buffer per request: record batches of magic 2 (Kafka's DefaultRecordBatch), uncompressed.
 * Compressed requests go to kafkajs' own encoder, compiled from its file. A unit test compares the bytes of
 * both encoders on random requests.
 */
import { createRequire } from 'node:module';
import { compileKafkajsModule, kafkajsModuleIs, replaceKafkajsModule } from './module-cache.js';

const require = createRequire(import.meta.url);
export const PRODUCE_V3_MODULE = 'kafkajs/src/protocol/requests/produce/v3/request.js';

type HeaderValue = Buffer | string | null | undefined;
interface Message {
  key?: Buffer | string | null;
  value?: Buffer | string | null;
  timestamp?: string | number | null;
  headers?: Record<string, HeaderValue | HeaderValue[]>;
}
interface PartitionData {
  partition: number;
  firstSequence?: number;
  messages: Message[];
}
interface TopicData {
  topic: string;
  partitions: PartitionData[];
}
interface KafkajsLong {
  getHighBits(): number;
  getLowBits(): number;
}
export interface ProduceRequestArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: TopicData[];
}
interface KafkajsEncoder {
  writeBuffer(buffer: Buffer): KafkajsEncoder;
  readonly buffer: Buffer;
}
export interface ProduceRequest {
  apiKey: number;
  apiVersion: number;
  apiName: string;
  expectResponse(): boolean;
  encode(): Promise<KafkajsEncoder>;
}
type ProduceRequestFactory = (args: ProduceRequestArgs) => ProduceRequest;

/** kafkajs' own v3 encoder, compiled from its file without entering the module cache. */
export function kafkajsProduceRequestV3(): ProduceRequestFactory {
  return compileKafkajsModule(PRODUCE_V3_MODULE) as ProduceRequestFactory;
}

/** Writes into one growing buffer; varints as Kafka encodes them (zigzag, 7 bits a byte). */
class ByteWriter {
  buf: Buffer;
  pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  int8(v: number): void {
    this.ensure(1);
    this.buf.writeInt8(v, this.pos);
    this.pos += 1;
  }

  int16(v: number): void {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
  }

  int32(v: number): void {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
  }

  int64(high: number, low: number): void {
    this.ensure(8);
    this.buf.writeInt32BE(high, this.pos);
    this.buf.writeInt32BE(low, this.pos + 4);
    this.pos += 8;
  }

  /** An int64 from a JS number (exact below 2^53, as every timestamp is). */
  int64Number(v: number): void {
    const high = Math.floor(v / 0x1_0000_0000);
    this.int64(high | 0, (v - high * 0x1_0000_0000) | 0);
  }

  /** Unsigned varint of a non-negative number below 2^53. */
  uvarint(v: number): void {
    this.ensure(8);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  /** Zigzag varint or varlong of an integer, the same bytes for both. */
  varint(v: number): void {
    this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  bytes(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }

  /** Kafka's nullable varint-prefixed bytes: a Buffer as it is, anything else as UTF-8 text. */
  varintBytes(v: Buffer | string | number | null | undefined): void {
    if (v === null || v === undefined) {
      this.varint(-1);
    } else if (Buffer.isBuffer(v)) {
      this.varint(v.length);
      this.bytes(v);
    } else {
      const text = String(v);
      const length = Buffer.byteLength(text, 'utf8');
      this.varint(length);
      this.ensure(length);
      this.buf.write(text, this.pos, length, 'utf8');
      this.pos += length;
    }
  }

  string16(v: string | null): void {
    if (v === null) {
      this.int16(-1);
      return;
    }
    const length = Buffer.byteLength(v, 'utf8');
    this.int16(length);
    this.ensure(length);
    this.buf.write(v, this.pos, length, 'utf8');
    this.pos += length;
  }
}

/** Bytes of a value as varintBytes writes it, for the record's length prefix. */
function sizeOfBytes(v: Buffer | string | number | null | undefined): number {
  if (v === null || v === undefined) return 1;
  const length = Buffer.isBuffer(v) ? v.length : Buffer.byteLength(String(v), 'utf8');
  return sizeOfVarint(length) + length;
}

function sizeOfVarint(v: number): number {
  let u = v >= 0 ? v * 2 : -v * 2 - 1;
  let size = 1;
  while (u >= 0x80) {
    u = Math.floor(u / 0x80);
    size++;
  }
  return size;
}

const COMPRESSION_NONE = 0;
const TRANSACTIONAL_MASK = 16;

/** The factory kafkajs' producer calls, with kafkajs' own encoder for compressed requests. */
export function fastProduceRequestV3(fallback: ProduceRequestFactory): ProduceRequestFactory {
  const Encoder = require('kafkajs/src/protocol/encoder.js') as new (size?: number) => KafkajsEncoder;
  const Long = require('kafkajs/src/utils/long.js') as { fromValue(v: unknown): KafkajsLong; fromInt(v: number): KafkajsLong };
  const crc32C = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (b: Buffer) => number;
  const { Produce: apiKey } = require('kafkajs/src/protocol/requests/apiKeys.js') as { Produce: number };

  return (args) => {
    if ((args.compression ?? COMPRESSION_NONE) !== COMPRESSION_NONE) return fallback(args);
    const { acks, timeout, topicData } = args;
    const transactionalId = args.transactionalId ?? null;
    const producerId = Long.fromValue(args.producerId ?? Long.fromInt(-1));
    const producerEpoch = args.producerEpoch ?? 0;
    return {
      apiKey,
      apiVersion: 3,
      apiName: 'Produce',
      expectResponse: () => acks !== 0,
      encode: async () => {
        const w = new ByteWriter(64 * 1024);
        w.string16(transactionalId);
        w.int16(acks);
        w.int32(timeout);
        w.int32(topicData.length);
        for (const { topic, partitions } of topicData) {
          w.string16(topic);
          w.int32(partitions.length);
          for (const data of partitions) writePartition(w, data, transactionalId !== null, producerId, producerEpoch, crc32C);
        }
        const encoder = new Encoder(w.pos);
        return encoder.writeBuffer(w.buf.subarray(0, w.pos));
      },
    };
  };
}

function writePartition(w: ByteWriter, data: PartitionData, transactional: boolean, producerId: KafkajsLong, producerEpoch: number, crc32C: (b: Buffer) => number): void {
  const { messages } = data;
  // kafkajs takes the first and last timestamp in string order (Array#sort's default); so does this.
  let first: string | number | undefined;
  let max: string | number | undefined;
  for (const m of messages) {
    const t = m.timestamp;
    if (t === null || t === undefined) continue;
    if (first === undefined || String(t) < String(first)) first = t;
    if (max === undefined || String(t) >= String(max)) max = t;
  }
  const now = Date.now();
  const firstTimestamp = Number(first ?? now);
  const maxTimestamp = Number(max ?? now);

  w.int32(data.partition);
  const sizeAt = w.pos;
  w.int32(0); // the record set's size, filled in below
  w.int64(0, 0); // first offset
  const batchLengthAt = w.pos;
  w.int32(0); // batch length, filled in below
  w.int32(0); // partition leader epoch
  w.int8(2); // magic
  const crcAt = w.pos;
  w.int32(0); // CRC-32C of what follows, filled in below
  const bodyAt = w.pos;
  w.int16(transactional ? TRANSACTIONAL_MASK : 0);
  w.int32(messages.length - 1); // last offset delta
  w.int64Number(firstTimestamp);
  w.int64Number(maxTimestamp);
  w.int64(producerId.getHighBits(), producerId.getLowBits());
  w.int16(producerEpoch);
  w.int32(data.firstSequence ?? 0);
  w.int32(messages.length);
  for (let i = 0; i < messages.length; i++) writeRecord(w, messages[i]!, i, Number(messages[i]!.timestamp || now) - firstTimestamp);
  const end = w.pos;
  w.buf.writeUInt32BE(crc32C(w.buf.subarray(bodyAt, end)) >>> 0, crcAt);
  w.buf.writeInt32BE(end - batchLengthAt - 4, batchLengthAt);
  w.buf.writeInt32BE(end - sizeAt - 4, sizeAt);
}

function writeRecord(w: ByteWriter, m: Message, offsetDelta: number, timestampDelta: number): void {
  const headers = m.headers ?? {};
  let headerCount = 0;
  let headersSize = 0;
  for (const name in headers) {
    const value = headers[name];
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      headerCount++;
      const nameLength = Buffer.byteLength(name, 'utf8');
      headersSize += sizeOfVarint(nameLength) + nameLength + sizeOfBytes(v);
    }
  }
  const bodySize =
    1 + sizeOfVarint(timestampDelta) + sizeOfVarint(offsetDelta) + sizeOfBytes(m.key) + sizeOfBytes(m.value) + sizeOfVarint(headerCount) + headersSize;
  w.varint(bodySize);
  w.int8(0); // record attributes: none used
  w.varint(timestampDelta);
  w.varint(offsetDelta);
  w.varintBytes(m.key);
  w.varintBytes(m.value);
  w.varint(headerCount);
  for (const name in headers) {
    const value = headers[name];
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      w.varintBytes(name);
      w.varintBytes(v);
    }
  }
}

let installed: ProduceRequestFactory | undefined;

/** Puts the fast encoder in Node's module cache under kafkajs' path, if kafkajs has not loaded it yet. */
export function installFastProduceEncoding(): void {
  // kafkajs' own encoder is compiled only if a compressed request ever comes: nothing at start-up.
  let kafkajs: ProduceRequestFactory | undefined;
  const fallback: ProduceRequestFactory = (args) => (kafkajs ??= kafkajsProduceRequestV3())(args);
  replaceKafkajsModule(PRODUCE_V3_MODULE, () => (installed = fastProduceRequestV3(fallback)));
}

/** True when kafkajs' producer encodes Produce requests with the encoder above. */
export function fastProduceEncodingActive(): boolean {
  return kafkajsModuleIs(PRODUCE_V3_MODULE, installed);
}
