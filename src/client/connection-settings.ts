import type { ConnectionOptions } from 'node:tls';

/** SASL credentials: a user and password, or an OAuth bearer token provider. */
export type SaslSettings =
  | { readonly mechanism: 'plain'; readonly username: string; readonly password: string }
  | { readonly mechanism: 'scram-sha-256'; readonly username: string; readonly password: string }
  | { readonly mechanism: 'scram-sha-512'; readonly username: string; readonly password: string }
  | { readonly mechanism: 'oauthbearer'; readonly oauthBearerProvider: () => Promise<{ value: string }> };

/** How a client retries a failed request: exponential backoff, as Kafka's clients do. */
export interface RetrySettings {
  readonly maxRetryTime?: number;
  readonly initialRetryTime?: number;
  readonly factor?: number;
  readonly multiplier?: number;
  readonly retries?: number;
}

/** How the instance's clients reach the brokers (TLS, SASL, timeouts), beyond the bootstrap servers. */
export interface ConnectionSettings {
  /** true: TLS with Node's defaults; an object: TLS with these options (CA, certificates). */
  readonly ssl?: boolean | ConnectionOptions;
  readonly sasl?: SaslSettings;
  /** Default 3 000 ms. */
  readonly connectionTimeout?: number;
  readonly authenticationTimeout?: number;
  readonly reauthenticationThreshold?: number;
  /** Default 30 000 ms. */
  readonly requestTimeout?: number;
  readonly enforceRequestTimeout?: boolean;
  readonly retry?: RetrySettings;
}
