/**
 * For any input and any partition counts, the PartitionedTopologyTestDriver's output, per key, is the
 * one-partition driver's: partitioning changes where a key's records are processed, never what comes of
 * them, as long as every record of a key meets in one task (here through the repartition after selectKey)
 * and no record is late (disorder within the grace: stream time is per task, so lateness would differ).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Consumed,
  Grouped,
  Materialized,
  PartitionedTopologyTestDriver,
  Produced,
  Serdes,
  SessionWindows,
  StreamsBuilder,
  TopologyTestDriver,
  WindowedSerdes,
} from '../../src/index.js';

interface View {
  user: string;
  at: number;
}

const GAP = 5_000;
const GRACE = 3_000;

function topology(caching: boolean) {
  const builder = new StreamsBuilder();
  const viewSerde = Serdes.Json<View>();
  const views = builder.stream('views', Consumed.with(Serdes.String(), viewSerde).withTimestampExtractor((r) => r.value.at));
  const sessions = views
    .selectKey((_id, view) => view.user)
    .groupByKey(Grouped.with(Serdes.String(), viewSerde))
    .windowedBy(SessionWindows.ofInactivityGapAndGrace(GAP, GRACE))
    .count(caching ? Materialized.as('sessions') : Materialized.as<string, number>('sessions').withCachingDisabled());
  sessions.toStream().to('sessions-out', Produced.with(WindowedSerdes.sessionWindowed(Serdes.String()), Serdes.Int64()));
  // A second grouping of the same views, through a repartition topic of its own.
  views
    .groupBy((_id, view) => view.user, Grouped.with(Serdes.String(), viewSerde).withName('per-user'))
    .count()
    .toStream()
    .to('totals', Produced.with(Serdes.String(), Serdes.Int64()));
  return builder.build({ applicationId: 'prop' });
}

type Driver = TopologyTestDriver | PartitionedTopologyTestDriver;

/** What each key received on each output topic, in order. */
function outputsPerKey(driver: Driver, views: ReadonlyArray<{ id: string; view: View }>): Map<string, unknown[]> {
  const input = driver.createInputTopic('views', Serdes.String(), Serdes.Json<View>());
  for (const { id, view } of views) input.pipeInput(id, view, view.at);
  const perKey = new Map<string, unknown[]>();
  const add = (key: string, entry: unknown): void => void perKey.set(key, [...(perKey.get(key) ?? []), entry]);
  for (const r of driver.createOutputTopic('sessions-out', WindowedSerdes.sessionWindowed(Serdes.String()), Serdes.Int64()).readRecordsToList()) {
    add(`session:${r.key!.key}`, [r.key!.window.start, r.key!.window.end, r.value, r.timestamp]);
  }
  for (const r of driver.createOutputTopic('totals', Serdes.String(), Serdes.Int64()).readRecordsToList()) add(`total:${r.key!}`, [r.value, r.timestamp]);
  return perKey;
}

describe('PartitionedTopologyTestDriver against the one-partition driver', () => {
  it('gives each key the same output, for any views and partition counts', () => {
    const views = fc
      .array(fc.record({ id: fc.string({ maxLength: 4 }), user: fc.constantFrom('ann', 'bob', 'cy', 'dee', 'eve'), step: fc.integer({ min: 0, max: 4_000 }), jitter: fc.integer({ min: 0, max: GRACE }) }), {
        maxLength: 40,
      })
      .map((list) => {
        let base = 10_000;
        return list.map(({ id, user, step, jitter }) => ({ id, view: { user, at: (base += step) - jitter } }));
      });
    fc.assert(
      fc.property(views, fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 }), fc.boolean(), (list, inputPartitions, otherPartitions, caching) => {
        const expected = outputsPerKey(new TopologyTestDriver(topology(caching)), list);
        const partitioned = new PartitionedTopologyTestDriver(topology(caching), { partitions: { views: inputPartitions }, defaultPartitions: otherPartitions });
        expect(outputsPerKey(partitioned, list)).toEqual(expected);
        expect(partitioned.metrics().droppedLate).toBe(0);
      }),
      { numRuns: 60 },
    );
  });
});
