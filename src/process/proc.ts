// Reads /proc/<pid>/stat. The daemon must tell a live proxy from a zombie (an unreaped corpse still
// has a pid) and, across its own restarts, its proxy from an unrelated process that reused the pid.
import { close, open, read, readdirSync, readFileSync } from 'node:fs';

// Fields of /proc/<pid>/stat as statFields() numbers them (field 3, the state, is index 0).
export const STATE = 0;
export const PARENT = 1;
export const PROCESS_GROUP = 2;
/** Field 22, starttime in clock ticks since boot: with the pid it names one process for good. */
export const START_TIME = 19;

/** The fields after "pid (comm) "; comm may itself contain spaces and parentheses. */
const fieldsOf = (stat: string) => stat.slice(stat.lastIndexOf(')') + 2).split(' ');

export function statFields(pid: number): string[] | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return fieldsOf(stat);
}

/** The one-letter state (R, S, D, T, Z, X...), undefined when there is no such process. */
export function processState(pid: number): string | undefined {
  return statFields(pid)?.[STATE];
}

/** Its starttime (START_TIME). */
export function processStartTime(pid: number): number | undefined {
  return startTimeOf(statFields(pid));
}

/**
 * The same, read off the event loop. For a process just spawned: reading its stat waits while it
 * is still being exec'd (about a millisecond each in a restart storm, measured), and the daemon's
 * one thread has exits to hear meanwhile. Opened, read and closed with the callback API into a
 * small buffer: fs.promises.readFile takes five trips through the thread pool and a 64 KiB buffer
 * for a file whose size /proc reports as 0 (4 % of the daemon's thread in a storm, profiled).
 */
export function processStartTimeAsync(pid: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    open(`/proc/${pid}/stat`, 'r', (error, fd) => {
      if (error) return resolve(undefined);
      // A pid, a command of at most 15 bytes and 50 numbers of at most 20 digits: under 2 KiB.
      const bytes = Buffer.allocUnsafe(2048);
      read(fd, bytes, 0, bytes.length, 0, (error, length) => {
        close(fd, () => {});
        resolve(error ? undefined : startTimeOf(fieldsOf(bytes.toString('latin1', 0, length))));
      });
    });
  });
}

const startTimeOf = (fields: string[] | undefined) => (fields?.[START_TIME] === undefined ? undefined : Number(fields[START_TIME]));

// starttime counts USER_HZ ticks, 100 per second on every Linux architecture (a fixed part of the ABI).
const TICKS_PER_SECOND = 100;

/** performance.now() at boot, to within the 10 ms of /proc/uptime (never earlier than the real boot). */
let bootAt: number | undefined;

/**
 * Clock ticks since boot now, as starttime counts them, without reading any process: never more
 * than the starttime of a process started from now on (the monotonic clock does not count time
 * suspended, so after a suspend this is lower still).
 */
export function ticksSinceBoot(): number {
  bootAt ??= performance.now() - Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000;
  return Math.floor(((performance.now() - bootAt) * TICKS_PER_SECOND) / 1000);
}

let btime: number | undefined;
/** When the machine booted, in epoch ms (whole seconds, as the kernel gives it); read once. */
export function bootedAt(): number | undefined {
  if (btime === undefined) {
    const seconds = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1];
    if (seconds !== undefined) btime = Number(seconds) * 1000;
  }
  return btime;
}

/** When the process started, in epoch ms (to the second: the kernel's boot time is whole seconds). */
export function processStartedAt(pid: number): number | undefined {
  const ticks = processStartTime(pid);
  const boot = bootedAt();
  if (ticks === undefined || boot === undefined) return undefined;
  return boot + (ticks * 1000) / TICKS_PER_SECOND;
}

/** Z: exited, not yet reaped; X (x on old kernels): being torn down. */
export function isDeadState(state: string): boolean {
  return 'ZXx'.includes(state);
}

export function isAliveNotZombie(pid: number): boolean {
  const state = processState(pid);
  return state !== undefined && !isDeadState(state);
}

/**
 * Calls gone() once the process is no longer there, for a process that is not our child (no exit
 * event comes): polls /proc, and takes a changed start time for its end (the pid was reused).
 */
export function watchUntilGone(pid: number, pollMs: number, gone: () => void): void {
  const startTime = processStartTime(pid);
  const timer = setInterval(() => {
    if (isAliveNotZombie(pid) && processStartTime(pid) === startTime) return;
    clearInterval(timer);
    gone();
  }, pollMs);
}

/** The soft limit on open files (RLIMIT_NOFILE) of the daemon, which its children inherit. */
export function openFilesLimit(): number | undefined {
  try {
    const soft = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
    return soft === undefined ? undefined : soft === 'unlimited' ? Infinity : Number(soft);
  } catch {
    return undefined;
  }
}

/** File descriptors the daemon has open now. */
export function openFiles(): number {
  return readdirSync('/proc/self/fd').length;
}
