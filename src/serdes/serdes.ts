import type { Serde } from './serde.js';
import { avroSerde, type AvroSchema, type AvroSerde } from './avro-serde.js';

const stringSerde: Serde<string> = {
  name: 'String',
  serialize: (value) => Buffer.from(value, 'utf8'),
  deserialize: (bytes) => bytes.toString('utf8'),
};

const bufferSerde: Serde<Buffer> = {
  name: 'Buffer',
  serialize: (value) => value,
  deserialize: (bytes) => bytes,
};

function fixedWidth(bytes: Buffer, width: number, name: string): void {
  if (bytes.length !== width) {
    throw new Error(`${name} expects ${width} bytes, got ${bytes.length}`);
  }
}

const int32Serde: Serde<number> = {
  name: 'Int32',
  serialize: (value) => {
    const out = Buffer.allocUnsafe(4);
    out.writeInt32BE(value);
    return out;
  },
  deserialize: (bytes) => {
    fixedWidth(bytes, 4, 'Int32');
    return bytes.readInt32BE(0);
  },
};

/** Java's `long`, big-endian; values beyond ±2^53 lose precision in a JS number. */
const int64Serde: Serde<number> = {
  name: 'Int64',
  serialize: (value) => {
    const out = Buffer.allocUnsafe(8);
    out.writeBigInt64BE(BigInt(Math.trunc(value)));
    return out;
  },
  deserialize: (bytes) => {
    fixedWidth(bytes, 8, 'Int64');
    return Number(bytes.readBigInt64BE(0));
  },
};

const doubleSerde: Serde<number> = {
  name: 'Double',
  serialize: (value) => {
    const out = Buffer.allocUnsafe(8);
    out.writeDoubleBE(value);
    return out;
  },
  deserialize: (bytes) => {
    fixedWidth(bytes, 8, 'Double');
    return bytes.readDoubleBE(0);
  },
};

function jsonSerde<T>(): Serde<T> {
  return {
    name: 'Json',
    serialize: (value) => Buffer.from(JSON.stringify(value), 'utf8'),
    deserialize: (bytes) => JSON.parse(bytes.toString('utf8')) as T,
  };
}

/** The built-in serdes, named as in Kafka Streams' `Serdes` class. */
export const Serdes = {
  /** UTF-8 text. */
  String: (): Serde<string> => stringSerde,
  /** The bytes as they are. */
  Buffer: (): Serde<Buffer> => bufferSerde,
  /** Alias of `Buffer`, Kafka Streams' name. */
  ByteArray: (): Serde<Buffer> => bufferSerde,
  /** A 32-bit big-endian integer, as Kafka's IntegerSerializer writes it. */
  Int32: (): Serde<number> => int32Serde,
  /** Alias of `Int32`. */
  Integer: (): Serde<number> => int32Serde,
  /** A 64-bit big-endian integer, as Kafka's LongSerializer writes it (exact up to 2^53 as a number). */
  Int64: (): Serde<number> => int64Serde,
  /** Alias of `Int64`. */
  Long: (): Serde<number> => int64Serde,
  /** A 64-bit IEEE 754 float, big-endian. */
  Double: (): Serde<number> => doubleSerde,
  /** UTF-8 JSON. The type parameter is a promise the caller makes; nothing is validated. */
  Json: <T>(): Serde<T> => jsonSerde<T>(),
  /** Avro binary encoding with avsc; see {@link avroSerde}. */
  Avro: <T>(schema: AvroSchema): AvroSerde<T> => avroSerde<T>(schema),
} as const;
