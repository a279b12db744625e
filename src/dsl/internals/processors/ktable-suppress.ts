import type { ProcessorSupplier } from '../../../processor/processor-api.js';
import type { Windowed } from '../../../processor/windowed.js';
import type { Serde } from '../../../serdes/serde.js';
import type { KeyValueStore } from '../../../stores/state-store.js';
import type { InternalProcessorContext } from '../../../processor/internals/internal-processor-context.js';
import { SuppressionBufferFullError } from '../../../errors/errors.js';
import type { BufferConfig } from '../../buffer-config.js';
import { change, type Change } from '../change.js';
import { SuppressionBuffer, type BufferedEntry, type LegacyDecoder } from './suppression-buffer.js';

/** The two suppressions of Kafka Streams, as its SuppressedInternal describes them. */
export type SuppressionKind =
  /** `untilWindowCloses`: buffered by window end, emitted `closeAfterMs` (grace, + gap for sessions) after it; deletions dropped. */
  | { readonly kind: 'untilWindowCloses'; readonly closeAfterMs: number }
  /** `untilTimeLimit`: buffered by the time a key entered, emitted `limitMs` after it; deletions emitted. */
  | { readonly kind: 'untilTimeLimit'; readonly limitMs: number };

/**
 * `suppress(...)` (Kafka Streams' KTableSuppressProcessorSupplier.KTableSuppressProcessor): each change is
 * buffered (a key keeps its place and takes the latest change); then every entry whose buffer time is at
 * most observed stream time − the suppression's duration is emitted, in order, with its latest record's
 * timestamp and headers; then, if the buffer holds more keys or bytes than its BufferConfig allows, it
 * emits its oldest entries until it fits (`emitEarly`), or throws a SuppressionBufferFullError (`shutDown`).
 * A final-results suppression drops deletions when they come out (safeToDropTombstones).
 */
export function ktableSuppress(
  processorName: string,
  storeName: string,
  suppression: SuppressionKind,
  bufferConfig: BufferConfig,
  keySerde: Serde<unknown>,
  valueSerde: Serde<unknown>,
): ProcessorSupplier<unknown, Change<unknown>, unknown, Change<unknown>> {
  const finalResults = suppression.kind === 'untilWindowCloses';
  const durationMs = finalResults ? suppression.closeAfterMs : suppression.limitMs;
  const { recordLimit, byteLimit } = bufferConfig;
  const serialize = (value: unknown): Buffer | null => (value === null || value === undefined ? null : valueSerde.serialize(value));
  const deserialize = (bytes: Buffer | null): unknown => (bytes === null ? null : valueSerde.deserialize(bytes));
  return () => {
    let context!: InternalProcessorContext<unknown, Change<unknown>>;
    let buffer!: SuppressionBuffer;
    let observedStreamTime = Number.NEGATIVE_INFINITY;
    const overCapacity = (): boolean => buffer.numRecords > recordLimit || buffer.bufferSize > byteLimit;

    const emit = (entry: BufferedEntry): void => {
      if (finalResults && entry.value === null) return;
      context.forward({
        key: keySerde.deserialize(entry.keyBytes),
        value: change(deserialize(entry.value), deserialize(entry.old)),
        timestamp: entry.timestamp,
        headers: entry.headers,
      });
    };

    const emitExpired = (): void => {
      // Event-time mode: final results never close ahead of the slowest upstream task (see EventTimeClock).
      const streamTime = finalResults && context.eventTime !== undefined ? context.eventTime.streamTime(observedStreamTime) : observedStreamTime;
      const expiry = streamTime - durationMs;
      buffer.evictWhile(() => buffer.minTime() <= expiry, emit);
    };

    const enforceConstraints = (): void => {
      emitExpired();
      if (!overCapacity()) return;
      if (bufferConfig.fullStrategy === 'emitEarly') {
        buffer.evictWhile(overCapacity, emit);
        return;
      }
      const limit = (n: number): string => (n === Number.POSITIVE_INFINITY ? 'unbounded' : String(n));
      throw new SuppressionBufferFullError(
        `The suppression buffer of ${processorName} exceeded its max capacity: it holds ${buffer.numRecords} records ` +
          `(max ${limit(recordLimit)}) and ${buffer.bufferSize} bytes (max ${limit(byteLimit)}), and its ` +
          `BufferConfig says shutDownWhenFull. Raise maxRecords / maxBytes, or let it emit early with ` +
          `emitEarlyWhenFull() (not possible for untilWindowCloses, whose results must be final).`,
      );
    };

    return {
      init(ctx) {
        context = ctx as InternalProcessorContext<unknown, Change<unknown>>;
        buffer = new SuppressionBuffer(context.getStateStore<KeyValueStore<Buffer, Buffer>>(storeName));
        buffer.restore(finalResults ? legacyFinalResults : legacyTimeLimit);
        observedStreamTime = context.currentStreamTimeMs();
        // Event-time mode: final results are emitted when the bound rises without a record too.
        if (finalResults) context.eventTime?.onAdvance(emitExpired);
      },
      process(record) {
        if (record.timestamp > observedStreamTime) observedStreamTime = record.timestamp;
        const bufferTime = finalResults ? (record.key as Windowed<unknown>).window.end : record.timestamp;
        buffer.put(
          bufferTime,
          keySerde.serialize(record.key),
          serialize(record.value.oldValue),
          serialize(record.value.newValue),
          record.timestamp,
          context.recordMetadata()?.topic,
          record.headers,
        );
        enforceConstraints();
      },
    };
  };
}

/** The layout of final-results buffers before bounds: [window end i64][record timestamp i64][value bytes]. */
const legacyFinalResults: LegacyDecoder = (value) => ({
  bufferTime: Number(value.readBigInt64BE(0)),
  timestamp: Number(value.readBigInt64BE(8)),
  value: value.subarray(16),
});

/** The layout of time-limit buffers before bounds: [buffer time i64][timestamp i64][1 = value, 0 = deletion][value]. */
const legacyTimeLimit: LegacyDecoder = (value) => ({
  bufferTime: Number(value.readBigInt64BE(0)),
  timestamp: Number(value.readBigInt64BE(8)),
  value: value[16] === 1 ? value.subarray(17) : null,
});
