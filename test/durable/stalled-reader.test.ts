// A daemon that stops reading (stopped by a signal, its event loop held) must not stall the proxies
// that write to their output: the spawn helper keeps draining their pipes, and drops (and counts)
// what the daemon cannot take. And a proxy that floods its output is held to the helper's budget.
import { readFileSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { standIn } from './support/stand-in.ts';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup.splice(0)) {
    try {
      step();
    } catch {
      // Already gone.
    }
  }
});

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Bytes the process has written so far (/proc/<pid>/io): they stop growing while a write blocks. */
const written = (pid: number) => Number(/^wchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);

it('through the spawn helper, a proxy that writes without pause keeps running while the daemon is stopped', async () => {
  const { daemon, pid } = await standIn(['yes', 'a line of a proxy that logs every request it serves'], 'helper');
  cleanup.push(
    () => process.kill(-pid, 'SIGKILL'),
    () => daemon.kill('SIGKILL'),
    () => daemon.kill('SIGCONT'),
  );
  await sleep(300);
  daemon.kill('SIGSTOP');
  // Past the second in which the helper passes its 4 MiB of output on: more than its pipe to the daemon holds.
  await sleep(1_500);
  const before = written(pid);
  await sleep(1_000);
  expect(written(pid) - before).toBeGreaterThan(256 << 10); // blocked, it would write nothing: the pipes hold 64 KiB each
}, 30_000);

it("through the spawn helper, a proxy that writes without pause is held to the helper's budget (4 MiB a second), not read and dropped at full speed", async () => {
  const { daemon, pid } = await standIn(['yes', 'a line of a proxy that logs every request it serves'], 'helper');
  cleanup.push(
    () => process.kill(-pid, 'SIGKILL'),
    () => daemon.kill('SIGKILL'),
  );
  await sleep(500);
  const before = written(pid);
  await sleep(2_000);
  // Two seconds' budget and the pipe; read without rest, yes writes hundreds of MiB a second.
  expect(written(pid) - before).toBeLessThan(3 * (4 << 20) + (1 << 20));
}, 30_000);
