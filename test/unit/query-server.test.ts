/**
 * The query server without Kafka: two servers over in-memory stores, each owning some tasks (a fixed
 * placement), answer any key (forwarding once to the owner), page ranges over both, refuse bad requests
 * with clear 4xx JSON, answer 503 with Retry-After when a task cannot answer, and read standby copies only
 * when the caller allows stale reads.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Consumed,
  Materialized,
  QueryClient,
  QueryClientError,
  Serdes,
  SessionWindows,
  StreamsBuilder,
  TimeWindows,
  type QueryServerOptions,
  type Topology,
} from '../../src/index.js';
import { resolveConfig } from '../../src/config/streams-config.js';
import { InMemoryBytesStore } from '../../src/stores/bytes-store.js';
import { keyValueStoreOf, sessionStoreOf, windowStoreOf, type ManagedStore } from '../../src/stores/managed-store.js';
import { createStore } from '../../src/stores/store-factory.js';
import { taskOfKey } from '../../src/runtime/streams-metadata.js';
import { QueryServer } from '../../src/runtime/query/query-server.js';
import type { GroupMemberInfo, LocalStoreAnswer, QueryBackend, TaskHolders } from '../../src/runtime/query/query-backend.js';
import { consoleLogger } from '../../src/index.js';

const PARTITIONS = 4;

function topology(): Topology {
  const builder = new StreamsBuilder();
  builder
    .stream('views', Consumed.with(Serdes.String(), Serdes.String()))
    .groupByKey()
    .windowedBy(SessionWindows.ofInactivityGapAndGrace(60_000, 0))
    .count(Materialized.as('sessions'));
  builder.stream('counts-in', Consumed.with(Serdes.String(), Serdes.String())).groupByKey().count(Materialized.as('counts'));
  builder.stream('numbers', Consumed.with(Serdes.Long(), Serdes.String())).groupByKey().count(Materialized.as('by-number'));
  builder
    .stream('clicks', Consumed.with(Serdes.String(), Serdes.String()))
    .groupByKey()
    .windowedBy(TimeWindows.ofSizeWithNoGrace(60_000))
    .count(Materialized.as('windows'));
  return builder.build({ applicationId: 'query-test' });
}

/** A store's changes written to its byte store, as a commit does (range scans read the byte store). */
function commit(store: ManagedStore): void {
  void store.bytes.apply(store.flush());
  store.written(store.lastFlush);
}

/** One instance: its tasks' stores (active or standby) and where it believes every task lives. */
class TestBackend implements QueryBackend {
  self = '';
  readonly stores = new Map<string, Map<string, ManagedStore>>();
  readonly standbys = new Set<string>();
  unavailable = new Set<string>();
  holdersOf: (taskId: string) => TaskHolders = () => ({ active: undefined, standbys: [] });
  memberList: GroupMemberInfo[] = [];

  constructor(readonly topology: Topology) {}

  private metadata() {
    return { partitionsBySubtopology: new Map(this.topology.subtopologies.map((s) => [s.id, PARTITIONS])), partitionsByTopic: new Map() };
  }

  taskOfKey(storeName: string, key: unknown) {
    return { taskId: taskOfKey(this.topology, this.metadata() as never, storeName, key).taskId };
  }

  tasksOfStore(storeName: string) {
    const sub = this.topology.subtopologies.find((s) => s.stores.some((d) => d.name === storeName))!;
    return Array.from({ length: PARTITIONS }, (_, p) => `${sub.id}_${p}`);
  }

  globalStore() {
    return undefined;
  }

  /** The store of `name` in task `taskId` here, created on first use. */
  store(taskId: string, name: string): ManagedStore {
    let task = this.stores.get(taskId);
    if (task === undefined) this.stores.set(taskId, (task = new Map<string, ManagedStore>()));
    let store = task.get(name);
    if (store === undefined) task.set(name, (store = createStore(this.topology.stores.get(name)!, new InMemoryBytesStore(), 1 << 20)));
    return store;
  }

  localStore(storeName: string, taskId: string, allowStale: boolean): LocalStoreAnswer {
    // The owner of a task has its stores, empty or not.
    const store = this.holdersOf(taskId).active === this.self ? this.store(taskId, storeName) : this.stores.get(taskId)?.get(storeName);
    if (this.unavailable.has(taskId)) return { kind: 'unavailable', reason: 'it is restoring its state' };
    if (store === undefined) return { kind: 'absent' };
    if (!this.standbys.has(taskId)) return { kind: 'active', store };
    return allowStale ? { kind: 'stale', store, source: 'standby', lag: 3 } : { kind: 'absent' };
  }

  async holders(taskId: string) {
    return this.holdersOf(taskId);
  }

  async localStatus() {
    return { applicationServer: this.self, time: Date.now(), metrics: { state: 'RUNNING', processedTotal: 0, tasks: [] } };
  }

