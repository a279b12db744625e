import { describe, expect, it } from 'vitest';
import type { Logger } from '../../src/logging/logger.js';
import { BrokerOutage } from '../../src/runtime/broker-outage.js';
import { SendFailedError, sendBeganAt } from '../../src/runtime/send-failed-error.js';
import { StreamsRuntimeError } from '../../src/errors/errors.js';

function recordingLogger(): Logger & { lines: Array<{ level: string; message: string }> } {
  const lines: Array<{ level: string; message: string }> = [];
  const log = (level: string) => (message: string) => void lines.push({ level, message });
  return { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

const refused = new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092');

// Invariant: an instance reports one outage per time the broker went away. A send that kafkajs retried
// through an outage and that fails only after the broker answered again belongs to that outage.
describe('BrokerOutage', () => {
  it('logs an outage once when it begins and once when it ends', () => {
    const logger = recordingLogger();
    const outage = new BrokerOutage(60_000, logger);
    expect(outage.report(refused)).toBeUndefined();
    expect(outage.report(refused)).toBeUndefined();
    outage.stillUnavailable(refused);
    outage.ended();
    expect(logger.lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([expect.stringMatching(/^broker unavailable \(Connection error/)]);
    expect(logger.lines.filter((l) => /^broker available again/.test(l.message))).toHaveLength(1);
    expect(outage.active).toBe(false);
  });

  it('counts the late failure of a send begun before the outage ended as part of it', () => {
    const logger = recordingLogger();
    const outage = new BrokerOutage(60_000, logger);
    const began = Date.now() - 1;
    outage.report(refused);
    outage.ended();
    const late = new SendFailedError(`Producing 2 records failed: ${refused.message}`, began, { cause: refused });
    expect(outage.report(new StreamsRuntimeError('commit of 0_3 failed', { cause: late }))).toBeUndefined();
    expect(outage.active).toBe(true);
    outage.ended();
    const visible = logger.lines.filter((l) => l.level !== 'debug');
    expect(visible.filter((l) => /^broker unavailable/.test(l.message))).toHaveLength(1);
    expect(visible.filter((l) => /^broker available again/.test(l.message))).toHaveLength(1);
    // The late error's text (ECONNREFUSED) is at debug only: it reports no new outage.
    expect(visible.filter((l) => /ECONNREFUSED/.test(l.message))).toHaveLength(1);
    expect(visible.some((l) => /failed after it answered again/.test(l.message))).toBe(true);
  });

  it('reports a new outage for a send begun after the last one ended', () => {
    const logger = recordingLogger();
    const outage = new BrokerOutage(60_000, logger);
    outage.report(refused);
    outage.ended();
    outage.report(new SendFailedError('Producing 1 records failed', Date.now() + 1));
    expect(logger.lines.filter((l) => /^broker unavailable/.test(l.message))).toHaveLength(2);
  });

  it('reports a late failure as an outage after all once the broker does not answer a probe', () => {
    const logger = recordingLogger();
    const outage = new BrokerOutage(60_000, logger);
    const began = Date.now() - 1;
    outage.report(refused);
    outage.ended();
    outage.report(new SendFailedError('Producing 3 records failed', began));
    expect(logger.lines.filter((l) => /^broker unavailable/.test(l.message))).toHaveLength(1);
    outage.stillUnavailable(refused);
    outage.stillUnavailable(refused);
    outage.ended();
    expect(logger.lines.filter((l) => /^broker unavailable/.test(l.message))).toHaveLength(2);
    expect(logger.lines.filter((l) => /^broker available again/.test(l.message))).toHaveLength(2);
  });

  it('is fatal after the timeout, counted from the first error', () => {
    const outage = new BrokerOutage(0, recordingLogger());
    const fatal = outage.report(refused);
    expect(fatal?.message).toMatch(/unavailable for \d+ ms, longer than brokerUnavailableTimeoutMs \(0 ms\); last error: Connection error/);
  });

  it('finds when a send began through the causes of an error', () => {
    const send = new SendFailedError('Producing 1 records failed', 42);
    expect(sendBeganAt(new StreamsRuntimeError('commit of 1_0 failed', { cause: send }))).toBe(42);
    expect(sendBeganAt(refused)).toBeUndefined();
  });
});
