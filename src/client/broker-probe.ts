import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { StreamsRuntimeError } from '../errors/errors.js';

/**
 * A check of the bootstrap servers before any kafkajs client connects: kafkajs retries a refused
 * connection for about 11 s, logging each attempt with a stack trace, and waits out its request timeout
 * on a port that is not Kafka. One ApiVersions request (any Kafka answers it, before authentication)
 * tells within the connection timeout whether a Kafka broker listens, and if not, what does.
 */
export interface ProbeOptions {
  /** Bound of each step: the (TLS) connection, then the answer. */
  readonly timeoutMs: number;
  /** kafkajs' `ssl` setting: connect with TLS as the clients will. */
  readonly ssl?: boolean | ConnectionOptions;
  /** What to check, in the words of the caller (a command line has no `bootstrapServers` setting). */
  readonly check?: string;
}

/** What a bootstrap server did: undefined when it answered as Kafka, else what went wrong. */
export function probeBroker(server: string, options: ProbeOptions): Promise<string | undefined> {
  const colon = server.lastIndexOf(':');
  const host = server.slice(0, colon);
  const port = Number(server.slice(colon + 1));
  const correlationId = 0x6b73; // any: a Kafka answer echoes it
  return new Promise((resolve) => {
    let settled = false;
    let received = Buffer.alloc(0);
    let socket: Socket;
    const finish = (problem: string | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(problem);
    };
    let timer = setTimeout(() => finish(`no connection within ${options.timeoutMs} ms (is the host up? a firewall?)`), options.timeoutMs);
    const onConnected = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(`connected, but no Kafka answer within ${options.timeoutMs} ms`), options.timeoutMs);
      socket.write(apiVersionsRequest(correlationId));
    };
    if (options.ssl === undefined || options.ssl === false) {
      socket = netConnect({ host, port }, onConnected);
    } else {
      const tlsOptions = options.ssl === true ? {} : options.ssl;
      socket = tlsConnect({ host, port, ...(isIP(host) === 0 ? { servername: host } : {}), ...tlsOptions }, onConnected);
    }
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 8) return;
      const size = received.readInt32BE(0);
      if (size < 4 || size > 64 * 1024 * 1024 || received.readInt32BE(4) !== correlationId) {
        finish(`it answered, but not as a Kafka broker: ${describeAnswer(received)}`);
      } else if (received.length >= size + 4) {
        finish(servesClients(received.subarray(8, size + 4)) ? undefined : NOT_A_BROKER_LISTENER);
      }
    });
    const tls = options.ssl !== undefined && options.ssl !== false;
    socket.on('error', (err: NodeJS.ErrnoException) => finish(describeSocketError(err, tls)));
    socket.on('close', () => {
      if (received.length > 0) return finish(`it answered, but not as a Kafka broker: ${describeAnswer(received)}`);
      finish(`it closed the connection without answering as a Kafka broker would${tls ? ' (is the listener plaintext? then leave kafka.ssl unset)' : ''}`);
    });
  });
}

/** The `check` of a command line that takes `--bootstrap-servers`. */
export const CLI_BROKER_CHECK = 'Check --bootstrap-servers (or KAFKA_BROKERS): host and port of a broker listener, and that the broker is running.';

/** Throws a StreamsRuntimeError naming each server and what to check unless one of them answers as Kafka. */
export async function checkBootstrapServers(servers: readonly string[], options: ProbeOptions): Promise<void> {
  const problems = await Promise.all(servers.map((s) => probeBroker(s, options)));
  if (problems.some((p) => p === undefined)) return;
  const lines = servers.map((s, i) => `${s}: ${problems[i]!}`);
  throw new StreamsRuntimeError(
    (servers.length === 1 ? `Could not reach a Kafka broker at ${lines[0]!}. ` : `Could not reach a Kafka broker at any bootstrap server:\n - ${lines.join('\n - ')}\n`) +
      (options.check ??
      'Check bootstrapServers (host and port of a broker listener, e.g. 127.0.0.1:9092), that the broker is running, ' +
        `and that the kafka.ssl setting matches the listener (TLS or plaintext). Each step waited at most ${options.timeoutMs} ms (kafka.connectionTimeout).`),
  );
}

/**
 * A KRaft controller's listener answers ApiVersions too, then refuses what clients ask (kafkajs:
 * "The Kafka server does not support the requested API version"): it lists no Produce request.
 */
const NOT_A_BROKER_LISTENER =
  "it answers Kafka's protocol but not as a broker: a KRaft controller listener? Use the broker's listener (advertised.listeners)";

/** Produce, which every broker listener serves and a controller's does not. */
const PRODUCE_API_KEY = 0;

/**
 * Whether an ApiVersions v0 answer (error code, then [api key, min, max] entries) offers Produce. An answer
 * that cannot be read, or lists nothing (an error), is taken as a broker's: kafkajs will say more.
 */
function servesClients(body: Buffer): boolean {
  if (body.length < 6) return true;
  const count = body.readInt32BE(2);
  if (count <= 0 || body.length < 6 + count * 6) return true;
  for (let i = 0; i < count; i++) {
    if (body.readInt16BE(6 + i * 6) === PRODUCE_API_KEY) return true;
  }
  return false;
}

/** ApiVersions v0: size, api key 18, version 0, correlation id, client id; an empty body. */
function apiVersionsRequest(correlationId: number): Buffer {
  const clientId = Buffer.from('kstreams-probe');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length);
  body.writeInt16BE(18, 0);
  body.writeInt16BE(0, 2);
  body.writeInt32BE(correlationId, 4);
  body.writeInt16BE(clientId.length, 8);
  clientId.copy(body, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

function describeAnswer(bytes: Buffer): string {
  const text = bytes.subarray(0, 80).toString('latin1');
  const firstLine = text.split(/\r?\n/)[0] ?? '';
  if (/^HTTP\/\d/.test(firstLine)) return `it looks like an HTTP server ("${firstLine}")`;
  if (bytes[0] === 0x15 || bytes[0] === 0x16) return 'it speaks TLS: set kafka.ssl';
  return /^[\x20-\x7e]+$/.test(firstLine) ? `"${firstLine}"` : `${bytes.length} bytes starting ${bytes.subarray(0, 8).toString('hex')}`;
}

function describeSocketError(err: NodeJS.ErrnoException, tls: boolean): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'nothing listens there (connection refused)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'the host cannot be reached from here';
    case 'ECONNRESET':
      return tls ? 'it reset the TLS connection: is the listener plaintext? (then leave kafka.ssl unset)' : 'it reset the connection without answering as a Kafka broker would';
    default:
      return tls ? `the TLS connection failed: ${err.message}` : err.message;
  }
}
