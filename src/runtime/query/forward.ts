import { request } from 'node:http';

/** The answer of another instance to a forwarded request. */
export interface ForwardedAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

/** The most a forwarded answer may hold (a range page of `maxLimit` large values stays far below). */
const MAX_FORWARDED_BYTES = 64 * 1024 * 1024;

/**
 * GETs `pathAndQuery` from the instance at `target` (host:port) with `headers`; rejects on a connection error,
 * an answer over 64 MiB, or after `timeoutMs` (the caller answers 503: the owner may be gone).
 */
export function forwardGet(target: string, pathAndQuery: string, headers: Record<string, string>, timeoutMs: number): Promise<ForwardedAnswer> {
  const colon = target.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const req = request(
      { host: target.slice(0, colon), port: Number(target.slice(colon + 1)), path: pathAndQuery, method: 'GET', headers, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_FORWARDED_BYTES) req.destroy(new Error(`the answer of ${target} is over ${MAX_FORWARDED_BYTES} bytes`));
          else chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${target} did not answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
