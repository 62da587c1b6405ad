// Signals to the daemon process: none of the stray ones ends it (or opens Node's debugger), and a
// second stop signal does not cut a stubborn proxy's stop_timeout short.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { API, apiUrl, getJson } from '../api/real-daemon.ts';
import { CLI, pidsMatching, startDaemon, waitUntil, writeConfig, type TestDaemon } from '../support/daemon.ts';

let daemon: TestDaemon | undefined;
afterAll(async () => {
  await daemon?.stop('SIGKILL');
});

it('ignores stray signals with a log line, and stops once, waiting out stop_timeout, under repeated TERM and INT', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pm-signals-'));
  const { configFile } = writeConfig(
    {
      proxy: {
        monitor: { enable: true, stop_timeout: 2 },
        // `dir` on its command line ($0) makes the process this test's own; `trapped` says it ignores
        // TERM from now on (a TERM sent before the shell ran `trap` would end it at once).
        proxies: [{ id: 'stubborn', type: 'exec', command: '/bin/sh', args: ['-c', 'trap "" TERM; : > "$0/trapped"; sleep 300; :', dir] }],
      },
      api: { listen: '127.0.0.1:0' },
    },
    dir,
  );
  daemon = startDaemon(configFile, dir);
  await daemon.waitFor((l) => l.message === 'proxy monitor started', 30_000);
  await waitUntil(() => existsSync(join(dir, 'trapped')), 10_000);

  const stray = ['SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGVTALRM', 'SIGPROF', 'SIGXFSZ'] as const;
  for (const signal of stray) daemon.child.kill(signal);
  for (const signal of stray) await daemon.waitFor((l) => l.message === 'signal ignored' && l.signal === signal, 10_000);
  expect(daemon.child.exitCode).toBeNull();
  expect(daemon.stderr()).not.toMatch(/Debugger listening/);

  const began = performance.now();
  daemon.child.kill('SIGTERM');
  await daemon.waitFor((l) => l.message === 'signal received', 10_000);
  daemon.child.kill('SIGTERM');
  daemon.child.kill('SIGINT');
  const code = await daemon.exited;
  const took = performance.now() - began;
  expect(code).toBe(0);
  expect(daemon.lines.filter((l) => l.message === 'signal received while stopping: still stopping')).toHaveLength(2);
  expect(daemon.lines.some((l) => l.message === 'proxy monitor stopped')).toBe(true);
  // The stubborn proxy had its whole stop_timeout (2 s), then SIGKILL, which the log says: nothing is left.
  expect(took).toBeGreaterThanOrEqual(1_900);
  expect(daemon.lines.find((l) => l.message === 'proxy ignored SIGTERM for its stop_timeout: sent SIGKILL to its group')).toMatchObject({
    level: 'warn',
    proxy_id: 'stubborn',
    stop_timeout: 2,
  });
  expect(pidsMatching(dir)).toEqual([]);
}, 60_000);

it('exits once stopped even when nobody reads its stdout: the log lines not taken within 5 s are dropped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pm-signals-'));
  const { configFile } = writeConfig(
    {
      proxy: {
        monitor: { enable: true },
        proxies: [{ id: 'chatty', type: 'exec', command: '/bin/sh', args: ['-c', 'yes chatty-line', dir] }],
      },
      api: { listen: '127.0.0.1:0' },
      log: { output_rate: 10_000 },
    },
    dir,
  );
  // stdout is a pipe this test never reads (a stuck journald, a `| tee` on a full disk): it fills at once.
  const child = spawn(process.execPath, [CLI, 'run', '--config', configFile], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    await waitUntil(() => pidsMatching(dir).length > 0, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(pidsMatching(dir)).toEqual([]);
  } finally {
    child.kill('SIGKILL');
    child.stdout?.destroy();
  }
}, 60_000);

it('killed right after its stop began: the ends of the proxies it stopped are not crashes at the next start', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pm-signals-'));
  const proxies = ['a', 'b', 'c'].map((id) => ({ id, type: 'exec', command: '/bin/sh', args: ['-c', 'sleep 300; :', dir, id] }));
  const { configFile } = writeConfig({ proxy: { monitor: { enable: true }, proxies }, api: { listen: '127.0.0.1:0' } }, dir);
  const proxyPids = () => pidsMatching(`sleep 300; : ${dir}`); // not the daemon's, whose config is in dir
  const first = startDaemon(configFile, dir);
  try {
    const url = await apiUrl(first);
    // Its processes known to the daemon (recorded), not only started.
    const recorded = async () =>
      ((await getJson(`${url}${API}/proxies`)).json.proxies as Array<{ pid: number | null }>).every((p) => p.pid !== null);
    await waitUntil(recorded, 30_000);
    first.child.kill('SIGTERM');
    await first.waitFor((l) => l.message === 'proxy monitor stopping: stopping every proxy', 10_000);
    first.child.kill('SIGKILL'); // before it could record the exits it caused
    await first.exited;
    await waitUntil(() => proxyPids().length === 0, 10_000);
    daemon = startDaemon(configFile, dir);
    await waitUntil(() => proxyPids().length === 3, 30_000);
    await daemon.waitFor((l) => l.message === 'health check round finished' || l.message === 'proxy monitor started', 10_000);
    expect(daemon.lines.filter((l) => l.message === 'proxy crash detected')).toEqual([]);
    expect(daemon.lines.filter((l) => /ended while the daemon was down/.test(String(l.message)))).toEqual([]);
    await daemon.stop('SIGTERM');
    daemon = undefined;
  } finally {
    // Whatever failed, nothing of this test is left running.
    first.child.kill('SIGKILL');
    for (const pid of proxyPids()) process.kill(pid, 'SIGKILL');
  }
}, 60_000);
