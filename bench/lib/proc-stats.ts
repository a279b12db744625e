/**
 * What the operating system says about a contender's process, read from /proc (Linux) so that our Node
 * processes and Kafka Streams' JVM are measured the same way, from outside: CPU time (user + system) and
 * resident memory now; and the bytes a folder holds on disk.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

let ticksPerSecond: number | undefined;

/** Clock ticks per second of /proc/<pid>/stat's times (`getconf CLK_TCK`, 100 on Linux nearly always). */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim();
    ticksPerSecond = out !== undefined && /^\d+$/.test(out) ? Number(out) : 100;
  }
  return ticksPerSecond;
}

/** CPU seconds (user + system, every thread) a live process has used so far; NaN when it cannot be read. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces, so cut after its closing parenthesis):
    // state is field 3, utime field 14, stime field 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks();
  } catch {
    return Number.NaN;
  }
}

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? Number.NaN : Number(match[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** Resident memory of a live process now, in MB (MiB); NaN when it cannot be read. */
export function residentMb(pid: number): number {
  return statusField(pid, 'VmRSS');
}

/** Peak resident memory of a live process so far, in MB (MiB). */
export function peakResidentMb(pid: number): number {
  return statusField(pid, 'VmHWM');
}

/** Bytes of every file under a folder (0 when it does not exist). */
export function folderBytes(dir: string): number {
  let total = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += folderBytes(path);
    else if (entry.isFile()) total += statSync(path, { throwIfNoEntry: false })?.size ?? 0;
  }
  return total;
}
