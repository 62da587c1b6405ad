// What a proxy uses, read from /proc: the resident memory and CPU time of every process in its
// process group (the proxy leads its own), summed, so helpers it forked count too. One pass over
// /proc serves every proxy of a check round.
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import type { ProcessUsage } from '../supervisor/ports.ts';
import { statFields } from './proc.ts';

// Fields of /proc/<pid>/stat as statFields() numbers them (field 3 is index 0).
const PROCESS_GROUP = 2;
const UTIME = 11;
const STIME = 12;
const RSS_PAGES = 21;
/** /proc reports CPU times in USER_HZ, which Linux fixes at 100 for user space. */
const USER_HZ = 100;

let pageSize: number | undefined;
/**
 * The kernel's page size (rss is counted in pages), read once from our own first mapping: the head
 * of /proc/self/smaps (the whole file is ~0.5 MB that the kernel builds by walking every mapping).
 */
function pageBytes(): number {
  if (pageSize === undefined) {
    let kb: string | undefined;
    try {
      const fd = openSync('/proc/self/smaps', 'r');
      const head = Buffer.alloc(4096);
      try {
        kb = /^KernelPageSize:\s+(\d+) kB$/m.exec(head.toString('latin1', 0, readSync(fd, head)))?.[1];
      } finally {
        closeSync(fd);
      }
    } catch {
      // no smaps: assume the common size
    }
    pageSize = kb === undefined ? 4096 : Number(kb) * 1024;
  }
  return pageSize;
}

const usageOf = (f: string[]): ProcessUsage => ({
  memoryBytes: Number(f[RSS_PAGES]) * pageBytes(),
  cpuSeconds: (Number(f[UTIME]) + Number(f[STIME])) / USER_HZ,
});

/** The usage of one process, undefined when it is gone. */
export function processUsage(pid: number): ProcessUsage | undefined {
  const f = statFields(pid);
  return f && usageOf(f);
}

export function addUsage(a: ProcessUsage, b: ProcessUsage): ProcessUsage {
  return { memoryBytes: a.memoryBytes + b.memoryBytes, cpuSeconds: a.cpuSeconds + b.cpuSeconds };
}

/** Usage of each of these process groups (keyed by its leader's pid); groups with no process are left out. */
export function groupUsage(pgids: Iterable<number>): Map<number, ProcessUsage> {
  const wanted = new Set(pgids);
  const out = new Map<number, ProcessUsage>();
  if (wanted.size === 0) return out;
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const f = statFields(pid);
    const pgid = f && Number(f[PROCESS_GROUP]);
    if (!f || pgid === undefined || !wanted.has(pgid)) continue;
    const usage = usageOf(f);
    const sum = out.get(pgid);
    out.set(pgid, sum ? addUsage(sum, usage) : usage);
  }
  return out;
}
