import { describe, expect, it } from 'vitest';
import { formatTaskId, isTaskId, parseTaskId } from '../../src/processor/task-id.js';

describe('task ids', () => {
  it('are `<subtopology>_<partition>`, the name of the task folder, and parse back to their parts', () => {
    const id = formatTaskId({ subtopology: 1, partition: 12 });
    expect(id).toBe('1_12');
    expect(parseTaskId(id)).toEqual({ subtopology: 1, partition: 12 });
    expect(() => parseTaskId('global')).toThrow('not a task id: global');
  });

  it('recognizes only names of exactly that form among the folders of the state directory', () => {
    expect(isTaskId('0_3')).toBe(true);
    for (const name of ['global', '0_', '_3', '0_3_1', 'a_3', '.lock']) expect(isTaskId(name)).toBe(false);
  });
});
