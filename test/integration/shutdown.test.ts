/**
 * closeOnSignals: Ctrl-C (SIGINT) and SIGTERM close the instance once, commit, and exit with code 0; a fatal
 * error closes it and exits with code 1, also when another handle would keep the process alive.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { brokers, createTopics, kafkaClient, uniqueName, withAdmin } from './kafka-env.js';

const RECORDS = 200;

async function produceTo(topic: string, values: string[]): Promise<void> {
  const producer = kafkaClient().producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await producer.send({ topic, messages: values.map((value, i) => ({ key: `k${i}`, value })) });
  await producer.disconnect();
}

/** Starts the fixture app in a child process; `output()` is what it printed so far. */
function startApp(env: Record<string, string>): { child: ChildProcess; exited: Promise<number | null>; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/integration/fixtures/shutdown-app.ts'], {
    // Errors logged (as JSON lines on stderr) so that the test can read what failed.
    env: { ...process.env, KSTREAMS_LOG_LEVEL: 'error', ...env, KAFKA_BROKERS: brokers().join(',') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

describe('closeOnSignals', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('%s commits what was processed and exits 0', async (signal) => {
    const env = { PIPE_SOURCE: uniqueName('sig-in'), PIPE_SINK: uniqueName('sig-out'), PIPE_APP: uniqueName('sig-app') };
    await createTopics([{ topic: env.PIPE_SOURCE, numPartitions: 2 }, { topic: env.PIPE_SINK, numPartitions: 2 }]);
    await produceTo(env.PIPE_SOURCE, Array.from({ length: RECORDS }, (_, i) => `v${i}`));
    const stateDir = mkdtempSync(join(tmpdir(), 'kstreams-shutdown-'));
    const { child, exited, output } = startApp({ ...env, PIPE_STATE_DIR: stateDir, PIPE_RECORDS: String(RECORDS) });
    await new Promise<void>((resolve, reject) => {
      const poll = setInterval(() => {
        if (!output().includes('processed')) return;
        clearInterval(poll);
        resolve();
      }, 20);
      void exited.then((code) => {
        clearInterval(poll);
        reject(new Error(`the app exited (${code}) before processing: ${output()}`));
      });
    });
    const signalled = Date.now();
    child.kill(signal);
    const code = await exited;
    rmSync(stateDir, { recursive: true, force: true });
    expect(code).toBe(0);
    expect(output()).toContain('closed NOT_RUNNING');
    expect(Date.now() - signalled).toBeLessThan(30_000);
    // The commit interval is 10 min: these offsets were committed by the close.
    const [committed] = await withAdmin((admin) => admin.fetchOffsets({ groupId: env.PIPE_APP, topics: [env.PIPE_SOURCE] }));
    expect(committed?.partitions.reduce((n, p) => n + Number(p.offset), 0)).toBe(RECORDS);
  });
});

describe('a fatal error under closeOnSignals', () => {
  it.each([false, true])('closes the instance and exits with code 1 (another handle open: %s)', async (extraHandle) => {
    const env = { PIPE_SOURCE: uniqueName('poison-in'), PIPE_SINK: uniqueName('poison-out'), PIPE_APP: uniqueName('poison-app') };
    await createTopics([{ topic: env.PIPE_SOURCE, numPartitions: 1 }, { topic: env.PIPE_SINK, numPartitions: 1 }]);
    await produceTo(env.PIPE_SOURCE, ['a', 'b', 'poison', 'c']);
    const stateDir = mkdtempSync(join(tmpdir(), 'kstreams-fatal-'));
    const app = startApp({ ...env, PIPE_STATE_DIR: stateDir, PIPE_POISON: 'poison', PIPE_EXTRA_HANDLE: extraHandle ? '1' : '0' });
    // Bounded by the test's timeout: before the fix the process exited 0, or lived on in ERROR.
    const code = await app.exited;
    rmSync(stateDir, { recursive: true, force: true });
    expect(code, app.output()).toBe(1);
    expect(app.output()).toContain('state ERROR');
    expect(app.output()).toContain('poisoned value poison');
  });
});

