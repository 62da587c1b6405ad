// Which containment the daemon runs in (src/process/cgroup.ts), read from this process's own /proc:
// its cgroup v2 directory (the one whose cgroup.procs lists it), and the fallback to process groups,
// with the reason, where the daemon has no delegated cgroup of its own. A delegated tree (systemd
// Delegate=yes) is not what tests run in; its part is tested on a stand-in tree in cgroup.test.ts.
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cgroupOf, cgroupUsage, killCgroup, proxyCgroupOf, setUpContainment } from '../../src/process/cgroup.ts';
import { isAliveNotZombie, processState } from '../../src/process/proc.ts';
import { processUsage } from '../../src/process/usage.ts';
import { waitUntil } from '../support/daemon.ts';

const own = cgroupOf('self');
const inRoot = /^0::\/$/m.test(readFileSync('/proc/self/cgroup', 'utf8'));
/** Root in the v2 root cgroup may make a child cgroup there: the kernel's part can then be tested. */
const canCreate =
  own !== undefined &&
  inRoot &&
  (() => {
    try {
      accessSync(join(own, 'cgroup.procs'), constants.W_OK);
      return process.getuid?.() === 0;
    } catch {
      return false;
    }
  })();

/** A sleeping process of this test's own (`marker` on its command line), leading its own group. */
function sleeper(marker: string): number {
  const child = spawn('/bin/sh', ['-c', 'exec sleep 300', marker], { detached: true, stdio: 'ignore' });
  child.unref();
  return child.pid!;
}

describe('cgroupOf', () => {
  it.skipIf(own === undefined)('is the cgroup v2 directory whose cgroup.procs lists the process, without a trailing slash', () => {
    expect(cgroupOf(process.pid)).toBe(own);
    expect(own!.endsWith('/')).toBe(false);
    expect(readFileSync(join(own!, 'cgroup.procs'), 'utf8').split('\n')).toContain(String(process.pid));
  });

  it('is undefined for a process that is not there', () => {
    expect(cgroupOf(2 ** 22 + 1)).toBeUndefined();
  });

  it.skipIf(own === undefined)('a cgroup that is not a proxy-<id> child of the tree is none of ours', () => {
    expect(proxyCgroupOf({ root: dirname(own!), controllers: [] }, process.pid)).toBeUndefined();
    expect(proxyCgroupOf({ root: own!, controllers: [] }, process.pid)).toBeUndefined();
    expect(proxyCgroupOf({ root: own!, controllers: [] }, 2 ** 22 + 1)).toBeUndefined();
  });
});

describe('setUpContainment', () => {
  it.skipIf(own === undefined || !inRoot)('falls back to process groups in the root cgroup, saying why and what to do', () => {
    expect(setUpContainment()).toEqual({
      mode: 'process-group',
      why: `the daemon is in the root cgroup (${own}), not in a delegated one (systemd: Delegate=yes)`,
    });
  });

  it.skipIf(own !== undefined)('falls back to process groups without a cgroup v2 hierarchy', () => {
    expect(setUpContainment()).toEqual({ mode: 'process-group', why: 'no cgroup v2 hierarchy is mounted' });
  });
});

describe('a real cgroup', () => {
  it.skipIf(!canCreate)('is found as the proxy cgroup of each process in it, and cgroup.kill ends them all at once', async () => {
    const dir = join(own!, `proxy-pmtest-${process.pid}-${Date.now()}`);
    mkdirSync(dir);
    const pids = [sleeper(dir), sleeper(dir)];
    try {
      for (const pid of pids) writeFileSync(join(dir, 'cgroup.procs'), String(pid));
      expect(cgroupOf(pids[0])).toBe(dir);
      expect(proxyCgroupOf({ root: own!, controllers: [] }, pids[1])).toBe(dir);
      expect(proxyCgroupOf({ root: dirname(own!), controllers: [] }, pids[1])).toBeUndefined();
      killCgroup(dir);
      await waitUntil(() => pids.every((pid) => !isAliveNotZombie(pid)), 5_000);
    } finally {
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      await waitUntil(() => readFileSync(join(dir, 'cgroup.procs'), 'utf8') === '');
      rmdirSync(dir);
    }
  });
});

describe('cgroupUsage', () => {
  it('takes CPU from cpu.stat without memory.current, and from /proc when cpu.stat has no usage_usec', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-cgroup-'));
    const pid = sleeper(dir);
    try {
      await waitUntil(() => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep') && processState(pid) === 'S');
      writeFileSync(join(dir, 'cgroup.procs'), `${pid}\n`);
      const proc = processUsage(pid)!;
      writeFileSync(join(dir, 'cpu.stat'), 'usage_usec 1500000\n');
      expect(cgroupUsage(dir)).toEqual({ memoryBytes: proc.memoryBytes, cpuSeconds: 1.5 });
      writeFileSync(join(dir, 'cpu.stat'), 'nr_periods 0\n');
      expect(cgroupUsage(dir)).toEqual(proc);
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });
});
