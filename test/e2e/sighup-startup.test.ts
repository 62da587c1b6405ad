// Signals that arrive while the daemon is still starting (`systemctl reload` right after start, a
// log rotation's USR1, a Ctrl-C) must neither kill it nor open Node's debugger: each acts once
// start-up is over, as it would have then.
import { afterEach, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { pidsMatching, startDaemon, waitUntil, writeConfig, type TestDaemon } from '../support/daemon.ts';

/** Whether the process has a handler for signal number `signo` (SigCgt in /proc/<pid>/status). */
function catches(pid: number, signo: number): boolean {
  const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return mask !== undefined && (BigInt(`0x${mask}`) & (1n << BigInt(signo - 1))) !== 0n;
}

let daemon: TestDaemon | undefined;
/** The proxy's argument: its process is found by it. */
const SLEEP = '313.5';
afterEach(async () => {
  await daemon?.stop('SIGTERM');
});

/** A daemon with one proxy, and signals sent to it during its start-up. */
async function signalledWhileStarting(signals: NodeJS.Signals[]): Promise<TestDaemon> {
  const { dir, configFile } = writeConfig({
    proxy: { monitor: { enable: true }, proxies: [{ id: 'sleeper', type: 'exec', command: '/bin/sleep', args: [SLEEP] }] },
    api: { listen: '127.0.0.1:0' },
  });
  daemon = startDaemon(configFile, dir);
  // Once Node runs (its own SIGUSR1 handler is in place) and bin/ has noted its first line (SIGHUP
  // caught), 200 ms later at most: loading the sources takes a second or more, so they land inside start-up.
  const pid = daemon.child.pid!;
  await waitUntil(() => catches(pid, 10), 10_000, 2);
  await waitUntil(() => catches(pid, 1), 200, 2).catch(() => {});
  for (let i = 0; i < 3; i++) {
    for (const signal of signals) daemon.child.kill(signal);
    await new Promise((r) => setTimeout(r, 50));
  }
  return daemon;
}

it('survives SIGHUP, SIGUSR1 and SIGUSR2 during start-up: one reload after it, no debugger', async () => {
  const d = await signalledWhileStarting(['SIGHUP', 'SIGUSR1', 'SIGUSR2']);
  await d.waitFor((l) => l.message === 'proxy monitor started', 30_000);
  await d.waitFor((l) => l.message === 'config reloaded', 10_000);
  const handled = d.lines.filter((l) => l.message === 'signal received during start-up: handled now').map((l) => l.signal);
  expect(handled.sort()).toEqual(['SIGHUP', 'SIGUSR1', 'SIGUSR2']);
  // In the order the kernel delivered them, which is not always the order sent.
  expect(
    d.lines
      .filter((l) => l.message === 'signal ignored')
      .map((l) => l.signal)
      .sort(),
  ).toEqual(['SIGUSR1', 'SIGUSR2']);
  await new Promise((r) => setTimeout(r, 500));
  expect(d.lines.filter((l) => l.message === 'config reloaded')).toHaveLength(1);
  expect(d.stderr()).not.toContain('Debugger listening');
  expect(d.child.exitCode).toBeNull();
  expect(d.child.signalCode).toBeNull();
  expect(await d.stop('SIGTERM')).toBe(0);
}, 60_000);

it('a SIGTERM during start-up stops the daemon and its proxies once started, exit 0', async () => {
  const d = await signalledWhileStarting(['SIGTERM']);
  expect(await d.exited).toBe(0);
  expect(d.lines.some((l) => l.message === 'proxy monitor started')).toBe(true);
  expect(d.lines.some((l) => l.message === 'signal received during start-up: handled now' && l.signal === 'SIGTERM')).toBe(true);
  expect(pidsMatching(`sleep ${SLEEP}`)).toEqual([]);
}, 60_000);
