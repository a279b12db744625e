/**
 * A task: one sub-topology for one partition, named `<subtopology>_<partition>` as in Kafka Streams. The
 * name travels (assignments, group metadata, metrics, logs) and names the task's state folder on disk, so
 * its form never changes. A branded string: it is a string everywhere one is expected, but only
 * {@link formatTaskId} (and {@link isTaskId}, for a name read from outside) make one, and only
 * {@link parseTaskId} takes one apart.
 */
export type TaskId = string & { readonly __taskId: true };

/** What a task id names. */
export interface TaskIdParts {
  readonly subtopology: number;
  readonly partition: number;
}

export function formatTaskId(task: TaskIdParts): TaskId {
  return `${task.subtopology}_${task.partition}` as TaskId;
}

/** The parts of a task id; throws on a string that is not one. */
export function parseTaskId(id: string): TaskIdParts {
  const [sub, partition] = id.split('_').map(Number);
  if (sub === undefined || partition === undefined || !Number.isInteger(sub) || !Number.isInteger(partition)) {
    throw new Error(`not a task id: ${id}`);
  }
  return { subtopology: sub, partition };
}

/** True when a name read from outside (a state folder's) has exactly the form of a task id. */
export function isTaskId(name: string): name is TaskId {
  return /^\d+_\d+$/.test(name);
}
