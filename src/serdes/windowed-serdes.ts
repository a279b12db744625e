import type { Windowed } from '../processor/windowed.js';
import type { Serde } from './serde.js';

/**
 * A serde of windowed keys. Its binary layouts are Kafka Streams' own, so that Java consumers of our output
 * topics (and ours of theirs) read the same bytes:
 *   session windows: [inner key][end: int64 BE][start: int64 BE]
 *   time windows:    [inner key][start: int64 BE]   (the end is start + window size)
 */
export interface WindowedSerde<K> extends Serde<Windowed<K>> {
  /** The serde of the record key inside the window. */
  readonly inner: Serde<K>;
  /**
   * When the serialized windowed key is the inner key's bytes followed by this many bytes of window (Kafka
   * Streams' layouts): the inner key's bytes are then a prefix of it. Undefined for other layouts.
   */
  readonly windowBytes?: number;
}

export function isWindowedSerde(serde: Serde<unknown>): serde is WindowedSerde<unknown> {
  return (serde as Partial<WindowedSerde<unknown>>).inner !== undefined;
}

function sessionWindowed<K>(inner: Serde<K>): WindowedSerde<K> {
  return {
    name: `SessionWindowed<${inner.name}>`,
    inner,
    windowBytes: 16,
    serialize(value, topic) {
      const key = inner.serialize(value.key, topic);
      const out = Buffer.allocUnsafe(key.length + 16);
      key.copy(out, 0);
      out.writeBigInt64BE(BigInt(value.window.end), key.length);
      out.writeBigInt64BE(BigInt(value.window.start), key.length + 8);
      return out;
    },
    deserialize(bytes, topic) {
      if (bytes.length < 16) throw new Error(`a session-windowed key needs at least 16 bytes, got ${bytes.length}`);
      const keyEnd = bytes.length - 16;
      return {
        key: inner.deserialize(bytes.subarray(0, keyEnd), topic),
        window: {
          start: Number(bytes.readBigInt64BE(keyEnd + 8)),
          end: Number(bytes.readBigInt64BE(keyEnd)),
        },
      };
    },
  };
}

function timeWindowed<K>(inner: Serde<K>, windowSizeMs: number): WindowedSerde<K> {
  return {
    name: `TimeWindowed<${inner.name}>`,
    inner,
    windowBytes: 8,
    serialize(value, topic) {
      const key = inner.serialize(value.key, topic);
      const out = Buffer.allocUnsafe(key.length + 8);
      key.copy(out, 0);
      out.writeBigInt64BE(BigInt(value.window.start), key.length);
      return out;
    },
    deserialize(bytes, topic) {
      if (bytes.length < 8) throw new Error(`a time-windowed key needs at least 8 bytes, got ${bytes.length}`);
      const keyEnd = bytes.length - 8;
      const start = Number(bytes.readBigInt64BE(keyEnd));
      return {
        key: inner.deserialize(bytes.subarray(0, keyEnd), topic),
        window: { start, end: start + windowSizeMs },
      };
    },
  };
}

/** Serdes for `Windowed<K>` keys, as Kafka Streams' `WindowedSerdes`. */
export const WindowedSerdes = {
  /** Keys of session-windowed results: `[key][end][start]`, e.g. `WindowedSerdes.sessionWindowed(Serdes.String())`. */
  sessionWindowed,
  /** Keys of time-windowed results: `[key][start]`; the window size gives the end. */
  timeWindowed,
} as const;
