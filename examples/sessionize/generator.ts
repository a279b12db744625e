/**
 * Synthetic web-server access events: many users, sessions of 1–60 page views with gaps under the
 * inactivity gap inside a session and over it between sessions, in roughly time order as a server logs them
 * (up to `maxDisorderMs` out of order), and a few malformed lines. Deterministic for a seed.
 */
import { INACTIVITY_GAP_MS, type PageView } from './topology.js';

/** A small deterministic PRNG (mulberry32). */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GeneratedEvent {
  readonly view: PageView;
  /** A malformed line: its bytes are not a valid PageView and must be skipped, never counted. */
  readonly malformed: boolean;
}

export interface GeneratorOptions {
  events: number;
  users?: number;
  seed?: number;
  /** Event time of the first views; default three days ago (see `recentStartTime`). */
  startTime?: number;
  /** Fraction of malformed records, default 0.001. */
  malformedRate?: number;
  /** How far out of order a record may be, default 20 s. */
  maxDisorderMs?: number;
  /**
   * Fraction of a user's sessions followed by a "bridging" view, default 0: the next session starts less
   * than two gaps later, and a view between the two arrives late (after `bridgeDelayMs` of the second
   * session), merging two sessions that were already stored and logged into one.
   */
  bridgeRate?: number;
  /** How long after the second session's start a bridging view arrives, default 10 min of event time. */
  bridgeDelayMs?: number;
  /**
   * Fraction of views reported late, default 0: each arrives up to `lateDelayMs` of event time after it
   * happened, usually inside its session as already stored, so the session is put back with the same window.
   */
  lateRate?: number;
  /** Default 2 min. */
  lateDelayMs?: number;
}

const PAGES = ['/', '/search', '/product', '/cart', '/checkout', '/help', '/account', '/blog', '/about', '/pricing'];

/**
 * Three days ago, on the hour. Generated data spans hours of event time, and brokers delete records older
 * than a topic's retention (7 days by default) by their timestamps: data stamped months ago would vanish
 * from the input and the changelogs under the application's feet.
 */
export function recentStartTime(now = Date.now()): number {
  return Math.floor(now / 3600_000) * 3600_000 - 3 * 86_400_000;
}

export function generatePageViews(options: GeneratorOptions): GeneratedEvent[] {
  const rand = random(options.seed ?? 42);
  const users = options.users ?? Math.max(10, Math.round(options.events / 20));
  const start = options.startTime ?? recentStartTime();
  const disorder = options.maxDisorderMs ?? 20_000;
  const malformedRate = options.malformedRate ?? 0.001;
  // Each user has a next event time and the views left in its current session.
  const next = new Float64Array(users);
  const left = new Int32Array(users);
  for (let u = 0; u < users; u++) {
    next[u] = start + rand() * 2 * 3600_000;
    left[u] = 1 + Math.floor(rand() * 60);
  }
  const bridgeRate = options.bridgeRate ?? 0;
  const bridgeDelay = options.bridgeDelayMs ?? 10 * 60_000;
  const lateRate = options.lateRate ?? 0;
  const lateDelay = options.lateDelayMs ?? 2 * 60_000;
  const late: Array<{ arrival: number; event: GeneratedEvent }> = [];
  const events: GeneratedEvent[] = [];
  while (events.length + late.length < options.events) {
    // Pick the user whose next view is earliest among a few random candidates: roughly time-ordered.
    let u = Math.floor(rand() * users);
    for (let k = 0; k < 3; k++) {
      const c = Math.floor(rand() * users);
      if (next[c]! < next[u]!) u = c;
    }
    const timestamp = Math.round(next[u]!);
    const status = rand() < 0.02 ? 503 : rand() < 0.05 ? 404 : 200;
    const event: GeneratedEvent = {
      view: {
        userId: `user-${u}`,
        page: PAGES[Math.floor(rand() * PAGES.length)]!,
        status,
        bytes: 200 + Math.floor(rand() * 20_000),
        timestamp,
      },
      malformed: rand() < malformedRate,
    };
    if (lateRate > 0 && rand() < lateRate) late.push({ arrival: timestamp + rand() * lateDelay, event });
    else events.push(event);
    if (--left[u]! > 0) {
      next[u] = timestamp + 1000 + rand() * (INACTIVITY_GAP_MS / 3);
    } else if (bridgeRate > 0 && rand() < bridgeRate) {
      // The next session starts within two gaps; a view halfway between arrives late and joins them.
      next[u] = timestamp + INACTIVITY_GAP_MS + 60_000 + rand() * (INACTIVITY_GAP_MS - 120_000);
      left[u] = 1 + Math.floor(rand() * 60);
      const view = { ...event.view, timestamp: Math.round((timestamp + next[u]!) / 2), status: 200 };
      late.push({ arrival: next[u]! + bridgeDelay, event: { view, malformed: false } });
    } else {
      next[u] = timestamp + INACTIVITY_GAP_MS + 60_000 + rand() * 4 * 3600_000;
      left[u] = 1 + Math.floor(rand() * 60);
    }
  }
  // A server's log is mostly ordered; shift some records back a little.
  events.sort((a, b) => a.view.timestamp - b.view.timestamp);
  for (let i = 1; i < events.length; i++) {
    if (rand() < 0.05) {
      const j = i - 1 - Math.floor(rand() * 20);
      if (j >= 0 && events[i]!.view.timestamp - events[j]!.view.timestamp < disorder) {
        [events[i], events[j]] = [events[j]!, events[i]!];
      }
    }
  }
  return late.length === 0 ? events : withLateArrivals(events, late);
}

/** Inserts each late event before the first event whose time is past its arrival time. */
function withLateArrivals(events: GeneratedEvent[], late: Array<{ arrival: number; event: GeneratedEvent }>): GeneratedEvent[] {
  late.sort((a, b) => a.arrival - b.arrival);
  const out: GeneratedEvent[] = [];
  let next = 0;
  for (const e of events) {
    while (next < late.length && late[next]!.arrival <= e.view.timestamp) out.push(late[next++]!.event);
    out.push(e);
  }
  while (next < late.length) out.push(late[next++]!.event);
  return out;
}

/** One session as the oracle computes it offline. */
export interface OracleSession {
  userId: string;
  start: number;
  end: number;
  count: number;
  bytes: number;
  pages: string[];
}

/**
 * The sessions the topology must produce, computed offline: per user, views with status < 500 sorted by
 * time, a new session whenever the gap to the previous view exceeds the inactivity gap.
 */
export function oracleSessions(events: readonly GeneratedEvent[], gapMs = INACTIVITY_GAP_MS): Map<string, OracleSession> {
  const byUser = new Map<string, PageView[]>();
  for (const { view, malformed } of events) {
    if (malformed || view.status >= 500) continue;
    const list = byUser.get(view.userId);
    if (list === undefined) byUser.set(view.userId, [view]);
    else list.push(view);
  }
  const sessions = new Map<string, OracleSession>();
  for (const [userId, views] of byUser) {
    views.sort((a, b) => a.timestamp - b.timestamp);
    let current: OracleSession | undefined;
    const close = () => {
      if (current !== undefined) sessions.set(`${userId}@${current.start}-${current.end}`, current);
    };
    for (const v of views) {
      if (current === undefined || v.timestamp - current.end > gapMs) {
        close();
        current = { userId, start: v.timestamp, end: v.timestamp, count: 0, bytes: 0, pages: [] };
      }
      current.end = v.timestamp;
      current.count++;
      current.bytes += v.bytes;
      if (!current.pages.includes(v.page)) current.pages = [...current.pages, v.page].sort();
    }
    close();
  }
  return sessions;
}
