import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Tasks whose state is on this machine's disk, with how far their stores are (changelog offsets summed,
 * from each task's `.checkpoint`), for the assignor: a task that must move goes where its state already is.
 */
export function localTaskOffsets(stateDir: string, applicationId: string, except: ReadonlySet<string>): Record<string, number> {
  const root = join(stateDir, applicationId);
  const result: Record<string, number> = {};
  if (!existsSync(root)) return result;
  for (const taskId of readdirSync(root)) {
    if (except.has(taskId) || !/^\d+_\d+$/.test(taskId)) continue;
    try {
      const { positions } = JSON.parse(readFileSync(join(root, taskId, '.checkpoint'), 'utf8')) as { positions?: Record<string, string> };
      let sum = 0;
      for (const p of Object.values(positions ?? {})) sum += Number(p);
      result[taskId] = sum;
    } catch {
      // no checkpoint yet: the task's state is not worth steering for
    }
  }
  return result;
}
