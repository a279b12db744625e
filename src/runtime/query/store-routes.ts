import type { ResolvedQueryServerOptions } from '../../config/query-server-options.js';
import type { StoreDefinition, StoreType } from '../../processor/store-definition.js';
import type { ManagedStore } from '../../stores/managed-store.js';
import type { QueryBackend } from './query-backend.js';
import { decodeKey, integerParam, QueryError } from './query-json.js';
import type { ForwardedAnswer } from './forward.js';
import { readKey, readSessions, readWindows, scanRange, type RangeBounds, type RangePart } from './store-reads.js';

/** A request as the store routes see it. */
export interface RouteRequest {
  readonly params: Readonly<Record<string, string | undefined>>;
  readonly query: Readonly<Record<string, string | undefined>>;
  /** The instance that forwarded it here, if it was forwarded (then it is never forwarded again). */
  readonly forwardedBy: string | undefined;
  /** The path and query as received, to forward as is. */
  readonly pathAndQuery: string;
}

/** A JSON answer, or another instance's answer relayed as is. */
export type RouteAnswer = { readonly status: number; readonly json: unknown } | { readonly relayed: ForwardedAnswer; readonly from: string };

/** Sends a request to another instance (see QueryServer): the request's own headers plus the forwarding marker. */
export type Forwarder = (target: string, pathAndQuery: string) => Promise<ForwardedAnswer>;

const NEVER = Number.MAX_SAFE_INTEGER;

/**
 * The store reads of the query server: find the task of the key, answer from a local copy (the active task,
 * or with `stale=true` a standby replica or a restoring task, saying its lag), or forward once to who holds it.
 * Never answers from a copy that is not the owner's unless the caller allowed stale reads.
 */
export class StoreRoutes {
  constructor(
    private readonly backend: QueryBackend,
    private readonly options: ResolvedQueryServerOptions,
    private readonly forward: Forwarder,
  ) {}

  /** `GET /stores`: the stores of the topology, their kinds and serdes. */
  list(): RouteAnswer {
    const stores = [...this.backend.topology.stores.values()].map((d) => ({
      name: d.name,
      type: d.type,
      keySerde: (d.keySerde).name,
      valueSerde: (d.valueSerde).name,
    }));
    return { status: 200, json: { stores } };
  }

  /** `GET /stores/:store/keys/:key`: the value of a key of a key-value store. */
  get(req: RouteRequest): Promise<RouteAnswer> {
    return this.keyQuery(req, 'keyValue', (store, key) => {
      const found = readKey(store, key);
      if (found === undefined) return { status: 404, json: { error: 'key_not_found', message: 'The store has no value for this key' } };
      return { status: 200, json: found };
    });
  }

  /** `GET /stores/:store/sessions/:key[?from=&to=]`: the sessions of a key of a session store. */
  sessions(req: RouteRequest): Promise<RouteAnswer> {
    const from = req.query.from === undefined ? undefined : integerParam(req.query, 'from', 0, 0, NEVER);
    const to = req.query.to === undefined ? undefined : integerParam(req.query, 'to', NEVER, 0, NEVER);
    return this.keyQuery(req, 'session', (store, key) => ({ status: 200, json: { sessions: readSessions(store, key, from, to) } }));
  }

  /** `GET /stores/:store/windows/:key?from=&to=`: the windows of a key of a window store, by start time. */
  windows(req: RouteRequest): Promise<RouteAnswer> {
    const from = integerParam(req.query, 'from', 0, 0, NEVER);
    const to = integerParam(req.query, 'to', NEVER, 0, NEVER);
    return this.keyQuery(req, 'window', (store, key) => ({ status: 200, json: { windows: readWindows(store, key, from, to) } }));
  }

  private definition(name: string | undefined, type: StoreType): StoreDefinition {
    const definition = name === undefined ? undefined : this.backend.topology.stores.get(name);
    if (definition === undefined) {
      const known = [...this.backend.topology.stores.keys()].join(', ') || 'none';
      throw new QueryError(404, 'unknown_store', `The topology has no store '${name ?? ''}' (it has: ${known})`);
    }
    if (definition.type !== type) throw new QueryError(400, 'wrong_store_type', `Store '${definition.name}' is a ${definition.type} store, not a ${type} store`);
    return definition;
  }

