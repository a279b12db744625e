/**
 * The few registry operations the serdes need, over Confluent's own client (`@confluentinc/schemaregistry`,
 * an optional peer dependency: installed by applications that use a registry, loaded on first use). Its
 * REST calls, retries, authentication and caches are Confluent's; this file adds errors that say what to do.
 */
import { asError } from '../../errors/as-error.js';

/** A schema as the registry holds it. */
export interface RegisteredSchema {
  /** Its id, as the wire format carries it. */
  readonly id: number;
  /** The schema text (Avro or JSON Schema JSON). */
  readonly schema: string;
  /** `AVRO` (the registry's default, often absent), `JSON` or `PROTOBUF`. */
  readonly schemaType?: string;
}

/** How to reach a registry. */
export interface SchemaRegistryClientOptions {
  /** The registry's base URL, e.g. `http://localhost:8081` (Apicurio: `http://host:8080/apis/ccompat/v7`). */
  readonly url: string;
  /** Basic authentication (Confluent Cloud: API key and secret). */
  readonly basicAuth?: {
    /** The user (Confluent Cloud: the API key). */
    readonly username: string;
    /** The password (Confluent Cloud: the API secret). */
    readonly password: string;
  };
  /** Retries of a failed request (default 3, with jittered backoff from 1 s). */
  readonly maxRetries?: number;
  /** Per-request timeout, default 10 000 ms. */
  readonly timeoutMs?: number;
}

/** A registry client shared by serdes (one per registry: its caches serve them all). */
export interface SchemaRegistryClient {
  /** The registry's base URL. */
  readonly url: string;
  /** The schema with this id; throws when the registry does not have it. */
  schemaById(id: number): Promise<RegisteredSchema>;
  /**
   * The id of `schema` under `subject`: registered first when `autoRegister`, else looked up (throws a
   * clear error when it is not registered there).
   */
  idOf(subject: string, schema: string, schemaType: string, autoRegister: boolean): Promise<number>;
  /** Every schema registered under `subject`, oldest first; empty when the subject does not exist. */
  versionsOf(subject: string): Promise<RegisteredSchema[]>;
}

/** A registry error with the URL, the subject or id, and what to do. */
export class SchemaRegistryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SchemaRegistryError';
  }
}

/** The slice of Confluent's `SchemaRegistryClient` used here (kept local, so our types never need the package). */
interface ConfluentClient {
  getBySubjectAndId(subject: string, id: number): Promise<{ schema: string; schemaType?: string }>;
  register(subject: string, schema: { schema: string; schemaType?: string }, normalize?: boolean): Promise<number>;
  getId(subject: string, schema: { schema: string; schemaType?: string }, normalize?: boolean): Promise<number>;
  getAllVersions(subject: string): Promise<number[]>;
  getSchemaMetadata(subject: string, version: number): Promise<{ id: number; schema: string; schemaType?: string }>;
}

interface ConfluentModule {
  SchemaRegistryClient: new (config: Record<string, unknown>) => ConfluentClient;
}

const PACKAGE = '@confluentinc/schemaregistry';
let confluentModule: Promise<ConfluentModule> | undefined;

function loadConfluent(): Promise<ConfluentModule> {
  confluentModule ??= (import(PACKAGE) as Promise<ConfluentModule & { default?: ConfluentModule }>).then(
    (m) => (m.SchemaRegistryClient !== undefined ? m : m.default!),
    (err: unknown) => {
      confluentModule = undefined;
      throw new SchemaRegistryError(
        `Schema Registry serdes need the package ${PACKAGE}: npm install ${PACKAGE}@1.10.1 (${asError(err).message})`,
        { cause: err },
      );
    },
  );
  return confluentModule;
}

/** The HTTP status and Confluent error code of a failed request, if the registry answered. */
function restStatus(err: unknown): { status?: number; errorCode?: number } {
  const e = err as { status?: unknown; errorCode?: unknown; response?: { status?: unknown } };
  const status = typeof e.status === 'number' ? e.status : typeof e.response?.status === 'number' ? e.response.status : undefined;
  return { status, errorCode: typeof e.errorCode === 'number' ? e.errorCode : undefined };
}

const SUBJECT_NOT_FOUND = 40401;
const SCHEMA_NOT_FOUND = 40403;

class ConfluentRegistryClient implements SchemaRegistryClient {
  private client: Promise<ConfluentClient> | undefined;

