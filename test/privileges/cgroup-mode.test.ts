// cgroup mode, where this machine allows it: a root test makes a cgroup v2 directory, starts the
// daemon in it (as systemd's Delegate=yes would), and checks that a proxy that leaves its process
// group is still counted and still stopped. Memory and pids limits need the memory and pids
// controllers in the v2 hierarchy; on a cgroup v1 "hybrid" host they are not, and the daemon says so.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API } from '../api/real-daemon.ts';
import { CLI, ROOT, waitUntil, writeConfig, type LogLine } from '../support/daemon.ts';

/** The cgroup v2 mount of this host, when a root test can make cgroups in it. */
function v2Root(): string | undefined {
  const line = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .find((l) => / - cgroup2 /.test(l));
  const mount = line?.split(' ')[4];
  try {
    if (mount === undefined || process.getuid?.() !== 0) return undefined;
    accessSync(join(mount, 'cgroup.procs'), constants.W_OK);
    return mount;
  } catch {
    return undefined;
  }
}

const mount = v2Root();
const procs = (dir: string) =>
  existsSync(join(dir, 'cgroup.procs')) ? readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number) : [];
const ppid = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
const pgid = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[2]);

(mount ? describe : describe.skip)(`cgroup mode${mount ? '' : ' [skipped: needs root and a writable cgroup v2 hierarchy]'}`, () => {
  const cg = join(mount ?? '/nonexistent', `pm-test-${process.pid}-${Date.now()}`);
  let child: ChildProcess;
  let url: string;
  const lines: LogLine[] = [];

  beforeAll(async () => {
    mkdirSync(cg);
    const { configFile } = writeConfig({
      api: { listen: '127.0.0.1:0' },
      proxy: {
        monitor: { enable: true, check_interval: 1 },
        // Daemonizes a helper into a session (and process group) of its own, then keeps running.
        proxies: [
          {
            id: 'escaper',
            type: 'exec',
            command: '/bin/sh',
            args: ['-c', 'setsid sleep 1000 & exec sleep 1000'],
            health: { process: true },
          },
        ],
      },
    });
    // Started inside the test's cgroup, alone in it: a delegated subtree, as systemd would hand it over.
    child = spawn('/bin/sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cg, process.execPath, CLI, 'run', '--config', configFile], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        lines.push(JSON.parse(line));
      } catch {
        lines.push({ message: line });
      }
    });
    await waitUntil(() => lines.some((l) => l.message === 'api listening'), 60_000, 50);
    url = lines.find((l) => l.message === 'api listening')!.url as string;
    // The API is bound before any proxy starts: until the proxy's wrapper has joined its own cgroup,
    // the new process is still in the helper's (<cgroup>/supervisor). The tests begin after that.
    await waitUntil(() => procs(join(cg, 'proxy-escaper')).length > 0, 60_000, 50);
  }, 90_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((done) => child.once('exit', done));
    }
    // Anything left (a failed test) is ours: the cgroup holds only what this test started.
    for (const sub of existsSync(cg) ? readdirSync(cg, { withFileTypes: true }).filter((d) => d.isDirectory()) : []) {
      for (const pid of procs(join(cg, sub.name))) process.kill(pid, 'SIGKILL');
    }
    await new Promise((done) => setTimeout(done, 200));
    for (const sub of existsSync(cg) ? readdirSync(cg, { withFileTypes: true }).filter((d) => d.isDirectory()) : [])
      rmdirSync(join(cg, sub.name));
    if (existsSync(cg)) rmdirSync(cg);
  });

  it('says once that it runs in cgroup mode, and moves itself into <cgroup>/supervisor', () => {
    const mode = lines.filter((l) => l.containment !== undefined);
    expect(mode).toHaveLength(1);
    const available = readFileSync(join(cg, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
    expect(mode[0]).toMatchObject({
      containment: 'cgroup',
      cgroup: cg,
      controllers: ['memory', 'pids', 'cpu'].filter((c) => available.includes(c)),
    });
    // The daemon, and its spawn helper (started after the move, so a child in the same cgroup).
    const supervisor = procs(join(cg, 'supervisor'));
    expect(supervisor).toContain(child.pid);
    expect(supervisor.filter((pid) => pid !== child.pid).map(ppid)).toEqual(supervisor.length > 1 ? [child.pid] : []);
  });

  it("counts a process that left the proxy's process group, reports usage from the cgroup, and stops it too", async () => {
    const dir = join(cg, 'proxy-escaper');
    // Both in the proxy's cgroup, and one of them out of its process group: the background child
    // is forked in the group and only leaves it when setsid(1) runs, so the test waits for that too.
    const escaped = () => {
      const p = procs(dir);
      try {
        return p.length === 2 && pgid(p[0]) !== pgid(p[1]);
      } catch {
        return false; // one of them exec'd or ended between the two reads
      }
    };
    await waitUntil(escaped, 30_000, 50);
    const [a, b] = procs(dir);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^proxy_monitor_proxy_memory_bytes\{proxy_id="escaper"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^proxy_monitor_proxy_cpu_seconds\{proxy_id="escaper"\} [\d.e-]+$/m);
    const stopped = await fetch(`${url}${API}/proxies/escaper/stop`, { method: 'POST' });
    expect(stopped.status).toBe(200);
    await waitUntil(() => procs(dir).length === 0, 30_000, 50);
    for (const pid of [a, b])
      expect(existsSync(`/proc/${pid}/stat`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))).toBe(false);
  }, 60_000);
});
