import { describe, expect, it } from 'vitest';
import {
  Consumed,
  EmitStrategy,
  Materialized,
  Produced,
  Serdes,
  SessionWindows,
  StreamsBuilder,
  Suppressed,
  TopologyTestDriver,
  WindowedSerdes,
  type Windowed,
} from '../../src/index.js';

interface Stats {
  count: number;
  pages: string[];
}

const GAP = 10;
const GRACE = 30;
// Default retention is gap + grace: a session stays live while its end > stream time - 40.

function sessionTopology(suppress = false) {
  const builder = new StreamsBuilder();
  const table = builder
    .stream('clicks', Consumed.with(Serdes.String(), Serdes.String()))
    .groupByKey()
    .windowedBy(SessionWindows.ofInactivityGapAndGrace(GAP, GRACE))
    .aggregate<Stats>(
      () => ({ count: 0, pages: [] }),
      (_key, page, agg) => ({ count: agg.count + 1, pages: [...agg.pages, page] }),
      (_key, left, right) => ({ count: left.count + right.count, pages: [...left.pages, ...right.pages] }),
      Materialized.as<string, Stats>('sessions').withValueSerde(Serdes.Json<Stats>()),
    );
  (suppress ? table.suppress(Suppressed.untilWindowCloses()) : table)
    .toStream()
    .to('stats', Produced.with(WindowedSerdes.sessionWindowed(Serdes.String()), Serdes.Json<Stats>()));
  const driver = new TopologyTestDriver(builder.build({ applicationId: 'sessions-test' }));
  const input = driver.createInputTopic('clicks', Serdes.String(), Serdes.String());
  const output = driver.createOutputTopic('stats', WindowedSerdes.sessionWindowed(Serdes.String()), Serdes.Json<Stats>());
  const read = () =>
    output.readRecordsToList().map((r) => ({
      key: `${r.key!.key}@${r.key!.window.start}-${r.key!.window.end}`,
      count: r.value?.count ?? null,
      timestamp: r.timestamp,
    }));
  return { driver, input, read };
}

const session = (key: string, start: number, end: number): Windowed<string> => ({ key, window: { start, end } });

