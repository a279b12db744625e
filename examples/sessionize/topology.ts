/**
 * Web-server sessionization: page views in, one aggregate per user session out.
 *
 * page-views (key: anything, value: Avro PageView)
 *   -> drop server errors -> re-key by user (repartition) -> session windows (30 min gap, 1 min grace)
 *   -> count, bytes, distinct pages, first/last seen -> session-stats (key: session-windowed user id)
 */
import {
  Consumed,
  Grouped,
  Materialized,
  Produced,
  Serdes,
  SessionWindows,
  StreamsBuilder,
  WindowedSerdes,
  type Serde,
  type Topology,
  type Windowed,
} from '../../src/index.js';

export interface PageView {
  userId: string;
  page: string;
  status: number;
  bytes: number;
  /** Event time, epoch ms (also the Kafka record timestamp). */
  timestamp: number;
}

export interface SessionStats {
  count: number;
  bytes: number;
  pages: string[];
  firstSeen: number;
  lastSeen: number;
}

export const INACTIVITY_GAP_MS = 30 * 60_000;
export const GRACE_MS = 60_000;

export const pageViewSchema = {
  type: 'record',
  name: 'PageView',
  namespace: 'example.sessionize',
  fields: [
    { name: 'userId', type: 'string' },
    { name: 'page', type: 'string' },
    { name: 'status', type: 'int' },
    { name: 'bytes', type: 'long' },
    { name: 'timestamp', type: 'long' },
  ],
};

export const sessionStatsSchema = {
  type: 'record',
  name: 'SessionStats',
  namespace: 'example.sessionize',
  fields: [
    { name: 'count', type: 'long' },
    { name: 'bytes', type: 'long' },
    { name: 'pages', type: { type: 'array', items: 'string' } },
    { name: 'firstSeen', type: 'long' },
    { name: 'lastSeen', type: 'long' },
  ],
};

export const pageViewSerde: Serde<PageView> = Serdes.Avro<PageView>(pageViewSchema);
export const sessionStatsSerde: Serde<SessionStats> = Serdes.Avro<SessionStats>(sessionStatsSchema);
export const sessionKeySerde: Serde<Windowed<string>> = WindowedSerdes.sessionWindowed(Serdes.String());

export const emptyStats = (): SessionStats => ({
  count: 0,
  bytes: 0,
  pages: [],
  firstSeen: Number.MAX_SAFE_INTEGER,
  lastSeen: 0,
});

export function addView(stats: SessionStats, view: PageView): SessionStats {
  return {
    count: stats.count + 1,
    bytes: stats.bytes + view.bytes,
    pages: stats.pages.includes(view.page) ? stats.pages : [...stats.pages, view.page].sort(),
    firstSeen: Math.min(stats.firstSeen, view.timestamp),
    lastSeen: Math.max(stats.lastSeen, view.timestamp),
  };
}

/** Two sorted lists of distinct pages as one: merging runs once per record, so no Set and no sort. */
function unionOfSorted(a: readonly string[], b: readonly string[]): string[] {
  if (a.length === 0) return b as string[];
  if (b.length === 0) return a as string[];
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) i++;
    else if (x < y) {
      out.push(x);
      i++;
      continue;
    }
    out.push(y);
    j++;
  }
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

export function mergeStats(left: SessionStats, right: SessionStats): SessionStats {
  return {
    count: left.count + right.count,
    bytes: left.bytes + right.bytes,
    pages: unionOfSorted(left.pages, right.pages),
    firstSeen: Math.min(left.firstSeen, right.firstSeen),
    lastSeen: Math.max(left.lastSeen, right.lastSeen),
  };
}

export interface SessionizeOptions {
  applicationId?: string;
  inputTopic?: string;
  outputTopic?: string;
  /**
   * Default 1 minute. When a backlog is replayed faster than real time, upstream tasks run ahead of each
   * other by hours of event time and a short grace drops records as late; replays need a grace that covers
   * that skew.
   */
  graceMs?: number;
  /** The aggregate's serde (store and output); default the Avro `SessionStats` serde. */
  statsSerde?: Serde<SessionStats>;
  /** The page views' serde (input and repartition); default Avro, `Serdes.Json()` for the JSON variant. */
  viewSerde?: Serde<PageView>;
}

export function buildSessionizeTopology(options: SessionizeOptions = {}): Topology {
  const viewSerde = options.viewSerde ?? pageViewSerde;
  const builder = new StreamsBuilder();
  builder
    .stream(
      options.inputTopic ?? 'page-views',
      // Sessions are cut on the time the server reported the view, whatever time the record was produced.
      Consumed.with(Serdes.String(), viewSerde).withTimestampExtractor((record) => record.value.timestamp),
    )
    .filter((_key, view) => view.status < 500)
    .selectKey((_key, view) => view.userId)
    .groupByKey(Grouped.with(Serdes.String(), viewSerde))
    .windowedBy(SessionWindows.ofInactivityGapAndGrace(INACTIVITY_GAP_MS, options.graceMs ?? GRACE_MS))
    .aggregate(
      emptyStats,
      (_user, view, stats) => addView(stats, view),
      (_user, left, right) => mergeStats(left, right),
      Materialized.as<string, SessionStats>('session-stats').withValueSerde(options.statsSerde ?? sessionStatsSerde),
    )
    .toStream()
    .to(options.outputTopic ?? 'session-stats', Produced.with(sessionKeySerde, options.statsSerde ?? sessionStatsSerde));
  return builder.build({ applicationId: options.applicationId ?? 'sessionize' });
}

/** The topology with its default names, for `kstreams describe examples/sessionize/topology.ts`. */
export default buildSessionizeTopology;
