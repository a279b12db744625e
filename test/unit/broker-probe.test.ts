import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkBootstrapServers, probeBroker } from '../../src/client/broker-probe.js';

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

/** A local TCP server that answers each connection's first bytes with `answer`. */
async function serve(answer: (request: Buffer, socket: Socket) => void): Promise<string> {
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.once('data', (request) => answer(request, socket));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('probeBroker', () => {
  it('accepts an answer that echoes the request correlation id, as any Kafka broker does', async () => {
    const address = await serve((request, socket) => {
      const answer = Buffer.alloc(10);
      answer.writeInt32BE(6, 0);
      request.copy(answer, 4, 8, 12); // the request's correlation id
      socket.write(answer);
    });
    expect(await probeBroker(address, { timeoutMs: 2000 })).toBeUndefined();
    await expect(checkBootstrapServers(['127.0.0.1:1', address], { timeoutMs: 2000 })).resolves.toBeUndefined();
  });

  it('names a server that answers something else', async () => {
    const address = await serve((_request, socket) => socket.end('SSH-2.0-OpenSSH_9.6\r\n'));
    expect(await probeBroker(address, { timeoutMs: 2000 })).toBe('it answered, but not as a Kafka broker: "SSH-2.0-OpenSSH_9.6"');
  });

  it('suggests plaintext when a TLS client meets a listener that hangs up', async () => {
    const address = await serve((_request, socket) => socket.destroy());
    expect(await probeBroker(address, { timeoutMs: 2000, ssl: true })).toMatch(/leave kafka\.ssl unset/);
  });

  it('lists every server and what to check when none answers as Kafka', async () => {
    const error = await checkBootstrapServers(['127.0.0.1:1', 'no-such-host.invalid:9092'], { timeoutMs: 2000 }).catch((e: Error) => e);
    expect((error as Error).message).toMatch(
      /any bootstrap server:\n - 127\.0\.0\.1:1: nothing listens there \(connection refused\)\n - no-such-host\.invalid:9092: the host name does not resolve\nCheck bootstrapServers/,
    );
  });
});