describe('session windows (Kafka Streams semantics)', () => {
  it('starts a new session for a first record', () => {
    const { input, read, driver } = sessionTopology();
    input.pipeInput('alice', '/home', 100);
    expect(read()).toEqual([{ key: 'alice@100-100', count: 1, timestamp: 100 }]);
    expect(driver.getSessionStore<string, Stats>('sessions').fetchSession('alice', 100, 100)).toEqual({
      count: 1,
      pages: ['/home'],
    });
  });

  it('extends a session within the gap: tombstone for the old window, then the grown one', () => {
    const { input, read, driver } = sessionTopology();
    input.pipeInput('alice', '/home', 100);
    input.pipeInput('alice', '/cart', 105);
    expect(read()).toEqual([
      { key: 'alice@100-100', count: 1, timestamp: 100 },
      { key: 'alice@100-100', count: null, timestamp: 100 },
      { key: 'alice@100-105', count: 2, timestamp: 105 },
    ]);
    const store = driver.getSessionStore<string, Stats>('sessions');
    expect(store.fetch('alice').map((kv) => kv.key)).toEqual([session('alice', 100, 105)]);
  });

  it('a record exactly one gap away still joins the session; one further starts a new one', () => {
    const { input, read } = sessionTopology();
    input.pipeInput('alice', 'a', 100);
    input.pipeInput('alice', 'b', 100 + GAP);
    input.pipeInput('alice', 'c', 100 + 3 * GAP);
    expect(read().filter((r) => r.count !== null).map((r) => r.key)).toEqual([
      'alice@100-100',
      'alice@100-110',
      'alice@130-130',
    ]);
  });

  it('merges two sessions that a record bridges, with a tombstone for each', () => {
    const { input, read, driver } = sessionTopology();
    input.pipeInput('alice', '/a', 100);
    input.pipeInput('alice', '/c', 120);
    read();
    input.pipeInput('alice', '/b', 110);
    expect(read()).toEqual([
      { key: 'alice@100-100', count: null, timestamp: 100 },
      { key: 'alice@120-120', count: null, timestamp: 120 },
      { key: 'alice@100-120', count: 3, timestamp: 120 },
    ]);
    const merged = driver.getSessionStore<string, Stats>('sessions').fetchSession('alice', 100, 120);
    // The merger folds the older sessions first, then the aggregator adds the bridging record.
    expect(merged).toEqual({ count: 3, pages: ['/a', '/c', '/b'] });
  });

  it('merges three sessions into one through two bridging records', () => {
    const { input, read, driver } = sessionTopology();
    for (const t of [100, 112, 124]) input.pipeInput('alice', `/p${t}`, t);
    read();
    input.pipeInput('alice', '/bridge1', 106);
    input.pipeInput('alice', '/bridge2', 118);
    const out = read();
    expect(out.filter((r) => r.count === null).map((r) => r.key)).toEqual([
      'alice@100-100',
      'alice@112-112',
      'alice@100-112',
      'alice@124-124',
    ]);
    expect(out.at(-1)).toEqual({ key: 'alice@100-124', count: 5, timestamp: 124 });
    expect(driver.getSessionStore<string, Stats>('sessions').fetch('alice')).toHaveLength(1);
  });

  it('accepts an out-of-order record within grace, into the right session', () => {
    const { input, read } = sessionTopology();
    input.pipeInput('alice', '/a', 100);
    input.pipeInput('bob', '/x', 130); // stream time 130
    input.pipeInput('alice', '/late-but-ok', 95); // close time 130 - 30 - 10 = 90: window end 100 is open
    expect(read().slice(-2)).toEqual([
      { key: 'alice@100-100', count: null, timestamp: 100 },
      { key: 'alice@95-100', count: 2, timestamp: 100 },
    ]);
  });

  it('drops a record whose merged window ends before stream time - grace - gap, and counts it', () => {
    const { input, read, driver } = sessionTopology();
    input.pipeInput('alice', '/a', 100); // stream time 100, close time 60
    read();
    input.pipeInput('carol', '/old', 59);
    expect(read()).toEqual([]);
    expect(driver.metrics().droppedLate).toBe(1);
    expect(driver.getSessionStore<string, Stats>('sessions').fetch('carol')).toEqual([]);
    // On the boundary (end == close time) the record is still accepted.
    input.pipeInput('carol', '/edge', 60);
    expect(read()).toEqual([{ key: 'carol@60-60', count: 1, timestamp: 60 }]);
    expect(driver.metrics().droppedLate).toBe(1);
  });

  it('judges lateness by the merged window: an old record that joins a live session is kept', () => {
    const { input, read } = sessionTopology();
    input.pipeInput('alice', '/a', 61);
    input.pipeInput('bob', '/b', 100); // stream time 100, close time 60
    read();
    input.pipeInput('alice', '/old-but-joins', 55); // alone it would be late (55 < 60); merged it ends at 61
    expect(read().at(-1)).toEqual({ key: 'alice@55-61', count: 2, timestamp: 61 });
  });

  it('expires sessions past retention: they are neither found nor merged', () => {
    const { input, read, driver } = sessionTopology();
    input.pipeInput('alice', '/a', 100);
    input.pipeInput('bob', '/tick', 140); // alice's session ends at 100 = 140 - retention: expired
    expect(driver.getSessionStore<string, Stats>('sessions').fetch('alice')).toEqual([]);
    read();
    input.pipeInput('alice', '/b', 105); // would have merged with [100,100]; alone it is still on time (>= 100)
    expect(read()).toEqual([{ key: 'alice@105-105', count: 1, timestamp: 105 }]);
  });

  it('keeps interleaved keys apart', () => {
    const { input, read, driver } = sessionTopology();
    const events: Array<[string, number]> = [
      ['alice', 100],
      ['bob', 101],
      ['alice', 104],
      ['carol', 105],
      ['bob', 108],
      ['alice', 130],
    ];
    for (const [user, t] of events) input.pipeInput(user, `/${t}`, t);
    read();
    const store = driver.getSessionStore<string, Stats>('sessions');
    expect(store.fetch('alice').map((s) => [s.key.window.start, s.key.window.end, s.value.count])).toEqual([
      [100, 104, 2],
      [130, 130, 1],
    ]);
    expect(store.fetch('bob').map((s) => [s.key.window.start, s.key.window.end, s.value.count])).toEqual([[101, 108, 2]]);
    expect(store.fetch('carol').map((s) => s.value.count)).toEqual([1]);
  });

  it('drops and counts records with a null key', () => {
    const { input, read, driver } = sessionTopology();
    input.pipeInput(null, '/anon', 100);
    expect(read()).toEqual([]);
    expect(driver.metrics().droppedNullKey).toBe(1);
  });

  it('findSessions returns the sessions overlapping [earliestEnd, latestStart]', () => {
    const { input, driver } = sessionTopology();
    for (const t of [100, 115, 130]) input.pipeInput('alice', '/', t);
    const store = driver.getSessionStore<string, Stats>('sessions');
    expect(store.findSessions('alice', 112, 118).map((s) => s.key.window.start)).toEqual([115]);
    expect(store.findSessions('alice', 0, 1000).map((s) => s.key.window.start)).toEqual([100, 115, 130]);
  });

  it('logs every session change to the changelog, with tombstones for merged sessions', () => {
    const { input, driver } = sessionTopology();
    input.pipeInput('alice', '/a', 100);
    input.pipeInput('alice', '/b', 105);
    const changelog = driver.createOutputTopic(
      'sessions-test-sessions-changelog',
      WindowedSerdes.sessionWindowed(Serdes.String()),
      Serdes.Json<Stats>(),
    );
    expect(changelog.readKeyValuesToList().map((kv) => [kv.key!.window.start, kv.key!.window.end, kv.value?.count ?? null])).toEqual([
      [100, 100, 1],
      [100, 100, null],
      [100, 105, 2],
    ]);
  });
});

