// What a leader left in its group, judged when its exit is seen: an adopted leader (not our child)
// may still be a zombie then, and must not count as a process left behind.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { afterEach, expect, it } from 'vitest';
import { processState } from '../../src/process/proc.ts';
import { createGroupStopper } from '../../src/process/signal.ts';
import { waitUntil } from '../support/daemon.ts';

// A parent that forks a child leading its own group and never reaps it; the child prints its pid,
// then exits (its own group empty but for its zombie), or first forks a member that stays.
const parent = (leaveMember: boolean) =>
  spawn('perl', [
    '-e',
    `my $c = fork(); if ($c == 0) { setpgrp(0, 0); ${leaveMember ? 'if (fork() == 0) { sleep 30; exit 0 }' : ''} print "$$\\n"; exit 0 } sleep 30;`,
  ]);

const parents: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const p of parents.splice(0)) p.kill('SIGKILL');
});

async function zombieLeader(leaveMember: boolean): Promise<number> {
  const child = parent(leaveMember);
  parents.push(child);
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const pid = Number(line);
  await waitUntil(() => processState(pid) === 'Z', 5_000);
  return pid;
}

it('a zombie leader alone in its group left nothing behind', async () => {
  expect(createGroupStopper(await zombieLeader(false)).leaderExited()).toBe(false);
});

it('a zombie leader with a live member left that member (killed)', async () => {
  expect(createGroupStopper(await zombieLeader(true)).leaderExited()).toBe(true);
});
