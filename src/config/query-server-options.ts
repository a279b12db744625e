/** What an authorization hook of the query server is told about a request (see QueryServerOptions.authorize). */
export interface QueryRequestInfo {
  /** `GET`, … */
  readonly method: string;
  /** The path, without the query string (`/stores/session-stats/sessions/user-42`). */
  readonly path: string;
  /** The request's headers, lower-cased names, as Node gives them. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The address of the caller (another instance, for a forwarded request). */
  readonly remoteAddress: string | undefined;
}

/**
 * The query server (opt-in, see `StreamsConfig.queryServer`): HTTP on the port of `applicationServer`, answering
 * reads of the topology's stores from any instance (forwarding to the owner of a key) and the status page.
 */
export interface QueryServerOptions {
  /** Interface to bind; default '127.0.0.1' (this machine only): set '0.0.0.0' where other machines must reach it. */
  host?: string;
  /**
   * A bearer token every request must carry (`Authorization: Bearer <token>`); instances forward with it, so
   * every instance of the application needs the same one. Default: none.
   */
  token?: string;
  /**
   * Decides whether a request may be answered (after the token, if one is set): false answers 403. Called
   * for forwarded requests too, on the instance that answers them.
   */
  authorize?: (request: QueryRequestInfo) => boolean | Promise<boolean>;
  /** The most entries a range answers in one page; default 1000 (a larger `limit` is refused with 400). */
  maxLimit?: number;
  /** How long a forwarded request may take before it answers 503; default 5000 ms. */
  forwardTimeoutMs?: number;
  /** The `Retry-After` (seconds) of a 503 during a rebalance or a restore; default 1. */
  retryAfterSeconds?: number;
  /** Serve the status page (`/status`) and its JSON (`/status.json`); default true. */
  statusPage?: boolean;
}

/** The query server's settings with their defaults. */
export interface ResolvedQueryServerOptions {
  readonly host: string;
  readonly port: number;
  readonly token: string | undefined;
  readonly authorize: QueryServerOptions['authorize'];
  readonly maxLimit: number;
  readonly forwardTimeoutMs: number;
  readonly retryAfterSeconds: number;
  readonly statusPage: boolean;
}
