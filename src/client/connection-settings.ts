import type { ConnectionOptions } from 'node:tls';

/** SASL credentials: a user and password, or an OAuth bearer token provider. */
export type SaslSettings = PasswordSasl<'plain'> | PasswordSasl<'scram-sha-256'> | PasswordSasl<'scram-sha-512'> | OAuthBearerSasl;

/** SASL/PLAIN or SCRAM with a user name and password. */
export interface PasswordSasl<M extends 'plain' | 'scram-sha-256' | 'scram-sha-512'> {
  /** The SASL mechanism the broker's listener expects. */
  readonly mechanism: M;
  /** The principal's name. */
  readonly username: string;
  /** The principal's password. */
  readonly password: string;
}

/** SASL/OAUTHBEARER: a token fetched (and refreshed) by your provider. */
export interface OAuthBearerSasl {
  /** The SASL mechanism. */
  readonly mechanism: 'oauthbearer';
  /** Called whenever a connection authenticates; resolves to the bearer token. */
  readonly oauthBearerProvider: () => Promise<OAuthBearerToken>;
}

/** What an OAuth bearer provider resolves to. */
export interface OAuthBearerToken {
  /** The token, as the broker's OAUTHBEARER listener expects it. */
  value: string;
}

/** How a client retries a failed request: exponential backoff, as Kafka's clients do. */
export interface RetrySettings {
  /** Longest total time to keep retrying one request, in ms (kafkajs' default 30 000). */
  readonly maxRetryTime?: number;
  /** First backoff, in ms (default 300). */
  readonly initialRetryTime?: number;
  /** Random jitter applied to each backoff, as a fraction (default 0.2). */
  readonly factor?: number;
  /** Growth of the backoff between attempts (default 2). */
  readonly multiplier?: number;
  /** Attempts before the request fails (default 5). */
  readonly retries?: number;
}

/** How the instance's clients reach the brokers (TLS, SASL, timeouts), beyond the bootstrap servers. */
export interface ConnectionSettings {
  /** true: TLS with Node's defaults; an object: TLS with these options (CA, certificates). */
  readonly ssl?: boolean | ConnectionOptions;
  /** SASL authentication; none by default. */
  readonly sasl?: SaslSettings;
  /** Default 3 000 ms. */
  readonly connectionTimeout?: number;
  /** Time allowed for the SASL handshake, in ms (default 10 000). */
  readonly authenticationTimeout?: number;
  /** Re-authenticate this many ms before the broker's session lifetime ends (default 10 000). */
  readonly reauthenticationThreshold?: number;
  /** Default 30 000 ms. */
  readonly requestTimeout?: number;
  /** Whether `requestTimeout` is enforced on every request (default true). */
  readonly enforceRequestTimeout?: boolean;
  /** How failed requests are retried. */
  readonly retry?: RetrySettings;
}
