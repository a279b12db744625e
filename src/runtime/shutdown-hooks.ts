import type { KafkaStreams } from './kafka-streams.js';

/** Options of {@link installShutdownHooks}. */
export interface ShutdownHookOptions {
  /** Signals that close the instance; default SIGINT (Ctrl-C) and SIGTERM (docker stop, Kubernetes). */
  readonly signals?: readonly NodeJS.Signals[];
  /** How long the clean close may take before the process exits anyway; default 30 000 ms. */
  readonly timeoutMs?: number;
  /**
   * Exit the process once closed (default true): code 0 after a clean close, 1 when the instance had failed
   * or the close timed out (and, with `exitOnError`, after a fatal error). A second signal while closing exits at once (128 + the signal's number).
   */
  readonly exit?: boolean;
  /** Called before exiting, e.g. to close your own clients; default none. */
  readonly onClosed?: () => void | Promise<void>;
  /**
   * When the instance reaches ERROR (a fatal error the uncaught exception handler did not replace a thread
   * for), close it and exit with code 1 (default true, with `exit`). An orchestrator then sees a failure and
   * restarts the process, instead of a process that exits 0 or lingers in ERROR because another handle (an
   * HTTP server) keeps it alive. Set false to handle ERROR yourself (`app.on('stateChange', …)`).
   */
  readonly exitOnError?: boolean;
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGTERM: 15 };

/**
 * Closes the instance cleanly on SIGINT and SIGTERM: it commits, writes its checkpoints and leaves the
 * group, so a restart neither reprocesses nor waits for the session timeout. On a fatal error (state ERROR)
 * it closes the instance and exits with code 1 (see `exitOnError`). Returns a function that removes the
 * handlers.
 *
 * ```ts
 * await app.start();
 * installShutdownHooks(app);
 * ```
 */
export function installShutdownHooks(streams: KafkaStreams, options: ShutdownHookOptions = {}): () => void {
  const signals = options.signals ?? ['SIGINT', 'SIGTERM'];
  const timeoutMs = options.timeoutMs ?? 30_000;
  const exit = options.exit !== false;
  let closing = false;
  /** Closes once, then exits: 0 after a clean close that was asked for, 1 otherwise. */
  const shutDown = async (failed: boolean): Promise<void> => {
    closing = true;
    let clean = !failed;
    const timedOut = Symbol('timeout');
    let timer: NodeJS.Timeout | undefined;
    try {
      const outcome = await Promise.race([
        streams.close(),
        new Promise<symbol>((resolve) => (timer = setTimeout(() => resolve(timedOut), timeoutMs))),
      ]);
      clean &&= outcome !== timedOut && streams.state === 'NOT_RUNNING';
    } catch {
      clean = false;
    } finally {
      clearTimeout(timer);
    }
    try {
      await options.onClosed?.();
    } catch {
      clean = false;
    }
    if (exit) process.exit(clean ? 0 : 1);
  };
  const handler = (signal: NodeJS.Signals): void => {
    if (closing) {
      // Impatience (a second Ctrl-C): leave now, as the shell expects.
      if (exit) process.exit(128 + (SIGNAL_NUMBERS[signal] ?? 0));
      return;
    }
    void shutDown(false);
  };
  let removed = false;
  if (exit && options.exitOnError !== false) {
    streams.on('stateChange', (next) => {
      if (next === 'ERROR' && !closing && !removed) void shutDown(true);
    });
    if (streams.state === 'ERROR') void shutDown(true);
  }
  for (const signal of signals) process.on(signal, handler);
  return () => {
    removed = true;
    for (const signal of signals) process.off(signal, handler);
  };
}