  private unavailable(reason: string): QueryError {
    return new QueryError(503, 'unavailable', reason, this.options.retryAfterSeconds);
  }

  private async keyQuery(req: RouteRequest, type: StoreType, read: (store: ManagedStore, key: unknown) => { status: number; json: unknown }): Promise<RouteAnswer> {
    const definition = this.definition(req.params.store, type);
    const { key } = decodeKey(req.params.key ?? '', definition.keySerde);
    const stale = req.query.stale === 'true';
    const about = { store: definition.name, key };
    const global = this.backend.globalStore(definition.name);
    if (global !== undefined && 'unavailable' in global) throw this.unavailable(global.unavailable);
    if (global !== undefined) return this.answer(read(global, key), { ...about, stale: false });
    const task = this.backend.taskOfKey(definition.name, key);
    if ('unavailable' in task) throw this.unavailable(task.unavailable);
    const local = this.backend.localStore(definition.name, task.taskId, stale);
    const described = { ...about, taskId: task.taskId };
    if (local.kind === 'active') return this.answer(read(local.store, key), { ...described, stale: false });
    if (local.kind === 'stale') {
      // A copy that is behind (or whose lag is unknown: a replica just opened) answers only when the owner cannot.
      if (local.lag !== 0 && req.forwardedBy === undefined) {
        const current = await this.forwardToHolders(task.taskId, false, req.pathAndQuery).catch(() => undefined);
        if (current !== undefined) return current;
      }
      return this.answer(read(local.store, key), { ...described, stale: true, source: local.source, lag: local.lag });
    }
    if (local.kind === 'unavailable') throw this.unavailable(`task ${task.taskId}: ${local.reason}`);
    if (req.forwardedBy !== undefined) {
      // One hop only: the forwarder's view of the group is older than ours; it answers 503 and the caller retries.
      throw this.unavailable(`task ${task.taskId} is not here (${this.backend.self}); the group is moving it`);
    }
    return this.forwardToHolders(task.taskId, stale, req.pathAndQuery);
  }

  private answer(result: { status: number; json: unknown }, about: Record<string, unknown>): RouteAnswer {
    return { status: result.status, json: { ...about, answeredBy: this.backend.self, ...(result.json as object) } };
  }

  /** The owner first, then (stale reads) the replicas; a holder that is gone or busy passes to the next. */
  private async forwardToHolders(taskId: string, stale: boolean, pathAndQuery: string): Promise<RouteAnswer> {
    const holders = await this.backend.holders(taskId);
    const candidates = [holders?.active, ...(stale ? (holders?.standbys ?? []) : [])].filter(
      (c): c is string => c !== undefined && c !== this.backend.self,
    );
    const failures: string[] = [];
    for (const target of candidates) {
      try {
        const answer = await this.forward(target, pathAndQuery);
        if (answer.status !== 503) return { relayed: answer, from: target };
        failures.push(`${target} answered 503`);
      } catch (err) {
        failures.push(`${target}: ${(err as Error).message}`);
      }
    }
    const why = candidates.length === 0 ? 'no instance holds it now (a rebalance)' : failures.join('; ');
    throw this.unavailable(`task ${taskId}: ${why}`);
  }

