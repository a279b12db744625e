import { describe, expect, it } from 'vitest';
import { computeAssignment } from '../../src/runtime/task-assignor.js';

const tasks = ['0_0', '0_1', '0_2', '0_3', '0_4', '0_5', '1_0', '1_1', '1_2', '1_3', '1_4', '1_5'];

function moves(before: Map<string, string[]>, after: Map<string, string[]>): number {
  const owner = new Map<string, string>();
  for (const [m, ts] of before) for (const t of ts) owner.set(t, m);
  let n = 0;
  for (const [m, ts] of after) for (const t of ts) if (owner.has(t) && owner.get(t) !== m) n++;
  return n;
}

describe('task assignment', () => {
  it('spreads every sub-topology evenly over the members', () => {
    const result = computeAssignment([{ memberId: 'a', owned: tasks }, { memberId: 'b', owned: [] }], tasks);
    for (const tasksOf of result.values()) {
      expect(tasksOf.filter((t) => t.startsWith('0_'))).toHaveLength(3);
      expect(tasksOf.filter((t) => t.startsWith('1_'))).toHaveLength(3);
    }
  });

  it('keeps tasks with their owner, moving only what balance needs', () => {
    const three = computeAssignment(
      ['a', 'b', 'c'].map((memberId) => ({ memberId, owned: [] })),
      tasks,
    );
    const owned = (m: string) => three.get(m)!;
    // A fourth member joins: it takes a fair share; nobody else trades tasks.
    const four = computeAssignment(
      [...['a', 'b', 'c'].map((memberId) => ({ memberId, owned: owned(memberId) })), { memberId: 'd', owned: [] }],
      tasks,
    );
    expect([...four.values()].map((t) => t.length)).toEqual([3, 3, 3, 3]);
    expect(moves(three, four)).toBe(four.get('d')!.length);
    // Member b leaves: only b's tasks move.
    const two = computeAssignment(
      ['a', 'c'].map((memberId) => ({ memberId, owned: owned(memberId) })),
      tasks,
    );
    expect(moves(three, two)).toBe(owned('b').length);
  });

  it('assigns every task exactly once', () => {
    const result = computeAssignment(['x', 'y', 'z', 'w', 'v'].map((memberId) => ({ memberId, owned: [] })), tasks);
    expect([...result.values()].flat().sort()).toEqual([...tasks].sort());
  });
});
