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

  it('names a KRaft controller listener: it answers ApiVersions but offers no Produce', async () => {
    /** An ApiVersions v0 answer listing `keys`, sent in two pieces as a network may deliver it. */
    const answering = (keys: number[]) => (request: Buffer, socket: Socket) => {
      const answer = Buffer.alloc(4 + 4 + 2 + 4 + keys.length * 6);
      answer.writeInt32BE(answer.length - 4, 0);
      request.copy(answer, 4, 8, 12);
      answer.writeInt32BE(keys.length, 10);
      keys.forEach((key, i) => answer.writeInt16BE(key, 14 + i * 6));
      socket.write(answer.subarray(0, 16));
      setTimeout(() => socket.write(answer.subarray(16)), 20);
    };
    // Vote, BeginQuorumEpoch, Fetch (Raft), ApiVersions, BrokerRegistration: what a controller lists.
    const controller = await serve(answering([52, 53, 1, 18, 62]));
    const broker = await serve(answering([1, 3, 18, 0]));
    expect(await probeBroker(broker, { timeoutMs: 2000 })).toBeUndefined();
    const error = await checkBootstrapServers([controller], { timeoutMs: 2000 }).catch((e: Error) => e);
    expect((error as Error).message).toContain(
      `Could not reach a Kafka broker at ${controller}: it answers Kafka's protocol but not as a broker: a KRaft controller listener? Use the broker's listener (advertised.listeners)`,
    );
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