  constructor(private readonly options: SchemaRegistryClientOptions) {}

  get url(): string {
    return this.options.url;
  }

  private confluent(): Promise<ConfluentClient> {
    this.client ??= loadConfluent().then(
      (m) =>
        new m.SchemaRegistryClient({
          baseURLs: [this.options.url],
          maxRetries: this.options.maxRetries,
          createAxiosDefaults: { timeout: this.options.timeoutMs ?? 10_000 },
          basicAuthCredentials:
            this.options.basicAuth === undefined
              ? undefined
              : { credentialsSource: 'USER_INFO', userInfo: `${this.options.basicAuth.username}:${this.options.basicAuth.password}` },
        }),
    );
    return this.client;
  }

  /** Runs one request; an error that is not the registry's answer means the registry is unreachable. */
  private async call<R>(what: string, request: (client: ConfluentClient) => Promise<R>): Promise<R> {
    const client = await this.confluent();
    try {
      return await request(client);
    } catch (err) {
      if (restStatus(err).status === undefined) {
        throw new SchemaRegistryError(
          `The schema registry at ${this.url} did not answer (${what}): ${asError(err).message}. Check the URL and that the registry runs.`,
          { cause: err },
        );
      }
      throw err;
    }
  }

  async schemaById(id: number): Promise<RegisteredSchema> {
    try {
      const info = await this.call(`schema id ${id}`, (c) => c.getBySubjectAndId('', id));
      return { id, schema: info.schema, schemaType: info.schemaType };
    } catch (err) {
      if (err instanceof SchemaRegistryError) throw err;
      throw new SchemaRegistryError(`The schema registry at ${this.url} has no schema with id ${id}: ${asError(err).message}`, { cause: err });
    }
  }

  async idOf(subject: string, schema: string, schemaType: string, autoRegister: boolean): Promise<number> {
    const info = schemaType === 'AVRO' ? { schema } : { schema, schemaType };
    try {
      return await this.call(`subject ${subject}`, (c) => (autoRegister ? c.register(subject, info) : c.getId(subject, info)));
    } catch (err) {
      if (err instanceof SchemaRegistryError) throw err;
      const { status, errorCode } = restStatus(err);
      if (!autoRegister && (status === 404 || errorCode === SUBJECT_NOT_FOUND || errorCode === SCHEMA_NOT_FOUND)) {
        // Not every registry tells a missing subject from a missing schema (Apicurio answers 40401 for both).
        throw new SchemaRegistryError(
          `The schema registry at ${this.url} does not have the writer schema under the subject ${subject} ` +
            `(it answered: ${asError(err).message}), and autoRegister is off: register the writer schema under ` +
            `${subject} first (POST ${this.url}/subjects/${subject}/versions), or create the serde with autoRegister: true. ` +
            `Schema: ${schema}`,
          { cause: err },
        );
      }
      throw new SchemaRegistryError(
        `The schema registry at ${this.url} refused the schema for ${subject} (${autoRegister ? 'register' : 'look-up'}): ${asError(err).message}`,
        { cause: err },
      );
    }
  }

  async versionsOf(subject: string): Promise<RegisteredSchema[]> {
    let versions: number[];
    try {
      versions = await this.call(`versions of ${subject}`, (c) => c.getAllVersions(subject));
    } catch (err) {
      if (restStatus(err).status === 404) return [];
      throw err;
    }
    return Promise.all(
      versions.map(async (version) => {
        const meta = await this.call(`${subject} version ${version}`, (c) => c.getSchemaMetadata(subject, version));
        return { id: meta.id, schema: meta.schema, schemaType: meta.schemaType };
      }),
    );
  }
}

const clients = new Map<string, SchemaRegistryClient>();

/**
 * A client of the registry at `options.url`. Serdes given the same URL (and no other options) share one
 * client, so a schema is fetched once per process.
 */
export function schemaRegistryClient(options: SchemaRegistryClientOptions | string): SchemaRegistryClient {
  const opts = typeof options === 'string' ? { url: options } : options;
  const shareable = Object.keys(opts).length === 1;
  const url = opts.url.replace(/\/+$/, '');
  if (shareable) {
    let client = clients.get(url);
    if (client === undefined) clients.set(url, (client = new ConfluentRegistryClient({ url })));
    return client;
  }
  return new ConfluentRegistryClient({ ...opts, url });
}
