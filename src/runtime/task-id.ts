/** A task: one sub-topology for one partition, `<subtopology>_<partition>` as in Kafka Streams. */
export interface TaskId {
  readonly subtopology: number;
  readonly partition: number;
}

export function formatTaskId(task: TaskId): string {
  return `${task.subtopology}_${task.partition}`;
}

export function parseTaskId(id: string): TaskId {
  const [sub, partition] = id.split('_').map(Number);
  if (sub === undefined || partition === undefined || !Number.isInteger(sub) || !Number.isInteger(partition)) {
    throw new Error(`not a task id: ${id}`);
  }
  return { subtopology: sub, partition };
}
