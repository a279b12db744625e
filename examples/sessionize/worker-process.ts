/** Runs examples/sessionize/worker.ts as a child process (to kill it), for tests and benchmarks. */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

export interface WorkerEvent {
  event: string;
  [field: string]: unknown;
}

export class Worker {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  events: WorkerEvent[] = [];

  constructor(
    private readonly env: Record<string, string>,
    readonly stateDir: string,
    readonly logFile: string,
    /** The program to run; default this example's worker (the failover benchmark runs Kafka Streams' peer too). */
    private readonly command: readonly [string, readonly string[]] = [process.execPath, ['--import', 'tsx', 'examples/sessionize/worker.ts']],
  ) {}

  start(): void {
    this.events = [];
    const child = spawn(this.command[0], [...this.command[1]], {
      env: { ...process.env, ...this.env, STATE_DIR: this.stateDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as WorkerEvent);
      } catch {
        // not an event line
      }
    });
    // The workers' logs, kept for a failing run to show.
    child.stderr.on('data', (d: Buffer) => appendFileSync(this.logFile, d));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  count(event: string): number {
    return this.events.filter((e) => e.event === event).length;
  }

  async waitFor(event: string, timeoutMs = 30_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.count(event) === 0) {
      if (Date.now() > deadline || this.child?.exitCode !== null) return false;
      await new Promise((r) => setTimeout(r, 5));
    }
    return true;
  }

  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    if (this.child === undefined || this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 30_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** The last `tasks` event of a worker: what it runs and keeps warm. */
export function lastTasks(worker: Worker): { active: string[]; standby: string[]; state: string } | undefined {
  const event = [...worker.events].reverse().find((e) => e.event === 'tasks');
  return event === undefined ? undefined : (event as unknown as { active: string[]; standby: string[]; state: string });
}
