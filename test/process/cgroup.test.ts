// cgroup mode (src/process/cgroup.ts) on a stand-in tree: a temporary directory with the files a
// delegated cgroup v2 has. The test machine has no delegated cgroup, and the kernel's part (moving a
// process in on a write to cgroup.procs, cgroup.kill) cannot be had without one; what is ours can:
// the proxy's cgroup and limits written, the leader joining it before its command runs, a stop
// reaching a member that left the process group, usage read from the cgroup's files.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cgroupUsage, killCgroup, proxyCgroup, signalCgroup } from '../../src/process/cgroup.ts';
import { startProcess } from '../../src/process/driver.ts';
import { isAliveNotZombie, processState } from '../../src/process/proc.ts';
import { childProcessSpawner } from '../../src/process/spawner.ts';
import { processUsage } from '../../src/process/usage.ts';
import type { ProcessEvents } from '../../src/supervisor/ports.ts';
import { waitUntil } from '../support/daemon.ts';
import { fakeSpec } from '../support/fake-world.ts';

const own: number[] = [];
afterEach(() => {
  for (const pid of own.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

const tree = (controllers: string[]) => ({ root: mkdtempSync(join(tmpdir(), 'pm-cgroup-')), controllers });

/** A sleeping process of this test's own (its temp dir on the command line), outside our group. */
function sleeper(marker: string): number {
  const child = spawn('/bin/sh', ['-c', 'exec sleep 300', marker], { detached: true, stdio: 'ignore' });
  child.unref();
  own.push(child.pid!);
  return child.pid!;
}

describe('proxyCgroup', () => {
  it('creates proxy-<id> under the tree and writes the limits of the delegated controllers only', () => {
    const t = tree(['memory']);
    const procs = proxyCgroup(t, 'ss-1', { memoryMax: 64 * 1024 * 1024, pidsMax: 50 });
    expect(procs).toBe(join(t.root, 'proxy-ss-1', 'cgroup.procs'));
    expect(readFileSync(join(t.root, 'proxy-ss-1', 'memory.max'), 'utf8')).toBe(String(64 * 1024 * 1024));
    expect(existsSync(join(t.root, 'proxy-ss-1', 'pids.max'))).toBe(false);
  });

  it('writes "max" for a limit not set, or set to unlimited, so that a lowered one is lifted again', () => {
    const t = tree(['memory', 'pids']);
    proxyCgroup(t, 'ss-1', { memoryMax: 1024, pidsMax: 10 });
    proxyCgroup(t, 'ss-1', { pidsMax: 'unlimited' });
    expect(readFileSync(join(t.root, 'proxy-ss-1', 'memory.max'), 'utf8')).toBe('max');
    expect(readFileSync(join(t.root, 'proxy-ss-1', 'pids.max'), 'utf8')).toBe('max');
  });
});

describe('a proxy in its cgroup', () => {
  const spec = (args: string[]) => fakeSpec('p1', { command: '/bin/sh', args, health: { kind: 'process' }, maxMemory: 32 * 1024 * 1024 });

  it('joins its cgroup before its command runs; a stop reaches a member that left its process group', async () => {
    const t = tree(['memory', 'pids']);
    const lines: string[] = [];
    let exit: { code: number | null; signal: string | null } | undefined;
    let spawned: number | undefined;
    const events: ProcessEvents = {
      onSpawn: (pid) => (spawned = pid),
      onSpawnError: (error) => lines.push(`error ${error}`),
      onExit: (code, signal) => (exit = { code, signal }),
      onOutput: (_stream, line) => lines.push(line),
    };
    // The escaped copy ignores SIGTERM and leads a session of its own: only the cgroup finds it.
    const handle = startProcess(
      spec([
        '-c',
        `setsid sh -c 'trap "" TERM; exec sleep 300' ${t.root} & echo $!; cat "$0"; exec sleep 300`,
        join(t.root, 'proxy-p1', 'cgroup.procs'),
      ]),
      events,
      childProcessSpawner,
      t,
    );
    await waitUntil(() => lines.length === 2);
    own.push(spawned!);
    const escaped = Number(lines[0]);
    own.push(escaped);
    // The leader wrote itself into cgroup.procs before its own command ran (the kernel would have moved it).
    expect(Number(lines[1])).toBe(spawned);
    expect(readFileSync(join(t.root, 'proxy-p1', 'memory.max'), 'utf8')).toBe(String(32 * 1024 * 1024));
    // As the kernel would list it: the escaped process is still a member.
    writeFileSync(join(t.root, 'proxy-p1', 'cgroup.procs'), `${spawned}\n${escaped}\n`);
    // It ignores SIGTERM once it runs sleep (the disposition survives the exec).
    await waitUntil(() => readFileSync(`/proc/${escaped}/cmdline`, 'utf8').startsWith('sleep'));
    handle.stop(5_000);
    await waitUntil(() => exit !== undefined);
    expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
    // Past the leader's exit, whatever is left in the cgroup is killed (one by one: no cgroup.kill here).
    await waitUntil(() => !isAliveNotZombie(escaped), 3_000);
  });
});

describe('signalling and killing a cgroup', () => {
  it('signals every member; cgroup.kill, where the kernel has it, kills them all at once instead', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-cgroup-'));
    const [a, b] = [sleeper(dir), sleeper(dir)];
    writeFileSync(join(dir, 'cgroup.procs'), `${a}\n${b}\n`);
    signalCgroup(dir, 'SIGSTOP');
    await waitUntil(() => processState(a) === 'T' && processState(b) === 'T');
    signalCgroup(dir, 'SIGCONT');
    await waitUntil(() => processState(a) === 'S' && processState(b) === 'S');

    writeFileSync(join(dir, 'cgroup.kill'), '');
    killCgroup(dir);
    expect(readFileSync(join(dir, 'cgroup.kill'), 'utf8')).toBe('1');
    // (A stand-in file kills nobody: the members are untouched, as the kernel's file would not leave them.)
    expect(isAliveNotZombie(a)).toBe(true);

    const noKillFile = join(dir, 'older-kernel');
    mkdirSync(noKillFile);
    writeFileSync(join(noKillFile, 'cgroup.procs'), `${a}\n${b}\n`);
    killCgroup(noKillFile);
    await waitUntil(() => !isAliveNotZombie(a) && !isAliveNotZombie(b), 3_000);
  });

  it('a cgroup that is gone is nothing to signal', () => {
    expect(() => signalCgroup(join(tmpdir(), 'pm-no-such-cgroup'), 'SIGTERM')).not.toThrow();
    expect(() => killCgroup(join(tmpdir(), 'pm-no-such-cgroup'))).not.toThrow();
  });
});

describe('cgroupUsage', () => {
  it('is undefined for an empty cgroup', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-cgroup-'));
    writeFileSync(join(dir, 'cgroup.procs'), '');
    expect(cgroupUsage(dir)).toBeUndefined();
    expect(cgroupUsage(join(dir, 'gone'))).toBeUndefined();
  });

  it("reads memory.current and cpu.stat's usage_usec when the controllers are there", () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-cgroup-'));
    writeFileSync(join(dir, 'cgroup.procs'), `${sleeper(dir)}\n`);
    writeFileSync(join(dir, 'memory.current'), '7340032\n');
    writeFileSync(join(dir, 'cpu.stat'), 'usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n');
    expect(cgroupUsage(dir)).toEqual({ memoryBytes: 7_340_032, cpuSeconds: 2.5 });
  });

  it('else sums what /proc says of each member', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-cgroup-'));
    const [a, b] = [sleeper(dir), sleeper(dir)];
    await waitUntil(
      () =>
        readFileSync(`/proc/${a}/cmdline`, 'utf8').startsWith('sleep') && readFileSync(`/proc/${b}/cmdline`, 'utf8').startsWith('sleep'),
    );
    // Asleep in sleep(1): their figures no longer move.
    await waitUntil(() => processState(a) === 'S' && processState(b) === 'S');
    writeFileSync(join(dir, 'cgroup.procs'), `${a}\n${b}\n${2 ** 22 + 1}\n`);
    const [ua, ub] = [processUsage(a)!, processUsage(b)!];
    expect(ua.memoryBytes).toBeGreaterThan(0);
    expect(cgroupUsage(dir)).toEqual({ memoryBytes: ua.memoryBytes + ub.memoryBytes, cpuSeconds: ua.cpuSeconds + ub.cpuSeconds });
    // memory.current without cpu.stat: memory from the cgroup, CPU from /proc.
    writeFileSync(join(dir, 'memory.current'), '1000');
    expect(cgroupUsage(dir)).toEqual({ memoryBytes: 1000, cpuSeconds: ua.cpuSeconds + ub.cpuSeconds });
  });
});