  async members() {
    return this.memberList;
  }
}

const servers: QueryServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(backend: TestBackend, options: QueryServerOptions = {}): Promise<string> {
  const config = resolveConfig({ applicationId: 'query-test', bootstrapServers: ['127.0.0.1:1'], applicationServer: '127.0.0.1:0', queryServer: options });
  const server = new QueryServer(backend, config.queryServer!, consoleLogger());
  servers.push(server);
  const address = await server.listen();
  backend.self = `127.0.0.1:${address.port}`;
  return backend.self;
}

async function get(server: string, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`http://${server}${path}`, { headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

/** Two instances: A owns the even partitions, B the odd ones; each knows the placement. */
async function twoInstances(options: QueryServerOptions = {}) {
  const t = topology();
  const a = new TestBackend(t);
  const b = new TestBackend(t);
  const serverA = await start(a, options);
  const serverB = await start(b, options);
  const ownerOf = (taskId: string) => (Number(taskId.split('_')[1]) % 2 === 0 ? a : b);
  for (const backend of [a, b]) backend.holdersOf = (taskId) => ({ active: ownerOf(taskId).self, standbys: [] });
  const put = {
    session(user: string, start: number, end: number, count: number) {
      const owner = ownerOf(a.taskOfKey('sessions', user).taskId);
      sessionStoreOf(owner.store(a.taskOfKey('sessions', user).taskId, 'sessions')).put({ key: user, window: { start, end } }, count);
    },
    count(key: string, count: number) {
      const taskId = a.taskOfKey('counts', key).taskId;
      const store = ownerOf(taskId).store(taskId, 'counts');
      keyValueStoreOf(store).put(key, count);
      commit(store);
    },
  };
  return { a, b, serverA, serverB, ownerOf, put };
}

describe('query server', () => {
  it('answers any key from any instance: the owner reads it, another forwards once and says who answered', async () => {
    const { a, serverA, serverB, ownerOf, put } = await twoInstances();
    const users = Array.from({ length: 12 }, (_, i) => `user-${i}`);
    users.forEach((u, i) => put.session(u, 1000 * i, 1000 * i + 500, i + 1));
    for (const [i, user] of users.entries()) {
      const owner = ownerOf(a.taskOfKey('sessions', user).taskId).self;
      for (const asked of [serverA, serverB]) {
        const res = await get(asked, `/stores/sessions/sessions/${user}`);
        expect(res.status).toBe(200);
        expect(res.headers.get('x-kstreams-answered-by')).toBe(owner);
        expect(res.body).toMatchObject({ store: 'sessions', key: user, answeredBy: owner, stale: false, sessions: [{ start: 1000 * i, end: 1000 * i + 500, value: i + 1 }] });
        expect(res.headers.get('x-kstreams-forwarded-to')).toBe(asked === owner ? null : owner);
      }
    }
    // A time range: sessions ending at or after `from`, starting at or before `to`.
    put.session('user-0', 5000, 6000, 7);
    const ranged = await get(serverA, '/stores/sessions/sessions/user-0?from=5500&to=9000');
    expect(ranged.body.sessions).toEqual([{ start: 5000, end: 6000, value: 7 }]);
  });

  it('reads key-value and window stores, and pages a range over every instance in key order', async () => {
    const { a, serverA, serverB, ownerOf, put } = await twoInstances();
    const keys = Array.from({ length: 25 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    keys.forEach((k, i) => put.count(k, i));
    expect((await get(serverB, '/stores/counts/keys/k07')).body).toMatchObject({ value: 7 });
    expect((await get(serverB, '/stores/counts/keys/nope')).status).toBe(404);
    const client = new QueryClient({ baseUrl: `http://${serverA}` });
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await client.range<string, number>('counts', { limit: 7, cursor, from: 'k03', to: 'k21' });
      seen.push(...page.entries.map((e) => `${e.key}=${e.value}`));
      cursor = page.next;
      pages++;
    } while (cursor !== undefined);
    expect(seen).toEqual(keys.slice(3, 22).map((k) => `${k}=${Number(k.slice(1))}`));
    expect(pages).toBe(3);
    const prefixed: string[] = [];
    for await (const e of client.rangeAll<string, number>('counts', { prefix: 'k1', limit: 4 })) prefixed.push(e.key);
    expect(prefixed).toEqual(keys.filter((k) => k.startsWith('k1')));
    expect(await client.get<number>('counts', 'k11')).toMatchObject({ value: 11 });
    expect(await client.get('counts', 'missing')).toBeUndefined();

    const taskId = a.taskOfKey('windows', 'w').taskId;
    windowStoreOf(ownerOf(taskId).store(taskId, 'windows')).put('w', 4, 60_000);
    windowStoreOf(ownerOf(taskId).store(taskId, 'windows')).put('w', 5, 90_000);
    const windows = await client.windows<number>('windows', 'w', { from: 60_000, to: 80_000 });
    expect(windows.windows).toEqual([{ start: 60_000, value: 4 }]);
    const sessions = await client.sessions<number>('sessions', 'nobody');
    expect(sessions.sessions).toEqual([]);
  });

  it('answers 503 with Retry-After when the owner restores, is gone, or the placement moved (no forwarding loop)', async () => {
    const { a, b, serverA, serverB, put } = await twoInstances();
    put.session('u1', 0, 10, 1);
    const taskId = a.taskOfKey('sessions', 'u1').taskId;
    const owner = a.stores.has(taskId) ? a : b;
    const other = owner === a ? b : a;
    const otherServer = owner === a ? serverB : serverA;

    owner.unavailable.add(taskId);
    const restoring = await get(otherServer, '/stores/sessions/sessions/u1');
    expect(restoring.status).toBe(503);
    expect(restoring.headers.get('retry-after')).toBe('1');
    expect(restoring.body.error).toBe('unavailable');
    owner.unavailable.clear();

    // Each believes the other owns the task: one hop, then 503, never a loop.
    owner.stores.delete(taskId);
    owner.holdersOf = () => ({ active: other.self, standbys: [] });
    other.holdersOf = () => ({ active: owner.self, standbys: [] });
    const moved = await get(otherServer, '/stores/sessions/sessions/u1');
    expect(moved.status).toBe(503);
    expect(String(moved.body.message)).toMatch(/answered 503/);

    other.holdersOf = () => ({ active: '127.0.0.1:1', standbys: [] });
    const gone = await get(otherServer, '/stores/sessions/sessions/u1');
    expect(gone.status).toBe(503);
    expect(gone.headers.get('retry-after')).toBe('1');
  });

  it('reads a standby replica only when the caller allows stale reads, and says its lag', async () => {
    const { a, b, serverA, serverB, put } = await twoInstances();
    put.session('u2', 0, 10, 3);
    const taskId = a.taskOfKey('sessions', 'u2').taskId;
    const owner = a.stores.has(taskId) ? a : b;
    const replica = owner === a ? b : a;
    const replicaServer = owner === a ? serverB : serverA;
    sessionStoreOf(replica.store(taskId, 'sessions')).put({ key: 'u2', window: { start: 0, end: 10 } }, 3);
    replica.standbys.add(taskId);
    // The owner is gone: current reads answer 503, stale reads the replica.
    for (const backend of [a, b]) backend.holdersOf = () => ({ active: '127.0.0.1:1', standbys: [replica.self] });
    expect((await get(replicaServer, '/stores/sessions/sessions/u2')).status).toBe(503);
    const stale = await get(replicaServer, '/stores/sessions/sessions/u2?stale=true');
    expect(stale.body).toMatchObject({ stale: true, source: 'standby', lag: 3, answeredBy: replica.self, sessions: [{ start: 0, end: 10, value: 3 }] });
    // Asked of the other instance, which holds no copy now: it forwards to the replica.
    owner.stores.delete(taskId);
    const ownerServer = replica === a ? serverB : serverA;
    const forwarded = await get(ownerServer, '/stores/sessions/sessions/u2?stale=true');
    expect(forwarded.status).toBe(200);
    expect(forwarded.headers.get('x-kstreams-answered-by')).toBe(replica.self);
  });

  it('refuses bad requests with clear 4xx JSON, never a crash', async () => {
    const { serverA } = await twoInstances();

    const cases: Array<[string, number, string]> = [
      ['/stores/nope/sessions/u', 404, 'unknown_store'],
      ['/stores/counts/sessions/u', 400, 'wrong_store_type'],
      ['/stores/by-number/keys/abc', 400, 'bad_key'],
      ['/stores/sessions/sessions/u?from=-5', 400, 'bad_parameter'],
      ['/stores/counts/range?limit=100000', 400, 'bad_parameter'],
      ['/stores/counts/range?cursor=%25%25', 400, 'bad_parameter'],
      ['/nowhere', 404, 'unknown_route'],
      [`/stores/sessions/sessions/${'x'.repeat(3000)}`, 404, 'unknown_route'],
      [`/stores/sessions/sessions/${'x'.repeat(5000)}`, 414, 'uri_too_long'],
    ];
    for (const [path, status, code] of cases) {
      const res = await get(serverA, path);
      expect({ path: path.slice(0, 60), status: res.status, code: res.body.error }).toEqual({ path: path.slice(0, 60), status, code });
      expect(typeof res.body.message).toBe('string');
    }
    expect((await get(serverA, '/stores/by-number/keys/42')).status).toBe(404); // a number: read, and not there
    const post = await fetch(`http://${serverA}/stores`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    const withBody = await rawGetWithBody(serverA, '/stores');
    expect(withBody).toBe(413);
    expect((await get(serverA, '/stores')).body.stores).toEqual(expect.arrayContaining([{ name: 'sessions', type: 'session', keySerde: 'String', valueSerde: 'Int64' }]));
  });

  it('with a bearer token, refuses requests without it and forwards with it; an authorize hook can refuse', async () => {
    const { serverA, serverB, a, put } = await twoInstances({ token: 's3cret' });
    put.session('u3', 0, 10, 1);
    expect((await get(serverA, '/stores/sessions/sessions/u3')).status).toBe(401);
    expect((await get(serverA, '/stores/sessions/sessions/u3', { authorization: 'Bearer wrong' })).status).toBe(401);
    for (const server of [serverA, serverB]) {
      expect((await get(server, '/stores/sessions/sessions/u3', { authorization: 'Bearer s3cret' })).status).toBe(200);
    }
    const client = new QueryClient({ baseUrl: [`http://${serverB}`], token: 's3cret' });
    expect((await client.sessions('sessions', 'u3')).sessions).toHaveLength(1);
    await expect(new QueryClient({ baseUrl: `http://${serverA}` }).sessions('sessions', 'u3')).rejects.toMatchObject({ status: 401, code: 'unauthorized' });

    const hooked = new TestBackend(a.topology);
    const calls: string[] = [];
    const server = await start(hooked, {
      authorize: ({ path, headers }) => {
        calls.push(path);
        if (headers['x-role'] === 'boom') throw new Error('hook failed');
        return headers['x-role'] === 'reader';
      },
    });
    expect((await get(server, '/stores', { 'x-role': 'reader' })).status).toBe(200);
    expect((await get(server, '/stores', { 'x-role': 'guest' })).status).toBe(403);
    expect((await get(server, '/stores', { 'x-role': 'boom' })).status).toBe(403);
    expect(calls).toEqual(['/stores', '/stores', '/stores']);
    await expect(new QueryClient({ baseUrl: `http://${server}` }).sessions('nope', 'x')).rejects.toBeInstanceOf(QueryClientError);
  });

  it('serves the status page, its JSON over the group, and the topology as SVG', async () => {
    const { a, b, serverA, serverB } = await twoInstances();
    const members = [
      { memberId: 'm1', clientId: 'c1', applicationServer: serverA, activeTasks: ['0_0'], standbyTasks: [] },
      { memberId: 'm2', clientId: 'c2', applicationServer: serverB, activeTasks: ['0_1'], standbyTasks: [] },
      { memberId: 'm3', clientId: 'c3', applicationServer: '127.0.0.1:1', activeTasks: [], standbyTasks: [] },
    ];
    a.memberList = members;
    b.memberList = members;
    const status = await get(serverA, '/status.json');
    const instances = status.body.instances as Array<{ applicationServer: string; status?: { applicationServer: string }; error?: string }>;
    expect(instances.map((i) => i.status?.applicationServer ?? 'unreachable')).toEqual([serverA, serverB, 'unreachable']);
    expect(instances[2]!.error).toBeTruthy();
    const page = await fetch(`http://${serverA}/status`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('status.json');
    const svg = await (await fetch(`http://${serverA}/status/topology.svg`)).text();
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('Sub-topology 0');
    expect(svg).toContain('stores: sessions');
  });
});

/** A GET that carries a body (fetch refuses to send one). */
function rawGetWithBody(server: string, path: string): Promise<number> {
  const [host, port] = server.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), path, method: 'GET', headers: { 'content-length': '3' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end('abc');
  });
}

describe('keys from URLs and the topology diagram', () => {
  it('reads a key as the store’s key serde needs it', async () => {
    const { decodeKey } = await import('../../src/runtime/query/query-json.js');
    expect(decodeKey('42', Serdes.String() as never).key).toBe('42');
    expect(decodeKey('42', Serdes.Long() as never).key).toBe(42);
    expect(decodeKey('{"user":"u1","n":2}', Serdes.Json() as never).key).toEqual({ user: 'u1', n: 2 });
    expect(decodeKey('plain text', Serdes.Json() as never).key).toBe('plain text');
    expect(() => decodeKey('4.5e999', Serdes.Double() as never)).toThrow(/not a number/);
  });

  it('draws node names as text, never as markup', async () => {
    const { topologySvg } = await import('../../src/runtime/query/topology-svg.js');
    const builder = new StreamsBuilder();
    builder.stream('in<script>', Consumed.with(Serdes.String(), Serdes.String())).to('out&more');
    const svg = topologySvg(builder.build({ applicationId: 'svg-test' }));
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('in&#60;script&#62;');
    expect(svg).toContain('out&#38;more');
  });
});
