/**
 * `npm run broker` stops its broker however it is stopped: a SIGTERM to npm's pid (npm does not pass it on
 * to the script) and Ctrl-C (SIGINT to the terminal's process group) alike.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { canStartLocalKafka, isAlive } from '../../scripts/local-kafka.js';


function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** Starts `npm run broker` in a process group of its own; resolves with the broker's port and JVM pid. */
async function startBroker(): Promise<{ npm: ChildProcess; port: number; jvmPid: number }> {
  const npm = spawn('npm', ['run', 'broker'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let jvmPid = 0;
  createInterface({ input: npm.stderr }).on('line', (line) => {
    const pid = / broker up at .* \(pid (\d+)\)/.exec(line)?.[1];
    if (pid !== undefined) jvmPid = Number(pid);
  });
  const port = await new Promise<number>((resolve, reject) => {
    npm.on('exit', (code) => reject(new Error(`npm run broker exited (${code}) before printing the address`)));
    createInterface({ input: npm.stdout }).on('line', (line) => {
      const printed = /^127\.0\.0\.1:(\d+)$/.exec(line.trim())?.[1];
      if (printed !== undefined) resolve(Number(printed));
    });
  });
  expect(jvmPid).toBeGreaterThan(0);
  return { npm, port, jvmPid };
}

describe.skipIf(!canStartLocalKafka())('npm run broker', () => {
  it.each([
    ['a SIGTERM to npm', (npm: ChildProcess) => process.kill(npm.pid!, 'SIGTERM')],
    ['Ctrl-C (SIGINT to the process group)', (npm: ChildProcess) => process.kill(-npm.pid!, 'SIGINT')],
  ])('stops the broker on %s', async (_how, stop) => {
    const { npm, port, jvmPid } = await startBroker();
    try {
      expect(await portAnswers(port)).toBe(true);
      stop(npm);
      await expect.poll(async () => isAlive(jvmPid) || (await portAnswers(port)), { timeout: 30_000, interval: 250 }).toBe(false);
    } finally {
      if (isAlive(jvmPid)) process.kill(jvmPid, 'SIGKILL');
      try {
        process.kill(-npm.pid!, 'SIGKILL');
      } catch {
        // the group is gone
      }
    }
  }, 180_000);
});
