// A SIGHUP that arrives while the daemon is still starting (systemctl reload right after start) must
// not kill it: the reload it asks for is applied once start-up is over.
import { afterAll, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { startDaemon, waitUntil, writeConfig, type TestDaemon } from '../support/daemon.ts';

/** Whether the process has a handler for signal number `signo` (SigCgt in /proc/<pid>/status). */
function catches(pid: number, signo: number): boolean {
  const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return mask !== undefined && (BigInt(`0x${mask}`) & (1n << BigInt(signo - 1))) !== 0n;
}

let daemon: TestDaemon | undefined;
afterAll(async () => {
  await daemon?.stop('SIGTERM');
});

it('survives SIGHUP during start-up and applies the reload after it', async () => {
  const { dir, configFile } = writeConfig({
    proxy: { monitor: { enable: true }, proxies: [{ id: 'sleeper', type: 'exec', command: '/bin/sleep', args: ['300'] }] },
    api: { listen: '127.0.0.1:0' },
  });
  daemon = startDaemon(configFile, dir);
  // Once Node runs (its own SIGUSR1 handler is in place), HUPs at once, or 200 ms later at most:
  // loading the sources takes a second or more, so they land inside start-up.
  const pid = daemon.child.pid!;
  await waitUntil(() => catches(pid, 10), 10_000, 2);
  await waitUntil(() => catches(pid, 1), 200, 2).catch(() => {});
  for (let i = 0; i < 6; i++) {
    daemon.child.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 50));
  }
  await daemon.waitFor((l) => l.message === 'proxy monitor started', 30_000);
  await daemon.waitFor((l) => l.message === 'reload requested during start-up: applying it now', 10_000);
  await daemon.waitFor((l) => l.message === 'config reloaded', 10_000);
  expect(daemon.child.exitCode).toBeNull();
  expect(daemon.child.signalCode).toBeNull();
  expect(await daemon.stop('SIGTERM')).toBe(0);
}, 60_000);
