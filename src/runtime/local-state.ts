import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isTaskId } from '../processor/task-id.js';
import { CheckpointFile } from './state/checkpoint-file.js';

/**
 * Tasks whose state is on this machine's disk, with how far their stores are (changelog offsets summed,
 * from each task's `.checkpoint`), for the assignor: a task that must move goes where its state already is.
 */
export function localTaskOffsets(stateDir: string, applicationId: string, except: ReadonlySet<string>): Record<string, number> {
  const root = join(stateDir, applicationId);
  const result: Record<string, number> = {};
  if (!existsSync(root)) return result;
  for (const taskId of readdirSync(root)) {
    if (except.has(taskId) || !isTaskId(taskId)) continue;
    const positions = CheckpointFile.readSync(join(root, taskId));
    // no checkpoint yet: the task's state is not worth steering for
    if (positions === undefined) continue;
    let sum = 0;
    for (const p of positions.values()) sum += Number(p);
    result[taskId] = sum;
  }
  return result;
}
