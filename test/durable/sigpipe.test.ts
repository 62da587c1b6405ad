// A proxy must outlive the daemon that started it (the next run adopts it), even though its output
// went to pipes that nobody reads any more.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { isAliveNotZombie } from '../../src/process/driver.ts';
import { ROOT, waitUntil } from '../support/daemon.ts';

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

it('a proxy that keeps writing to stdout survives the SIGKILL of the daemon', async () => {
  // Prints a line every 20 ms: the first write after the daemon's death would raise SIGPIPE.
  const chatty = ['/bin/sh', '-c', 'while :; do echo tick; sleep 0.02; done'];
  const daemon = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'support/spawner.ts'), ...chatty], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  daemon.stdout!.on('data', (chunk) => (out += chunk));
  await waitUntil(() => out.includes('\n'), 10_000);
  const pid = Number(out.trim());
  groups.push(pid);
  expect(isAliveNotZombie(pid)).toBe(true);

  daemon.kill('SIGKILL');
  await new Promise((done) => daemon.once('exit', done));
  await new Promise((done) => setTimeout(done, 500)); // 25 writes to the broken pipe
  expect(isAliveNotZombie(pid)).toBe(true);
});
