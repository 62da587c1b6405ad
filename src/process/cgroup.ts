// cgroup v2 containment, used when the daemon owns a delegated subtree (systemd Delegate=yes): each
// proxy runs in a child cgroup of its own, so membership is exact (a process that daemonizes or
// calls setsid is still counted and still stopped, by cgroup.kill), memory.max and pids.max come
// from max_memory and limits.nproc when those controllers are delegated, and usage comes from the
// cgroup's files. Anywhere else (containers, cgroup v1 hosts, a daemon started from a shell) the
// driver falls back to process groups and /proc, and the daemon says once which mode it runs in.
//
// Layout under the delegated cgroup D: D/supervisor holds the daemon (a cgroup with children may not
// hold processes once controllers are enabled), D/proxy-<id> each proxy.
import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ProcessUsage } from '../supervisor/ports.ts';
import { addUsage, processUsage } from './usage.ts';

const WANTED_CONTROLLERS = ['memory', 'pids', 'cpu'];

export interface CgroupTree {
  /** The delegated cgroup's directory. */
  root: string;
  /** Controllers enabled for the proxies' cgroups. */
  controllers: string[];
}

export type Containment = { mode: 'cgroup'; tree: CgroupTree } | { mode: 'process-group'; why: string };

const read = (file: string) => readFileSync(file, 'utf8');

/** Where the cgroup v2 hierarchy is mounted (its root mounted, not a part of it), if anywhere. */
function v2Mount(): string | undefined {
  try {
    // mountinfo: id parent major:minor root mountpoint options ... - fstype source superoptions
    const fields = read('/proc/self/mountinfo')
      .split('\n')
      .find((l) => / - cgroup2 /.test(l))
      ?.split(' ');
    return fields && fields[3] === '/' ? fields[4] : undefined;
  } catch {
    return undefined;
  }
}

/** The cgroup v2 directory of a process, undefined without a v2 hierarchy. */
export function cgroupOf(pid: number | 'self'): string | undefined {
  const mount = v2Mount();
  let path: string | undefined;
  try {
    path = /^0::(\/.*)$/m.exec(read(`/proc/${pid}/cgroup`))?.[1];
  } catch {
    return undefined;
  }
  return path === undefined || mount === undefined ? undefined : join(mount, path).replace(/(.)\/$/, '$1');
}

function writable(file: string): boolean {
  try {
    accessSync(file, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

const members = (dir: string): number[] => {
  try {
    // Not mutated: a mutant of this line lists pid 0 (the caller's own process group) or pids 1 to 9,
    // and the stop that signals them takes down the mutation run itself (docs/mutation.md).
    // Stryker disable next-line all
    return read(join(dir, 'cgroup.procs')).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
};

/** Decide the mode and, in cgroup mode, move the daemon into D/supervisor and enable the controllers. */
export function setUpContainment(): Containment {
  const own = cgroupOf('self');
  if (own === undefined) return { mode: 'process-group', why: 'no cgroup v2 hierarchy is mounted' };
  // A daemon restarted in place is already in D/supervisor.
  const root = basename(own) === 'supervisor' && writable(join(dirname(own), 'cgroup.procs')) ? dirname(own) : own;
  const fallback = (why: string): Containment => ({ mode: 'process-group', why });
  if (root === v2Mount()) return fallback(`the daemon is in the root cgroup (${root}), not in a delegated one (systemd: Delegate=yes)`);
  for (const file of ['cgroup.procs', 'cgroup.subtree_control']) {
    if (!writable(join(root, file)))
      return fallback(`${join(root, file)} is not writable: the cgroup is not delegated to the daemon (systemd: Delegate=yes)`);
  }
  const strangers = members(root).filter((pid) => pid !== process.pid);
  if (strangers.length)
    return fallback(`${root} holds other processes (${strangers.slice(0, 3).join(', ')}): it is not a subtree of the daemon's own`);
  try {
    mkdirSync(join(root, 'supervisor'), { recursive: true });
    writeFileSync(join(root, 'supervisor', 'cgroup.procs'), String(process.pid));
  } catch (error) {
    return fallback(`cannot move the daemon into ${join(root, 'supervisor')}: ${(error as Error).message}`);
  }
  const available = read(join(root, 'cgroup.controllers')).trim().split(/\s+/);
  const controllers = WANTED_CONTROLLERS.filter((c) => {
    if (!available.includes(c)) return false;
    try {
      writeFileSync(join(root, 'cgroup.subtree_control'), `+${c}`);
      return true;
    } catch {
      return false;
    }
  });
  return { mode: 'cgroup', tree: { root, controllers } };
}

/** The proxy's cgroup, created if needed, with its limits written; returns the file a process joins it through. */
export function proxyCgroup(tree: CgroupTree, id: string, limits: { memoryMax?: number; pidsMax?: number | 'unlimited' }): string {
  const dir = join(tree.root, `proxy-${id}`);
  mkdirSync(dir, { recursive: true });
  const set = (file: string, value: number | 'unlimited' | undefined) => {
    if (tree.controllers.includes(file.split('.')[0]))
      writeFileSync(join(dir, file), value === undefined || value === 'unlimited' ? 'max' : String(value));
  };
  set('memory.max', limits.memoryMax);
  set('pids.max', limits.pidsMax);
  return join(dir, 'cgroup.procs');
}

/** argv that puts the exec'd command in the cgroup of `procsFile`, before anything else runs. */
export function joinCgroupArgv(procsFile: string): string[] {
  return ['/bin/sh', '-c', 'echo $$ > "$0" && exec "$@"', procsFile];
}

/** The proxy cgroup a process is in, if it is one of ours. */
export function proxyCgroupOf(tree: CgroupTree, pid: number): string | undefined {
  const dir = cgroupOf(pid);
  return dir !== undefined && dirname(dir) === tree.root && basename(dir).startsWith('proxy-') ? dir : undefined;
}

export function signalCgroup(dir: string, signal: NodeJS.Signals): void {
  for (const pid of members(dir)) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
  }
}

/**
 * SIGKILL to every process in the cgroup at once (cgroup.kill, Linux 5.14+; else one by one). The
 * empty cgroup is kept for the proxy's next start: removing it could race with that start.
 */
export function killCgroup(dir: string): void {
  try {
    if (existsSync(join(dir, 'cgroup.kill'))) {
      writeFileSync(join(dir, 'cgroup.kill'), '1');
      return;
    }
  } catch {
    // fall through
  }
  signalCgroup(dir, 'SIGKILL');
}

/** Usage from the cgroup's files: memory.current and cpu.stat when present, else /proc over its members. */
export function cgroupUsage(dir: string): ProcessUsage | undefined {
  const pids = members(dir);
  if (pids.length === 0) return undefined;
  const fromProc = pids.map(processUsage).reduce<ProcessUsage>((sum, u) => (u ? addUsage(sum, u) : sum), { memoryBytes: 0, cpuSeconds: 0 });
  let memoryBytes = fromProc.memoryBytes;
  let cpuSeconds = fromProc.cpuSeconds;
  try {
    if (existsSync(join(dir, 'memory.current'))) memoryBytes = Number(read(join(dir, 'memory.current')));
    const usec = /^usage_usec (\d+)$/m.exec(read(join(dir, 'cpu.stat')))?.[1];
    if (usec !== undefined) cpuSeconds = Number(usec) / 1e6;
  } catch {
    // the cgroup went away: the /proc figures stand
  }
  return { memoryBytes, cpuSeconds };
}
