import { StreamsError } from '../../errors/errors.js';
import type { EntryJson, SessionJson, WindowJson } from './store-reads.js';

export type { EntryJson, SessionJson, WindowJson };

/** Where a `QueryClient` sends its requests, and how. */
export interface QueryClientOptions {
  /** Any instance's query server (`http://host:port`), or several: the next one is tried when one cannot be reached. */
  readonly baseUrl: string | readonly string[];
  /** The bearer token the servers expect (`queryServer.token`). */
  readonly token?: string;
  /** How many times a 503 (rebalance, restore) is retried after its `Retry-After`; default 5. */
  readonly retries?: number;
  /** Longest wait for one answer; default 10 000 ms. */
  readonly timeoutMs?: number;
}

/** Options of one read. */
export interface ReadOptions {
  /** Accept an answer from a standby replica or a restoring task (it says its lag); default false. */
  readonly stale?: boolean;
}

/** What every answer says about where it came from. */
export interface AnswerSource {
  /** The instance whose stores answered (`host:port`). */
  readonly answeredBy: string;
  /** True when a copy that may be behind answered (only with `stale: true`). */
  readonly stale: boolean;
  /** For a stale answer: `standby` (a replica) or `restoring` (an active task still restoring). */
  readonly source?: 'standby' | 'restoring';
  /** For a stale answer: changelog records the copy was behind at its last catch-up. */
  readonly lag?: number;
  /** The task that holds the key (not for global stores). */
  readonly taskId?: string;
}

/** The value of a key. */
export interface KeyAnswer<V> extends AnswerSource {
  /** The key's value. */
  readonly value: V;
  /** The time of its last update, where the store keeps one. */
  readonly timestamp?: number;
}

/** The sessions of a key, by end time. */
export interface SessionsAnswer<V> extends AnswerSource {
  /** The sessions (none: the key has none). */
  readonly sessions: Array<SessionJson<V>>;
}

/** The windows of a key, by start time. */
export interface WindowsAnswer<V> extends AnswerSource {
  /** The windows (none: the key has none in that range). */
  readonly windows: Array<WindowJson<V>>;
}

/** One page of a range of a key-value store, in key-byte order; `next` is the cursor of the following page. */
export interface RangePage<K, V> {
  /** The instance that merged the page. */
  readonly answeredBy: string;
  /** True when a copy that may be behind answered for some partition (only with `stale: true`). */
  readonly stale: boolean;
  /** The page's entries. */
  readonly entries: Array<EntryJson<K, V>>;
  /** The cursor of the next page; absent on the last one. */
  readonly next?: string;
}

/** Bounds and paging of a range read. Keys are given as the query server reads them (see README). */
export interface RangeOptions extends ReadOptions {
  /** Keys at or after this one. */
  readonly from?: unknown;
  /** Keys at or before this one. */
  readonly to?: unknown;
  /** Keys whose serialized bytes start with this key's. */
  readonly prefix?: unknown;
  /** Entries per page (at most the server's `maxLimit`); default 100. */
  readonly limit?: number;
  /** The `next` of the previous page. */
  readonly cursor?: string;
}