describe('suppress(untilWindowCloses) on session windows', () => {
  it('emits exactly one final result per session once stream time passes end + gap + grace', () => {
    const { input, read } = sessionTopology(true);
    input.pipeInput('alice', '/a', 100);
    input.pipeInput('alice', '/b', 105);
    input.pipeInput('bob', '/x', 144); // alice closes at 105 + 10 + 30 = 145: not yet
    expect(read()).toEqual([]);
    input.pipeInput('bob', '/y', 145);
    expect(read()).toEqual([{ key: 'alice@100-105', count: 2, timestamp: 105 }]);
    input.pipeInput('carol', '/z', 300);
    expect(read()).toEqual([{ key: 'bob@144-145', count: 2, timestamp: 145 }]);
  });

  it('never emits a session that was merged away', () => {
    const { input, read } = sessionTopology(true);
    input.pipeInput('alice', '/a', 100);
    input.pipeInput('alice', '/c', 120);
    input.pipeInput('alice', '/b', 110);
    input.pipeInput('zed', '/tick', 1000);
    expect(read()).toEqual([{ key: 'alice@100-120', count: 3, timestamp: 120 }]);
  });
});

describe('session windows with emitStrategy(onWindowClose)', () => {
  /** Counts per session of key, final results only; gap 10, grace 5: a session closes once stream time > end + 15. */
  function finalCounts() {
    const builder = new StreamsBuilder();
    const windowed = WindowedSerdes.sessionWindowed(Serdes.String());
    builder
      .stream('clicks', Consumed.with(Serdes.String(), Serdes.String()))
      .groupByKey()
      .windowedBy(SessionWindows.ofInactivityGapAndGrace(10, 5))
      .emitStrategy(EmitStrategy.onWindowClose())
      .count(Materialized.as('counts'))
      .toStream()
      .to('out', Produced.with(windowed, Serdes.Int64()));
    const topology = builder.build({ applicationId: 'session-close' });
    const driver = new TopologyTestDriver(topology);
    const input = driver.createInputTopic('clicks', Serdes.String(), Serdes.String());
    const output = driver.createOutputTopic('out', windowed, Serdes.Int64());
    const read = () => output.readRecordsToList().map((r) => [r.key!.key, r.key!.window.start, r.key!.window.end, r.value, r.timestamp]);
    return { topology, input, read, driver };
  }

  it('emits each session once, final, when end + gap + grace is behind stream time; no update and no tombstone before', () => {
    const { input, read } = finalCounts();
    input.pipeInput('a', 'x', 0);
    input.pipeInput('a', 'x', 8); // [0,8]
    input.pipeInput('b', 'x', 20); // close time 5: sessions ending before 5 close; none does
    expect(read()).toEqual([]);
    input.pipeInput('a', 'x', 30); // a new session of a: [30,30]; close time 15: [0,8] closes
    expect(read()).toEqual([['a', 0, 8, 2, 8]]);
    input.pipeInput('b', 'x', 23); // stream time stays 30: nothing more closes
    input.pipeInput('c', 'x', 24);
    expect(read()).toEqual([]);
    input.pipeInput('c', 'x', 50); // close time 35: b [20,23], c [24,24], a [30,30], by end
    expect(read()).toEqual([
      ['b', 20, 23, 2, 23],
      ['c', 24, 24, 1, 24],
      ['a', 30, 30, 1, 30],
    ]);
  });

  it('never emits a session merged into another before it closed, only the merged one', () => {
    const { input, read } = finalCounts();
    input.pipeInput('a', 'x', 0); // [0,0]
    input.pipeInput('a', 'x', 12); // [12,12]
    input.pipeInput('a', 'x', 6); // bridges both: [0,12]
    input.pipeInput('z', 'x', 40); // close time 25
    expect(read()).toEqual([['a', 0, 12, 3, 12]]);
  });

  it('drops a late record and still emits what closed', () => {
    const { input, read, driver } = finalCounts();
    input.pipeInput('a', 'x', 0);
    input.pipeInput('b', 'x', 30); // close time 15: [0,0] of a emitted
    expect(read()).toEqual([['a', 0, 0, 1, 0]]);
    input.pipeInput('a', 'x', 2); // merged end 2 < 15: late, dropped
    expect(read()).toEqual([]);
    expect(driver.metrics().droppedLate).toBe(1);
  });

  it('keeps its emit index in a logged store next to the sessions', () => {
    const { topology } = finalCounts();
    expect([...topology.stores.keys()].sort()).toEqual(['counts', 'counts-emit-index']);
    expect(topology.internalTopics.map((t) => t.name).sort()).toEqual(['session-close-counts-changelog', 'session-close-counts-emit-index-changelog']);
  });
});
