/**
 * `npm run broker`: runs the local Kafka broker in the foreground until Ctrl-C, printing its bootstrap address.
 * Useful to poke at a broker by hand or to share one broker across several test runs (KAFKA_BROKERS=...).
 *
 * It stops the broker on SIGINT and SIGTERM alike, and also when a process it was started from ends: npm
 * does not pass a SIGTERM sent to its own pid on to the script, which is then left running under another
 * parent (and the broker's watchdog in local-kafka.ts watches this process only).
 */
import { execFileSync } from 'node:child_process';
import { isAlive, startLocalKafka } from './local-kafka.js';

/** The pids this process was started from (npm, its shell, tsx...), parent first, up to init (excluded). */
function ancestors(): number[] {
  const chain: number[] = [];
  let pid = process.ppid;
  while (pid > 1 && chain.length < 16) {
    chain.push(pid);
    try {
      pid = Number(execFileSync('ps', ['-o', 'ppid=', '-p', String(pid)], { encoding: 'utf8' }).trim());
    } catch {
      break; // gone already, or no ps: the direct parent is still watched
    }
  }
  return chain;
}


const parent = process.ppid;
const chain = ancestors();
const kafka = await startLocalKafka({ log: (line) => console.error(line) });
console.log(kafka.bootstrap);
console.error(`export KAFKA_BROKERS=${kafka.bootstrap}   # Ctrl-C stops the broker; log: ${kafka.logFile}`);
let stopping = false;
const shutdown = (): void => {
  if (stopping) return;
  stopping = true;
  void kafka.stop().then(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
process.on('SIGHUP', shutdown);
// Reparented (the parent died) or an ancestor gone: whoever ran `npm run broker` was stopped.
setInterval(() => {
  if (process.ppid !== parent || !chain.every(isAlive)) shutdown();
}, 1000);
