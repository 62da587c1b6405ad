// What the bench reads from /proc about the supervisors it measures: their children, memory and CPU.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { isAliveNotZombie, statFields } from '../../src/process/proc.ts';

export { isAliveNotZombie };

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback; // the process left while we looked
  }
}

/** argv of a live process; empty for a zombie or a process that is gone. */
export function commandArgs(pid: number): string[] {
  return readOr(`/proc/${pid}/cmdline`, '').split('\0').slice(0, -1);
}

/** Direct children of pid (every thread's), whatever their process group. */
export function childrenOf(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tasks.flatMap((tid) => readOr(`/proc/${pid}/task/${tid}/children`, '').split(' ').filter(Boolean).map(Number));
}

/** proxy-monitor's spawn helper (native/spawn-helper.c), a child of the daemon; undefined for the others. */
export function spawnHelperOf(pid: number): number | undefined {
  return childrenOf(pid).find((child) => readOr(`/proc/${child}/comm`, '').trim() === 'spawn-helper');
}

/** Live processes anywhere on the machine whose command line contains marker. */
export function pidsWithMarker(marker: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .map(Number)
    .filter((pid) => commandArgs(pid).join(' ').includes(marker) && isAliveNotZombie(pid));
}

/** Resident set size in bytes, 0 once the process is gone. */
export function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readOr(`/proc/${pid}/status`, ''));
  return match ? Number(match[1]) * 1024 : 0;
}

/**
 * RSS read every 250 ms over `windowMs`, sorted: a Node daemon's RSS rises and falls by several MiB
 * as garbage piles up between full collections (bench/README.md, "the sawtooth"), so one reading
 * says little.
 */
export async function rssSamples(pid: number, windowMs: number): Promise<number[]> {
  const samples: number[] = [];
  const began = performance.now();
  do {
    samples.push(rssBytes(pid));
    await new Promise((r) => setTimeout(r, 250));
  } while (performance.now() - began < windowMs);
  return samples.sort((a, b) => a - b);
}

/** The median of rssSamples(). */
export async function rssMedian(pid: number, windowMs: number): Promise<number> {
  const samples = await rssSamples(pid, windowMs);
  return samples[samples.length >> 1];
}

/**
 * SIGKILLs each process in turn; returns when each was sent its signal (epoch ms, by pid). Sending
 * 200 takes this machine 150-200 ms (the sender is preempted by the processes dying), so each
 * process's own moment is kept.
 */
export function killAll(pids: number[]): Map<number, number> {
  const killedAt = new Map<number, number>();
  for (const pid of pids) {
    killedAt.set(pid, Date.now());
    process.kill(pid, 'SIGKILL');
  }
  return killedAt;
}

/** User plus system CPU seconds the process (all its threads) has used so far. */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  if (!fields) return 0;
  // utime and stime are stat fields 14 and 15; statFields starts at field 3.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

export function machineInfo() {
  const cpuinfo = readOr('/proc/cpuinfo', '');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? 'unknown CPU';
  const cores = cpuinfo.split('\n').filter((line) => line.startsWith('processor')).length;
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(readOr('/proc/meminfo', ''))?.[1] ?? 0);
  const kernel = readOr('/proc/sys/kernel/osrelease', 'unknown').trim();
  const os = /^PRETTY_NAME="?([^"\n]+)/m.exec(readOr('/etc/os-release', ''))?.[1] ?? 'unknown';
  return { model, cores, memGiB: Math.round(memKb / 1024 / 1024), kernel, os };
}
