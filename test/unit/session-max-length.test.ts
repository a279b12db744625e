/**
 * A maximum session length (SessionWindows.withMaxLength, our extension): a view that would stretch a
 * session beyond the cap starts a new session, which the next views join; without the option sessions are
 * Kafka Streams' (the differential suite covers that path).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, Consumed, Materialized, Produced, Serdes, SessionWindows, StreamsBuilder, TopologyTestDriver, WindowedSerdes } from '../../src/index.js';

function sessions(windows: SessionWindows, times: readonly number[]) {
  const builder = new StreamsBuilder();
  builder
    .stream('views', Consumed.with(Serdes.String(), Serdes.String()))
    .groupByKey()
    .windowedBy(windows)
    .count(Materialized.as('sessions'))
    .toStream()
    .to('out', Produced.with(WindowedSerdes.sessionWindowed(Serdes.String()), Serdes.Int64()));
  const driver = new TopologyTestDriver(builder.build({ applicationId: 'max-length' }));
  const input = driver.createInputTopic('views', Serdes.String(), Serdes.String());
  for (const t of times) input.pipeInput('u', 'view', t);
  const output = driver.createOutputTopic('out', WindowedSerdes.sessionWindowed(Serdes.String()), Serdes.Int64()).readKeyValuesToList();
  const stored = driver
    .getSessionStore<string, number>('sessions')
    .fetch('u')
    .map((s) => [s.key.window.start, s.key.window.end, s.value]);
  driver.close();
  return { output: output.map(({ key, value }) => [key!.window.start, key!.window.end, value]), stored };
}

// Gap 10, a grace that keeps every session in the store.
const base = SessionWindows.ofInactivityGapAndGrace(10, 1000);

describe('SessionWindows.withMaxLength', () => {
  it('a view that would stretch a session beyond the cap starts a new one, which the next views join', () => {
    const { stored } = sessions(base.withMaxLength(20), [0, 5, 10, 15, 20, 25, 30]);
    expect(stored).toEqual([
      [0, 20, 5], // 20 long: at the cap
      [25, 30, 2], // 25 would have made it 25 long
    ]);
    // Without the cap: one session.
    expect(sessions(base, [0, 5, 10, 15, 20, 25, 30]).stored).toEqual([[0, 30, 7]]);
  });

  it('a late view between two capped sessions joins the one it fits, and the update replaces it', () => {
    const { output, stored } = sessions(base.withMaxLength(20), [0, 5, 10, 15, 20, 25, 30, 22]);
    // 22 is within the gap of both: [0,20] would become 22 long, [25,30] becomes [22,30].
    expect(stored).toEqual([
      [0, 20, 5],
      [22, 30, 3],
    ]);
    expect(output.slice(-2)).toEqual([
      [25, 30, null],
      [22, 30, 3],
    ]);
  });

  it('a view inside a session joins it; several sessions merge when the result fits', () => {
    // [0,0] and [12,12] are more than the gap apart; 6 bridges them into [0,12], within 15.
    expect(sessions(base.withMaxLength(15), [0, 12, 6]).stored).toEqual([[0, 12, 3]]);
    // Cap 10: 6 joins the earlier one, the nearest that fits.
    expect(sessions(base.withMaxLength(10), [0, 12, 6]).stored).toEqual([
      [0, 6, 2],
      [12, 12, 1],
    ]);
    expect(sessions(base.withMaxLength(10), [0, 10, 25, 30, 5]).stored).toEqual([
      [0, 10, 3],
      [25, 30, 2],
    ]);
  });

  it('a cap of 0 makes every view its own session; a negative or infinite cap is refused', () => {
    expect(sessions(base.withMaxLength(0), [0, 1, 1]).stored).toEqual([
      [0, 0, 1],
      [1, 1, 2],
    ]);
    expect(() => base.withMaxLength(-1)).toThrow(ConfigError);
    expect(() => base.withMaxLength(Number.POSITIVE_INFINITY)).toThrow(/maximum session length must be a finite number/);
  });
});
