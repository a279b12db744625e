/**
 * Evidence for a failed integration test: every instance a test starts logs (info and above) into memory,
 * and when the test fails the lines are written to `test-results/evidence/<test>/<instance>.log` and the
 * last warnings and errors of each instance are printed beside the failure. A run that fails once then
 * explains itself, instead of asking for a rerun with more logging.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFailed, type TestContext } from 'vitest';
import type { Logger } from '../../src/index.js';

const EVIDENCE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../test-results/evidence');

interface Line {
  readonly at: number;
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
}

/** The logs of the instances one test started. */
export class KeptLogs {
  private readonly logs = new Map<string, Line[]>();
  private registered = false;

  /** A logger that keeps what `name` says (and passes it on to `inner`, if given). */
  logger(name: string, inner?: Logger): Logger {
    this.keepOnFailure();
    const lines: Line[] = [];
    this.logs.set(this.logs.has(name) ? `${name}-${this.logs.size}` : name, lines);
    const at =
      (level: Line['level']) =>
      (message: string, fields?: Record<string, unknown>): void => {
        if (level !== 'debug') lines.push({ at: Date.now(), level, message: fields === undefined ? message : `${message} ${JSON.stringify(fields)}` });
        inner?.[level](message, fields);
      };
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  }

  /** Registers the dump with the running test (once; a harness made outside a test keeps nothing). */
  private keepOnFailure(): void {
    if (this.registered) return;
    this.registered = true;
    try {
      onTestFailed((context) => this.dump(context));
    } catch {
      // Not inside a test (a beforeAll): nothing to attach the evidence to.
    }
  }

  private dump(context: { task: TestContext['task'] }): void {
    const test = `${context.task.file?.name ?? 'test'} ${context.task.name}`.replace(/[^a-zA-Z0-9.-]+/g, '_').slice(0, 120);
    const dir = join(EVIDENCE_ROOT, `${test}-${Date.now()}`);
    mkdirSync(dir, { recursive: true });
    const summary: string[] = [`evidence kept in ${dir}`];
    for (const [name, lines] of this.logs) {
      const text = lines.map((l) => `${new Date(l.at).toISOString()} ${l.level.toUpperCase()} ${l.message}`);
      writeFileSync(join(dir, `${name}.log`), `${text.join('\n')}\n`);
      const notable = text.filter((l) => / (WARN|ERROR) /.test(l)).slice(-15);
      summary.push(`--- ${name}: ${lines.length} lines, last warnings and errors:`, ...notable);
    }
    console.error(summary.join('\n'));
  }
}
