import { describe, expect, it } from 'vitest';
import { Consumed, Materialized, Serdes, SessionWindows, StreamsBuilder, diffTopologies } from '../../src/index.js';
import { buildSessionizeTopology } from '../../examples/sessionize/topology.js';
import { buildSessionizeTopologyV2 } from '../../examples/sessionize/topology-v2.js';

function counting(named: boolean, extraFilter: boolean) {
  const builder = new StreamsBuilder();
  let stream = builder.stream('in', Consumed.with(Serdes.String(), Serdes.String()));
  if (extraFilter) stream = stream.filter(() => true);
  const grouped = stream.groupByKey().windowedBy(SessionWindows.ofInactivityGapWithNoGrace(1000));
  const table = named ? grouped.count(Materialized.as<string, number>('counts').withValueSerde(Serdes.Int64())) : grouped.count();
  table.toStream().to('out');
  return builder.build({ applicationId: 'app' });
}

describe('diffTopologies', () => {
  it('keeps named stores and topics across the sessionization upgrade', () => {
    const diff = diffTopologies(buildSessionizeTopology(), buildSessionizeTopologyV2());
    expect(diff.keptStores).toEqual(['session-stats']);
    expect(diff.keepsAllState).toBe(true);
    expect(diff.droppedTopics).toEqual([]);
  });

  it('flags a generated store name that shifts when an operator is added', () => {
    const diff = diffTopologies(counting(false, false), counting(false, true));
    expect(diff.keepsAllState).toBe(false);
    expect(diff.likelyRenamed).toHaveLength(1);
    expect(diff.droppedStores[0]).toMatch(/^KSTREAM-AGGREGATE-STATE-STORE-\d{10}$/);
    expect(diffTopologies(counting(true, false), counting(true, true)).keepsAllState).toBe(true);
  });
});
