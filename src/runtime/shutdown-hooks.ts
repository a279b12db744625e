import type { KafkaStreams } from './kafka-streams.js';

/** Options of {@link installShutdownHooks}. */
export interface ShutdownHookOptions {
  /** Signals that close the instance; default SIGINT (Ctrl-C) and SIGTERM (docker stop, Kubernetes). */
  readonly signals?: readonly NodeJS.Signals[];
  /** How long the clean close may take before the process exits anyway; default 30 000 ms. */
  readonly timeoutMs?: number;
  /**
   * Exit the process once closed (default true): code 0 after a clean close, 1 when the instance had failed
   * or the close timed out. A second signal while closing exits at once (128 + the signal's number).
   */
  readonly exit?: boolean;
  /** Called before exiting, e.g. to close your own clients; default none. */
  readonly onClosed?: () => void | Promise<void>;
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGTERM: 15 };

/**
 * Closes the instance cleanly on SIGINT and SIGTERM: it commits, writes its checkpoints and leaves the
 * group, so a restart neither reprocesses nor waits for the session timeout. Returns a function that
 * removes the handlers.
 *
 * ```ts
 * await app.start();
 * installShutdownHooks(app);
 * ```
 */
export function installShutdownHooks(streams: KafkaStreams, options: ShutdownHookOptions = {}): () => void {
  const signals = options.signals ?? ['SIGINT', 'SIGTERM'];
  const timeoutMs = options.timeoutMs ?? 30_000;
  let closing = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (closing) {
      // Impatience (a second Ctrl-C): leave now, as the shell expects.
      if (options.exit !== false) process.exit(128 + (SIGNAL_NUMBERS[signal] ?? 0));
      return;
    }
    closing = true;
    void (async () => {
      let clean = true;
      const timedOut = Symbol('timeout');
      let timer: NodeJS.Timeout | undefined;
      try {
        const outcome = await Promise.race([
          streams.close(),
          new Promise<symbol>((resolve) => (timer = setTimeout(() => resolve(timedOut), timeoutMs))),
        ]);
        clean = outcome !== timedOut && streams.state === 'NOT_RUNNING';
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
      if (options.exit !== false) process.exit(clean ? 0 : 1);
    })();
  };
  for (const signal of signals) process.on(signal, handler);
  return () => {
    for (const signal of signals) process.off(signal, handler);
  };
}
