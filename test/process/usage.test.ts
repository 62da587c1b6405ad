// What /proc says of a process (src/process/proc.ts, usage.ts), checked against what Node says of
// itself and of processes this test starts: the memory and CPU the metrics and memory checks show,
// the start time adoption proves a pid with, a comm with spaces and parentheses.
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processStartedAt, processStartTime, processStartTimeAsync, processState, statFields } from '../../src/process/proc.ts';
import { groupUsage, processUsage } from '../../src/process/usage.ts';
import { waitUntil } from '../support/daemon.ts';

const dir = mkdtempSync(join(tmpdir(), 'pm-usage-'));
const own: number[] = [];
afterAll(() => {
  for (const pid of own) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

/** Asleep in sleep(1): its figures no longer move. */
const sleeping = (pid: number) => processState(pid) === 'S';

describe('processUsage', () => {
  it("matches Node's own figures: resident memory in bytes, user + system CPU in seconds", () => {
    // Some CPU to count.
    const end = Date.now() + 300;
    while (Date.now() < end);
    const before = process.cpuUsage();
    const usage = processUsage(process.pid)!;
    const after = process.cpuUsage();
    const rss = process.memoryUsage().rss;
    // /proc counts in 10 ms ticks: within two ticks of Node's microseconds.
    expect(usage.cpuSeconds).toBeGreaterThanOrEqual((before.user + before.system) / 1e6 - 0.02);
    expect(usage.cpuSeconds).toBeLessThanOrEqual((after.user + after.system) / 1e6 + 0.02);
    expect(usage.memoryBytes).toBeGreaterThan(rss * 0.8);
    expect(usage.memoryBytes).toBeLessThan(rss * 1.2);
    expect(processUsage(2 ** 22 + 1)).toBeUndefined();
  });
});

describe('groupUsage', () => {
  it('sums every process of each group, keyed by its leader; a group with no process is left out', async () => {
    // Two groups: a leader with a child, a lone leader.
    const group = spawn('/bin/sh', ['-c', 'sleep 300 & exec sleep 300', dir], { detached: true, stdio: 'ignore' });
    const lone = spawn('/bin/sh', ['-c', 'exec sleep 300', dir], { detached: true, stdio: 'ignore' });
    own.push(group.pid!, lone.pid!);
    await waitUntil(() => readFileSync(`/proc/${group.pid}/cmdline`, 'utf8').startsWith('sleep'));
    await waitUntil(() => readFileSync(`/proc/${lone.pid}/cmdline`, 'utf8').startsWith('sleep'));
    const child = Number(readFileSync(`/proc/${group.pid}/task/${group.pid}/children`, 'utf8').trim());
    await waitUntil(() => sleeping(child) && sleeping(group.pid!) && sleeping(lone.pid!));
    const usage = groupUsage([group.pid!, lone.pid!, 2 ** 22 + 1]);
    expect([...usage.keys()].sort()).toEqual([group.pid!, lone.pid!].sort());
    const [leader, second] = [processUsage(group.pid!)!, processUsage(child)!];
    expect(usage.get(group.pid!)).toEqual({
      memoryBytes: leader.memoryBytes + second.memoryBytes,
      cpuSeconds: leader.cpuSeconds + second.cpuSeconds,
    });
    expect(usage.get(lone.pid!)).toEqual(processUsage(lone.pid!));
    expect(groupUsage([]).size).toBe(0);
  });
});

describe('/proc/<pid>/stat', () => {
  it('reads the fields after a comm with spaces and parentheses', async () => {
    const odd = join(dir, 'a) b (c');
    copyFileSync('/bin/sleep', odd);
    chmodSync(odd, 0o755);
    const child = spawn(odd, ['300'], { detached: true, stdio: 'ignore' });
    own.push(child.pid!);
    await waitUntil(() => readFileSync(`/proc/${child.pid}/comm`, 'utf8').startsWith('a) b (c'));
    await waitUntil(() => processState(child.pid!) === 'S');
    const fields = statFields(child.pid!)!;
    expect(fields[0]).toBe('S');
    expect(Number(fields[1])).toBe(process.pid); // ppid
    expect(Number(fields[2])).toBe(child.pid); // its own process group
    expect(processStartTime(child.pid!)).toBe(Number(fields[19]));
    // The read off the event loop, which a new process's start time is recorded with.
    expect(await processStartTimeAsync(child.pid!)).toBe(Number(fields[19]));
    // The check round's reading, which parses the same fields in place.
    expect(groupUsage([child.pid!]).get(child.pid!)).toEqual(processUsage(child.pid!));
  });

  it('says when a process started, to the second, in epoch ms', async () => {
    const started = Date.now() - process.uptime() * 1000;
    expect(Math.abs(processStartedAt(process.pid)! - started)).toBeLessThan(1_500);
    expect(processStartedAt(2 ** 22 + 1)).toBeUndefined();
    expect(processStartTime(2 ** 22 + 1)).toBeUndefined();
    expect(await processStartTimeAsync(2 ** 22 + 1)).toBeUndefined();
  });
});
