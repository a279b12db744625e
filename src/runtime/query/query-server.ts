import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual, createHash } from 'node:crypto';
import Router from 'find-my-way';
import type { ResolvedQueryServerOptions } from '../../config/query-server-options.js';
import type { Logger } from '../../logging/logger.js';
import type { QueryBackend } from './query-backend.js';
import { QueryError, toJson } from './query-json.js';
import { forwardGet } from './forward.js';
import { StoreRoutes, type RouteAnswer, type RouteRequest } from './store-routes.js';
import { StatusRoutes } from './status-routes.js';

/** Names the instance whose stores answered (the one the request reached, or the one it was forwarded to). */
export const ANSWERED_BY_HEADER = 'x-kstreams-answered-by';
/** Set on a forwarded request: the instance that forwarded it. Such a request is never forwarded again. */
export const FORWARDED_BY_HEADER = 'x-kstreams-forwarded-by';

/** Longest URL accepted (414 past it): a key goes in the path, and keys are short. */
const MAX_URL_LENGTH = 4096;
/** Longest path parameter (a store name or a key): find-my-way answers no route past it (404). */
const MAX_PARAM_LENGTH = 2048;

type Handler = (req: RouteRequest) => RouteAnswer | Promise<RouteAnswer>;
type Raw = { status: number; contentType: string; body: string | Buffer };
type RouteEntry = { json?: Handler; raw?: () => Raw | Promise<Raw> };

/**
 * The query server: HTTP (node:http) routed by find-my-way, Fastify's radix-tree router, which gives
 * typed path parameters, percent-decoding and a bound on their length without the rest of a framework
 * (hooks, plugins, schema compilers, a logger of its own): the server has a handful of GET routes, and
 * every request passes the same three gates here (bounds, token, hook) before its route runs.
 *
 * Every answer is JSON (the status page's HTML and SVG aside); every refusal is a 4xx or 503 JSON body
 * `{ error, message }`; nothing a request holds can throw past the handler.
 */
export class QueryServer {
  private server: Server | undefined;
  private readonly router = Router({ maxParamLength: MAX_PARAM_LENGTH, ignoreTrailingSlash: true, caseSensitive: true });
  private readonly expectedToken: Buffer | undefined;

  constructor(
    private readonly backend: QueryBackend,
    private readonly options: ResolvedQueryServerOptions,
    private readonly logger: Logger,
  ) {
    this.expectedToken = options.token === undefined ? undefined : createHash('sha256').update(options.token).digest();
    const forward = (target: string, pathAndQuery: string) => forwardGet(target, pathAndQuery, this.forwardHeaders(), options.forwardTimeoutMs);
    const stores = new StoreRoutes(backend, options, forward);
    this.route('/stores', () => stores.list());
    this.route('/stores/:store/keys/:key', (r) => stores.get(r));
    this.route('/stores/:store/sessions/:key', (r) => stores.sessions(r));
    this.route('/stores/:store/windows/:key', (r) => stores.windows(r));
    this.route('/stores/:store/range', (r) => stores.range(r));
    if (options.statusPage) {
      const status = new StatusRoutes(backend, forward);
      this.route('/status.json', () => status.group());
      this.route('/status/local.json', async () => ({ status: 200, json: await backend.localStatus() }));
      this.rawRoute('/status', () => ({ status: 200, contentType: 'text/html; charset=utf-8', body: status.page() }));
      this.rawRoute('/status/topology.svg', () => ({ status: 200, contentType: 'image/svg+xml', body: status.topologySvg() }));
    }
  }

  /** Routes keep their handler in find-my-way's per-route store (the router only matches). */
  private route(path: string, handler: Handler): void {
    this.router.on('GET', path, () => {}, { json: handler } satisfies RouteEntry);
  }

  private rawRoute(path: string, handler: () => Raw | Promise<Raw>): void {
    this.router.on('GET', path, () => {}, { raw: handler } satisfies RouteEntry);
  }

