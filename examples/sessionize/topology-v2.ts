/**
 * Version 2 of the sessionization app, to show an upgrade that keeps state (see README, "Upgrading an
 * application"): the session aggregate gains a field with a default (`notFound`, views answered 404), and a
 * new filter drops health checks. Store and topic names are unchanged, so v2 finds v1's state: sessions
 * open under v1 continue under v2, their old aggregates read with `notFound: 0`.
 *
 *   kstreams diff examples/sessionize/topology.ts examples/sessionize/topology-v2.ts
 */
import { Consumed, Grouped, Materialized, Produced, Serdes, SessionWindows, StreamsBuilder, type Serde, type Topology } from '../../src/index.js';
import { GRACE_MS, INACTIVITY_GAP_MS, addView, mergeStats, pageViewSerde, sessionStatsSchema, type PageView, type SessionStats, type SessionizeOptions } from './topology.js';
import { sessionKeySerde } from './topology.js';

export interface SessionStatsV2 extends SessionStats {
  notFound: number;
}

export const sessionStatsV2Schema = {
  ...sessionStatsSchema,
  fields: [...sessionStatsSchema.fields, { name: 'notFound', type: 'long', default: 0 }],
};

export function buildSessionizeTopologyV2(options: SessionizeOptions = {}): Topology {
  // A serde per topology: the old schemas it learns come from this application's own stores and changelogs.
  const statsSerde: Serde<SessionStatsV2> = Serdes.Avro<SessionStatsV2>(sessionStatsV2Schema);
  const builder = new StreamsBuilder();
  builder
    .stream(options.inputTopic ?? 'page-views', Consumed.with(Serdes.String(), pageViewSerde).withTimestampExtractor((r) => r.value.timestamp))
    .filter((_key, view) => view.status < 500)
    .filterNot((_key, view) => view.page.startsWith('/internal/'))
    .selectKey((_key, view) => view.userId)
    .groupByKey(Grouped.with(Serdes.String(), pageViewSerde))
    .windowedBy(SessionWindows.ofInactivityGapAndGrace(INACTIVITY_GAP_MS, options.graceMs ?? GRACE_MS))
    .aggregate(
      (): SessionStatsV2 => ({ count: 0, bytes: 0, pages: [], firstSeen: Number.MAX_SAFE_INTEGER, lastSeen: 0, notFound: 0 }),
      (_user, view: PageView, stats) => ({ ...addView(stats, view), notFound: stats.notFound + (view.status === 404 ? 1 : 0) }),
      (_user, left, right) => ({ ...mergeStats(left, right), notFound: left.notFound + right.notFound }),
      Materialized.as<string, SessionStatsV2>('session-stats').withValueSerde(statsSerde),
    )
    .toStream()
    .to(options.outputTopic ?? 'session-stats', Produced.with(sessionKeySerde, statsSerde));
  return builder.build({ applicationId: options.applicationId ?? 'sessionize' });
}

export default buildSessionizeTopologyV2;