  /**
   * `GET /stores/:store/range[?from=&to=|prefix=][&limit=][&cursor=]`: a page of a key-value store's entries
   * in key-byte order, over all its partitions: each instance scans the tasks it holds, this one merges.
   * `next` (when more follow) is the cursor of the next page.
   */
  async range(req: RouteRequest): Promise<RouteAnswer> {
    const definition = this.definition(req.params.store, 'keyValue');
    const serde = definition.keySerde;
    const limit = integerParam(req.query, 'limit', Math.min(100, this.options.maxLimit), 1, this.options.maxLimit);
    const stale = req.query.stale === 'true';
    const bytesOf = (name: string): Buffer | undefined => (req.query[name] === undefined ? undefined : decodeKey(req.query[name], serde, name).bytes);
    let after: Buffer | undefined;
    if (req.query.cursor !== undefined) {
      if (!/^[A-Za-z0-9_-]*$/.test(req.query.cursor)) throw new QueryError(400, 'bad_parameter', "The parameter 'cursor' is not a cursor this server gave");
      after = Buffer.from(req.query.cursor, 'base64url');
    }
    const bounds: RangeBounds = { from: bytesOf('from'), to: bytesOf('to'), prefix: bytesOf('prefix'), after };
    const global = this.backend.globalStore(definition.name);
    if (global !== undefined && 'unavailable' in global) throw this.unavailable(global.unavailable);
    const parts: RangePart[] = [];
    let staleSeen = false;
    if (global !== undefined) {
      parts.push(await this.scan(global, bounds, limit));
    } else {
      const all = this.backend.tasksOfStore(definition.name);
      if (!Array.isArray(all)) throw this.unavailable(all.unavailable);
      const tasks = req.query.tasks === undefined ? all : req.query.tasks.split(',').filter((t) => all.includes(t));
      const remote = new Map<string, string[]>();
      for (const taskId of tasks) {
        const local = this.backend.localStore(definition.name, taskId, stale);
        if (local.kind === 'active' || local.kind === 'stale') {
          staleSeen ||= local.kind === 'stale';
          parts.push(await this.scan(local.store, bounds, limit));
        } else if (local.kind === 'unavailable') {
          throw this.unavailable(`task ${taskId}: ${local.reason}`);
        } else if (req.forwardedBy !== undefined) {
          throw this.unavailable(`task ${taskId} is not here (${this.backend.self}); the group is moving it`);
        } else {
          const holders = await this.backend.holders(taskId);
          const target = holders?.active ?? (stale ? holders?.standbys[0] : undefined);
          if (target === undefined || target === this.backend.self) throw this.unavailable(`task ${taskId}: no instance holds it now (a rebalance)`);
          remote.set(target, [...(remote.get(target) ?? []), taskId]);
        }
      }
      for (const [target, taskIds] of remote) {
        const part = await this.remoteRange(target, definition.name, req.query, limit, taskIds);
        staleSeen ||= part.stale;
        parts.push(part);
      }
    }
    const merged = parts.flatMap((p) => p.entries).sort((a, b) => Buffer.compare(a.keyBytes, b.keyBytes));
    const page = merged.slice(0, limit);
    const more = merged.length > limit || parts.some((p) => p.more);
    const last = page.at(-1);
    const forwarded = req.forwardedBy !== undefined;
    return {
      status: 200,
      json: {
        store: definition.name,
        answeredBy: this.backend.self,
        stale: staleSeen,
        entries: page.map((e) => (forwarded ? { key: e.key, value: e.value, keyBytes: e.keyBytes.toString('base64url') } : { key: e.key, value: e.value })),
        ...(more && last !== undefined ? { next: last.keyBytes.toString('base64url') } : {}),
      },
    };
  }

  private async scan(store: ManagedStore, bounds: RangeBounds, limit: number): Promise<RangePart> {
    try {
      return await scanRange(store, bounds, limit);
    } catch (err) {
      // The task moved away and its store closed under the scan.
      throw this.unavailable(`the scan of ${store.name} was interrupted: ${(err as Error).message}`);
    }
  }

  private async remoteRange(
    target: string,
    store: string,
    query: RouteRequest['query'],
    limit: number,
    taskIds: readonly string[],
  ): Promise<RangePart & { stale: boolean }> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) if (value !== undefined && name !== 'tasks') params.set(name, value);
    params.set('limit', String(limit));
    params.set('tasks', taskIds.join(','));
    let answer: ForwardedAnswer;
    try {
      answer = await this.forward(target, `/stores/${encodeURIComponent(store)}/range?${params.toString()}`);
    } catch (err) {
      throw this.unavailable(`tasks ${taskIds.join(', ')} at ${target}: ${(err as Error).message}`);
    }
    if (answer.status !== 200) throw this.unavailable(`tasks ${taskIds.join(', ')}: ${target} answered ${answer.status}`);
    const body = JSON.parse(answer.body.toString('utf8')) as { entries: Array<{ key: unknown; value: unknown; keyBytes: string }>; next?: string; stale: boolean };
    return {
      entries: body.entries.map((e) => ({ key: e.key, value: e.value, keyBytes: Buffer.from(e.keyBytes, 'base64url') })),
      more: body.next !== undefined,
      stale: body.stale,
    };
  }
}