/** A query the server refused or could not answer: its HTTP status, its error code and message. */
export class QueryClientError extends StreamsError {
  constructor(
    /** The HTTP status (0: no server could be reached). */
    readonly status: number,
    /** The server's error code (`unknown_store`, `bad_key`, `unavailable`, …). */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A key as the server reads it from a URL: strings as they are, anything else as JSON. */
function keyText(key: unknown): string {
  return typeof key === 'string' ? key : JSON.stringify(key);
}

/**
 * A typed client of the query server (`queryServer` in the config), for TypeScript callers:
 *
 * ```ts
 * const client = new QueryClient({ baseUrl: 'http://127.0.0.1:8080' });
 * const { sessions } = await client.sessions<SessionStats>('session-stats', 'user-42');
 * ```
 *
 * Any instance answers any key (it forwards to the owner). A 503 (the group rebalances, a task restores) is
 * retried after its `Retry-After`, up to `retries` times; other refusals throw a {@link QueryClientError}.
 */
export class QueryClient {
  private readonly bases: string[];
  private next = 0;

  constructor(private readonly options: QueryClientOptions) {
    this.bases = (typeof options.baseUrl === 'string' ? [options.baseUrl] : [...options.baseUrl]).map((b) => b.replace(/\/+$/, ''));
    if (this.bases.length === 0) throw new StreamsError('QueryClient needs at least one baseUrl');
  }

  /** The value of `key` in a key-value store; undefined when it has none. */
  async get<V>(store: string, key: unknown, options: ReadOptions = {}): Promise<KeyAnswer<V> | undefined> {
    try {
      return await this.request<KeyAnswer<V>>(`/stores/${encodeURIComponent(store)}/keys/${encodeURIComponent(keyText(key))}`, { stale: options.stale });
    } catch (err) {
      if (err instanceof QueryClientError && err.code === 'key_not_found') return undefined;
      throw err;
    }
  }

  /** The sessions of `key` in a session store; with `from`/`to`, those ending at or after `from` and starting at or before `to`. */
  sessions<V>(store: string, key: unknown, options: ReadOptions & { from?: number; to?: number } = {}): Promise<SessionsAnswer<V>> {
    return this.request(`/stores/${encodeURIComponent(store)}/sessions/${encodeURIComponent(keyText(key))}`, options);
  }

  /** The windows of `key` in a window store whose start is in [from, to]. */
  windows<V>(store: string, key: unknown, options: ReadOptions & { from?: number; to?: number } = {}): Promise<WindowsAnswer<V>> {
    return this.request(`/stores/${encodeURIComponent(store)}/windows/${encodeURIComponent(keyText(key))}`, options);
  }

  /** One page of a key-value store's entries (over every instance), in key-byte order. */
  range<K, V>(store: string, options: RangeOptions = {}): Promise<RangePage<K, V>> {
    const { from, to, prefix, ...rest } = options;
    return this.request(`/stores/${encodeURIComponent(store)}/range`, {
      ...rest,
      from: from === undefined ? undefined : keyText(from),
      to: to === undefined ? undefined : keyText(to),
      prefix: prefix === undefined ? undefined : keyText(prefix),
    });
  }

  /** Every entry of a range, page after page. */
  async *rangeAll<K, V>(store: string, options: Omit<RangeOptions, 'cursor'> = {}): AsyncGenerator<EntryJson<K, V>> {
    let cursor: string | undefined;
    do {
      const page: RangePage<K, V> = await this.range<K, V>(store, { ...options, cursor });
      yield* page.entries;
      cursor = page.next;
    } while (cursor !== undefined);
  }

  private async request<T>(path: string, params: object): Promise<T> {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(params) as Array<[string, string | number | boolean | undefined]>) {
      if (value !== undefined && value !== false) query.set(name, String(value));
    }
    const url = query.size === 0 ? path : `${path}?${query.toString()}`;
    const retries = this.options.retries ?? 5;
    for (let attempt = 0; ; attempt++) {
      const base = this.bases[this.next % this.bases.length]!;
      let res: Response;
      try {
        res = await fetch(`${base}${url}`, {
          headers: { accept: 'application/json', ...(this.options.token === undefined ? {} : { authorization: `Bearer ${this.options.token}` }) },
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
        });
      } catch (err) {
        this.next++;
        if (attempt < retries + this.bases.length - 1) continue;
        throw new QueryClientError(0, 'unreachable', `No query server answered (last: ${base}): ${(err as Error).message}`);
      }
      const body = (await res.json().catch(() => ({}))) as { error?: string; message?: string };
      if (res.ok) return body as T;
      if (res.status === 503 && attempt < retries) {
        const seconds = Math.min(Number(res.headers.get('retry-after') ?? 1) || 1, 10);
        await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
        continue;
      }
      throw new QueryClientError(res.status, body.error ?? 'http_error', body.message ?? `${base}${url} answered ${res.status}`);
    }
  }
}
