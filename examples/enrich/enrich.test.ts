/** The enrichment example, unit-tested with the TopologyTestDriver against a small oracle: no broker needed. */
import { describe, expect, it } from 'vitest';
import { Serdes, TopologyTestDriver } from '../../src/index.js';
import { INACTIVITY_GAP_MS, buildEnrichTopology, pageViewSerde, sessionKeySerde, sessionSerde, userSerde, type PageView, type User } from './topology.js';

const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;

/**
 * The oracle: sessions per user from views in time order (a gap over 30 minutes starts a new one), each with
 * the plan and country the users table held when the session's last view arrived.
 */
function oracle(events: ReadonlyArray<{ user?: [string, User | null]; view?: PageView }>) {
  const users = new Map<string, User>();
  const sessions = new Map<string, Array<{ start: number; end: number; views: number; pages: Set<string>; user: User }>>();
  for (const event of events) {
    if (event.user !== undefined) {
      const [id, user] = event.user;
      if (user === null) users.delete(id);
      else users.set(id, user);
      continue;
    }
    const view = event.view!;
    const list = sessions.get(view.userId) ?? [];
    sessions.set(view.userId, list);
    const last = list.at(-1);
    const user = users.get(view.userId) ?? { plan: 'unknown', country: 'unknown' };
    if (last !== undefined && view.timestamp - last.end <= INACTIVITY_GAP_MS) {
      last.end = view.timestamp;
      last.views++;
      last.pages.add(view.page);
      last.user = user;
    } else {
      list.push({ start: view.timestamp, end: view.timestamp, views: 1, pages: new Set([view.page]), user });
    }
  }
  const result = new Map<string, { views: number; pages: string[]; plan: string; country: string }>();
  for (const [id, list] of sessions) {
    for (const s of list) result.set(`${id}@${s.start}-${s.end}`, { views: s.views, pages: [...s.pages], ...s.user });
  }
  return result;
}

describe('enrich example', () => {
  it('sessionizes page views enriched with the users table, as the oracle does', () => {
    const driver = new TopologyTestDriver(buildEnrichTopology());
    const users = driver.createInputTopic('users', Serdes.String(), userSerde);
    const views = driver.createInputTopic('page-views', Serdes.String(), pageViewSerde);
    const output = driver.createOutputTopic('enriched-sessions', sessionKeySerde, sessionSerde);
    // Users change plan, appear late, and one is deleted; views in time order, some 40 minutes apart.
    const events: Array<{ user?: [string, User | null]; view?: PageView }> = [];
    const ids = ['ann', 'bob', 'cy'];
    let minute = 0;
    for (let i = 0; i < 60; i++) {
      const id = ids[i % 3]!;
      if (i % 7 === 0) events.push({ user: [id, i === 42 ? null : { plan: i % 2 === 0 ? 'pro' : 'free', country: ['NL', 'DE', 'FR'][i % 3]! }] });
      minute += i % 11 === 0 ? 40 : 3;
      events.push({ view: { userId: id, page: `/p${i % 4}`, timestamp: T0 + minute * MINUTE } });
    }
    for (const event of events) {
      if (event.user !== undefined) users.pipeInput(event.user[0], event.user[1], T0);
      else views.pipeInput(`server-${event.view!.userId}`, event.view!, event.view!.timestamp);
    }
    const latest = new Map<string, unknown>();
    for (const { key, value } of output.readKeyValuesToList()) latest.set(`${key!.key}@${key!.window.start}-${key!.window.end}`, value);
    const finals = new Map([...latest].filter(([, v]) => v !== null));
    expect(finals).toEqual(oracle(events));
    expect(finals.size).toBeGreaterThan(10);
  });
});
