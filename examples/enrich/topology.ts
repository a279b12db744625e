/**
 * Enriched sessionization: page views joined with a users table before they are sessionized, so that each
 * session carries the user's plan and country.
 *
 * users (key: user id, value: JSON User; a null value deletes the user) -> table
 * page-views (key: anything, value: JSON PageView)
 *   -> re-key by user (repartitioned, co-partitioned with users) -> leftJoin(users): plan and country, or
 *      'unknown' for a user not in the table -> session windows (30 min gap, 1 min grace)
 *   -> views, pages, plan and country -> enriched-sessions (key: session-windowed user id)
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
  type Topology,
} from '../../src/index.js';

export interface User {
  plan: string;
  country: string;
}

export interface PageView {
  userId: string;
  page: string;
  /** Event time, epoch ms (also the Kafka record timestamp). */
  timestamp: number;
}

export interface EnrichedView extends PageView, User {}

export interface EnrichedSession {
  views: number;
  pages: string[];
  /** The user's plan and country as of the session's latest view. */
  plan: string;
  country: string;
}

export const INACTIVITY_GAP_MS = 30 * 60_000;
export const GRACE_MS = 60_000;
const UNKNOWN: User = { plan: 'unknown', country: 'unknown' };

export const userSerde = Serdes.Json<User>();
export const pageViewSerde = Serdes.Json<PageView>();
export const sessionSerde = Serdes.Json<EnrichedSession>();
export const sessionKeySerde = WindowedSerdes.sessionWindowed(Serdes.String());

export function buildEnrichTopology(applicationId = 'enrich', users = 'users', views = 'page-views', output = 'enriched-sessions'): Topology {
  const builder = new StreamsBuilder();
  const table = builder.table(users, Consumed.with(Serdes.String(), userSerde), Materialized.as('users'));
  builder
    .stream(views, Consumed.with(Serdes.String(), pageViewSerde))
    .selectKey((_k, view) => view.userId)
    .leftJoin(table, (view, user): EnrichedView => ({ ...view, ...(user ?? UNKNOWN) }))
    .groupByKey(Grouped.with(Serdes.String(), Serdes.Json<EnrichedView>()).withName('enriched-views'))
    .windowedBy(SessionWindows.ofInactivityGapAndGrace(INACTIVITY_GAP_MS, GRACE_MS))
    .aggregate(
      (): EnrichedSession => ({ views: 0, pages: [], plan: UNKNOWN.plan, country: UNKNOWN.country }),
      (_user, view, session) => ({
        views: session.views + 1,
        pages: session.pages.includes(view.page) ? session.pages : [...session.pages, view.page],
        plan: view.plan,
        country: view.country,
      }),
      (_user, left, right) => ({
        views: left.views + right.views,
        pages: [...new Set([...left.pages, ...right.pages])],
        plan: right.plan,
        country: right.country,
      }),
      Materialized.as<string, EnrichedSession>('enriched-sessions-store').withValueSerde(sessionSerde),
    )
    .toStream()
    .to(output, Produced.with(sessionKeySerde, sessionSerde));
  return builder.build({ applicationId });
}
