/** closeOnSignals: Ctrl-C (SIGINT) and SIGTERM close the instance once, commit, and exit with code 0. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { brokers, createTopics, kafkaClient, uniqueName, withAdmin } from './kafka-env.js';

const RECORDS = 200;

describe('closeOnSignals', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('%s commits what was processed and exits 0', async (signal) => {
    const env = { PIPE_SOURCE: uniqueName('sig-in'), PIPE_SINK: uniqueName('sig-out'), PIPE_APP: uniqueName('sig-app') };
    await createTopics([{ topic: env.PIPE_SOURCE, numPartitions: 2 }, { topic: env.PIPE_SINK, numPartitions: 2 }]);
    const producer = kafkaClient().producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic: env.PIPE_SOURCE, messages: Array.from({ length: RECORDS }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
    await producer.disconnect();

    const stateDir = mkdtempSync(join(tmpdir(), 'kstreams-shutdown-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/integration/fixtures/shutdown-app.ts'], {
      env: { ...process.env, ...env, KAFKA_BROKERS: brokers().join(','), PIPE_STATE_DIR: stateDir, PIPE_RECORDS: String(RECORDS) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('processed')) resolve();
      });
      void exited.then((code) => reject(new Error(`the app exited (${code}) before processing: ${stdout}`)));
    });
    const signalled = Date.now();
    child.kill(signal);
    const code = await exited;
    rmSync(stateDir, { recursive: true, force: true });
    expect(code).toBe(0);
    expect(stdout).toContain('closed NOT_RUNNING');
    expect(Date.now() - signalled).toBeLessThan(30_000);
    // The commit interval is 10 min: these offsets were committed by the close.
    const [committed] = await withAdmin((admin) => admin.fetchOffsets({ groupId: env.PIPE_APP, topics: [env.PIPE_SOURCE] }));
    expect(committed?.partitions.reduce((n, p) => n + Number(p.offset), 0)).toBe(RECORDS);
  });
});
