// A proxy must outlive the daemon that started it (the next run adopts it), even though its output
// went to pipes that nobody reads any more.
import { afterEach, expect, it } from 'vitest';
import { isAliveNotZombie } from '../../src/process/proc.ts';
import { standIn } from './support/stand-in.ts';

const groups: number[] = [];
afterEach(() => {
  for (const pgid of groups.splice(0)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

/** Starts `argv` from a stand-in daemon, SIGKILLs the daemon, and says whether the proxy lived on. */
async function outlivesTheDaemon(argv: string[], spawner: 'helper' | 'child_process'): Promise<boolean> {
  const { daemon, pid } = await standIn(argv, spawner);
  groups.push(pid);
  expect(isAliveNotZombie(pid)).toBe(true);

  daemon.kill('SIGKILL');
  await new Promise((done) => daemon.once('exit', done));
  await new Promise((done) => setTimeout(done, 500)); // 25 writes after the daemon's death
  return isAliveNotZombie(pid);
}

it('a proxy that keeps writing to stdout survives the SIGKILL of the daemon (child_process: no fatal SIGPIPE)', async () => {
  // Prints a line every 20 ms: the first write after the daemon's death would raise SIGPIPE.
  expect(await outlivesTheDaemon(['/bin/sh', '-c', 'while :; do echo tick; sleep 0.02; done'], 'child_process')).toBe(true);
});

it('through the spawn helper, its output is still read after the daemon died: a proxy that dies on EPIPE (as a Go one dies of SIGPIPE, ignored or not) lives on', async () => {
  const diesOnBrokenPipe = ['/bin/sh', '-c', 'while :; do echo tick || exit 7; sleep 0.02; done'];
  expect(await outlivesTheDaemon(diesOnBrokenPipe, 'helper')).toBe(true);
});