  /** Headers of a forwarded request: the marker, and the token when one is set. */
  private forwardHeaders(): Record<string, string> {
    return {
      [FORWARDED_BY_HEADER]: this.backend.self,
      accept: 'application/json',
      ...(this.options.token === undefined ? {} : { authorization: `Bearer ${this.options.token}` }),
    };
  }

  /** Listens on the configured host and port; resolves with the address (port 0: the one the system chose). */
  async listen(): Promise<AddressInfo> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.logger.warn(`query server: ${(err as Error).message}`);
        if (!res.headersSent) this.send(res, 500, { error: 'internal', message: 'The server failed to answer; see its log' });
      });
    });
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => resolve());
    });
    server.unref();
    return server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = req.url ?? '/';
      if (url.length > MAX_URL_LENGTH) throw new QueryError(414, 'uri_too_long', `The URL is over ${MAX_URL_LENGTH} characters`);
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new QueryError(405, 'method_not_allowed', 'Only GET is served');
      const length = Number(req.headers['content-length'] ?? 0);
      if (length > 0 || req.headers['transfer-encoding'] !== undefined) throw new QueryError(413, 'body_not_allowed', 'Queries carry no body: put the key in the path');
      await this.checkAccess(req, url);
      const found = this.router.find('GET', url);
      if (found === null) throw new QueryError(404, 'unknown_route', 'No such route: try GET /stores, /stores/<store>/keys|sessions|windows/<key>, /stores/<store>/range or /status');
      const entry = found.store as RouteEntry;
      const raw = entry.raw;
      if (raw !== undefined) {
        const answer = await raw();
        res.writeHead(answer.status, { 'content-type': answer.contentType, 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : answer.body);
        return;
      }
      const handler = entry.json!;
      const forwarded = req.headers[FORWARDED_BY_HEADER];
      const answer = await handler({
        params: found.params,
        query: found.searchParams,
        forwardedBy: typeof forwarded === 'string' ? forwarded : undefined,
        pathAndQuery: url,
      });
      if ('relayed' in answer) {
        const answeredBy = answer.relayed.headers[ANSWERED_BY_HEADER];
        res
          .writeHead(answer.relayed.status, {
            'content-type': 'application/json',
            [ANSWERED_BY_HEADER]: typeof answeredBy === 'string' ? answeredBy : answer.from,
            'x-kstreams-forwarded-to': answer.from,
          })
          .end(answer.relayed.body);
      } else {
        this.send(res, answer.status, answer.json);
      }
    } catch (err) {
      if (!(err instanceof QueryError)) throw err;
      this.send(res, err.status, { error: err.code, message: err.message }, err.retryAfter);
    }
  }

  /** The bearer token (when set), compared in constant time, then the user's hook. */
  private async checkAccess(req: IncomingMessage, url: string): Promise<void> {
    if (this.expectedToken !== undefined) {
      const header = req.headers.authorization ?? '';
      const given = header.startsWith('Bearer ') ? createHash('sha256').update(header.slice(7)).digest() : undefined;
      if (given === undefined || !timingSafeEqual(given, this.expectedToken)) {
        throw new QueryError(401, 'unauthorized', 'This server needs a bearer token: send Authorization: Bearer <token>');
      }
    }
    const hook = this.options.authorize;
    if (hook === undefined) return;
    let allowed: boolean;
    try {
      allowed = await hook({ method: req.method ?? 'GET', path: url.split('?')[0]!, headers: req.headers, remoteAddress: req.socket.remoteAddress });
    } catch (err) {
      this.logger.warn(`query server: the authorize hook threw: ${(err as Error).message}`);
      allowed = false;
    }
    if (!allowed) throw new QueryError(403, 'forbidden', 'The authorize hook refused this request');
  }

  private send(res: ServerResponse, status: number, json: unknown, retryAfter?: number): void {
    const headers: Record<string, string> = { 'content-type': 'application/json', [ANSWERED_BY_HEADER]: this.backend.self, 'cache-control': 'no-store' };
    if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
    res.writeHead(status, headers).end(toJson(json));
  }
}
