/** Runs one contender as a child process and collects the JSON line it prints. */
import { spawn } from 'node:child_process';

export interface RunFigures {
  seconds: number;
  peakRssMb: number;
  [field: string]: unknown;
}

export function runChild(command: string, args: string[], env: Record<string, string>, label: string): Promise<RunFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      const line = out.trim().split('\n').reverse().find((l) => l.startsWith('{'));
      if (code !== 0 || line === undefined) {
        reject(new Error(`${label} exited with ${code}:\n${err.slice(-4000)}\n${out.slice(-2000)}`));
        return;
      }
      resolve(JSON.parse(line) as RunFigures);
    });
  });
}

/**
 * Our runtime on the sessionization topology, in its own Node process; OURS_NODE_FLAGS adds Node/V8 flags
 * (space-separated), e.g. `--max-old-space-size=1024`; an `OURS_NODE_FLAGS` in `env` takes precedence.
 */
export function runOurs(env: Record<string, string>, label: string): Promise<RunFigures> {
  const flags = (env.OURS_NODE_FLAGS ?? process.env.OURS_NODE_FLAGS)?.split(' ').filter(Boolean) ?? [];
  return runChild(process.execPath, ['--expose-gc', ...flags, '--import', 'tsx', 'bench/lib/ours-process.ts'], env, label);
}
