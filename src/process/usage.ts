// What a proxy uses, read from /proc: the resident memory and CPU time of every process in its
// process group (the proxy leads its own), summed, so helpers it forked count too. One pass over
// /proc serves every proxy of a check round.
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import type { ProcessUsage } from '../supervisor/ports.ts';
import { PROCESS_GROUP } from './proc.ts';

// More fields of /proc/<pid>/stat, numbered as proc.ts numbers them.
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

/** The usage of one process, undefined when it is gone. */
export function processUsage(pid: number): ProcessUsage | undefined {
  return readStat(pid) ? statUsage() : undefined;
}

export function addUsage(a: ProcessUsage, b: ProcessUsage): ProcessUsage {
  return { memoryBytes: a.memoryBytes + b.memoryBytes, cpuSeconds: a.cpuSeconds + b.cpuSeconds };
}

/**
 * Usage of each of these process groups (keyed by its leader's pid); groups with no process are left
 * out. It reads the stat of every process on the machine (~450 here) every check round, so each is
 * read into one reused buffer and only the fields wanted are parsed, with no string per field: the
 * round's reading allocated ~0.6 MB before, a tenth of an idle daemon's garbage (bench/README.md,
 * "Idle CPU").
 */
export function groupUsage(pgids: Iterable<number>): Map<number, ProcessUsage> {
  const wanted = new Set(pgids);
  const out = new Map<number, ProcessUsage>();
  if (wanted.size === 0) return out;
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || !readStat(pid)) continue;
    const pgid = statNumber(PROCESS_GROUP);
    if (!wanted.has(pgid)) continue;
    const usage = statUsage();
    const sum = out.get(pgid);
    out.set(pgid, sum ? addUsage(sum, usage) : usage);
  }
  return out;
}

/** The last stat read by readStat: its bytes, and where its fields begin (after the command's ")"). */
const stat = { bytes: Buffer.alloc(4096), length: 0, fields: 0 };
const SPACE = 0x20;
const CLOSE_PAREN = 0x29;

/** Reads /proc/<pid>/stat into `stat`; false when the process is gone. */
function readStat(pid: number): boolean {
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/stat`, 'r');
  } catch {
    return false;
  }
  try {
    stat.length = readSync(fd, stat.bytes, 0, stat.bytes.length, 0);
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
  // The command may contain ") ": the fields begin after the last one.
  stat.fields = stat.bytes.lastIndexOf(CLOSE_PAREN, stat.length) + 2;
  return stat.fields > 1;
}

/** The usage the last stat read says. */
const statUsage = (): ProcessUsage => ({
  memoryBytes: statNumber(RSS_PAGES) * pageBytes(),
  cpuSeconds: (statNumber(UTIME) + statNumber(STIME)) / USER_HZ,
});

/**
 * Field `index` of the last stat read (statFields' numbering), a non-negative integer. The spaces
 * are found by a loop, not Buffer.indexOf: its argument checks allocate on every call, ~9,000
 * calls a check round of 200 proxies, 8 % of an idle daemon's garbage (heap sampling).
 */
function statNumber(index: number): number {
  const { bytes, length } = stat;
  let at = stat.fields;
  for (let i = 0; i < index; i++) {
    while (at < length && bytes[at] !== SPACE) at++;
    at++;
  }
  let value = 0;
  for (; at < length && bytes[at] >= 0x30 && bytes[at] <= 0x39; at++) value = value * 10 + bytes[at] - 0x30;
  return value;
}
