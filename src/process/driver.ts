// Starts proxies as children, each leading its own process group, and reports what happens to them
// as events: an exit is reported the moment the kernel reports it, not on the next health check.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import type { ProxySpec } from '../proxy-spec.ts';
import type { ProcessEvents, ProcessHandle } from '../supervisor/ports.ts';
import { writeGeneratedFiles } from './files.ts';
import { assertExecutable, launchArgv } from './launch.ts';
import { lineSplitter } from './lines.ts';
import { isAliveNotZombie, processStartTime } from './proc.ts';
import { joinCgroupArgv, killCgroup, proxyCgroup, proxyCgroupOf, signalCgroup, type CgroupTree } from './cgroup.ts';
import { createGroupStopper } from './signal.ts';
import { clearLongTimeout, setLongTimeout, type LongTimeout } from '../timers.ts';
import { daemonPowers, wrapperArgv, type DaemonPowers } from './wrappers.ts';

export { isAliveNotZombie, processStartTime } from './proc.ts';

export type { ProcessEvents, ProcessHandle } from '../supervisor/ports.ts';

// Lets stopAll wait for exits without widening ProcessHandle, which callers fake in tests.
const exits = new WeakMap<ProcessHandle, Promise<void>>();

function spawnErrorMessage(spec: ProxySpec, error: unknown): string {
  const err = error as NodeJS.ErrnoException;
  // Node blames the command for a missing cwd; say what is really missing.
  if (err.code === 'ENOENT' && spec.cwd !== undefined && !existsSync(spec.cwd)) {
    return `working directory ${spec.cwd} does not exist`;
  }
  return err.message ?? String(error);
}

/** Nothing was started: there is nothing to stop or wait for. */
function failedHandle(): ProcessHandle {
  const handle: ProcessHandle = { pid: undefined, exited: true, stop: () => {} };
  exits.set(handle, Promise.resolve());
  return handle;
}

function readLines(stream: Readable, emit: (line: string) => void): void {
  const splitter = lineSplitter(emit);
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => splitter.push(chunk));
  stream.on('end', () => splitter.end());
  stream.on('error', () => {});
}

/**
 * Stops a cgroup as a process group is stopped (TERM, grace, KILL), reaching the processes that left
 * the group too; once the leader is gone, cgroup.kill ends whatever is left.
 */
function cgroupStopper(pgid: number, dir: string) {
  const group = createGroupStopper(pgid);
  return {
    stop(timeoutMs: number): void {
      group.stop(timeoutMs);
      signalCgroup(dir, 'SIGTERM');
      signalCgroup(dir, 'SIGCONT');
    },
    leaderExited(): void {
      group.leaderExited();
      killCgroup(dir);
    },
  };
}

/** A handle on the process group led by pid (and on its cgroup, in cgroup mode); watchExit calls its argument when the leader is gone. */
function groupHandle(pid: number, watchExit: (leaderExited: () => void) => void, cgroup?: string): ProcessHandle {
  const stopper = cgroup === undefined ? createGroupStopper(pid) : cgroupStopper(pid, cgroup);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    watchExit(() => {
      exited = true;
      stopper.leaderExited();
      resolve();
    }),
  );
  const handle: ProcessHandle = {
    pid,
    get exited() {
      return exited;
    },
    stop: (timeoutMs) => stopper.stop(timeoutMs),
  };
  exits.set(handle, exit);
  return handle;
}

let powers: DaemonPowers | undefined;

/** `tree`: run the proxy in a cgroup of its own under it (cgroup mode). */
export function startProcess(spec: ProxySpec, events: ProcessEvents, tree?: CgroupTree): ProcessHandle {
  let child: ChildProcess;
  let cgroup: string | undefined;
  try {
    writeGeneratedFiles(spec.files, spec.privileges?.runAs);
    const env = { ...process.env, ...spec.env };
    assertExecutable(spec.command, spec.cwd, env.PATH);
    const procsFile = tree && proxyCgroup(tree, spec.id, { memoryMax: spec.maxMemory, pidsMax: spec.privileges?.limits.nproc });
    cgroup = procsFile && dirname(procsFile);
    const join = procsFile ? joinCgroupArgv(procsFile) : [];
    const argv = [...join, ...wrapperArgv(spec.privileges, (powers ??= daemonPowers())), spec.command, ...spec.args];
    const [command, args] = launchArgv(argv[0], argv.slice(1));
    child = spawn(command, args, {
      cwd: spec.cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    queueMicrotask(() => events.onSpawnError(spawnErrorMessage(spec, error)));
    return failedHandle();
  }

  const pid = child.pid;
  if (pid === undefined) {
    // The spawn failed; node tells why on 'error', asynchronously.
    child.once('error', (error) => events.onSpawnError(spawnErrorMessage(spec, error)));
    return failedHandle();
  }

  child.once('spawn', () => events.onSpawn(pid));
  readLines(child.stdout!, (line) => events.onOutput('stdout', line));
  readLines(child.stderr!, (line) => events.onOutput('stderr', line));
  return groupHandle(
    pid,
    (leaderExited) =>
      child.once('exit', (code, signal) => {
        leaderExited();
        events.onExit(code, signal);
      }),
    cgroup,
  );
}

/**
 * Watches a proxy started by an earlier run of the daemon. It is not our child, so no exit event
 * comes: poll /proc, and take a changed start time as the exit of ours (the pid was reused).
 */
export function adoptProcess(
  pid: number,
  events: Pick<ProcessEvents, 'onExit'>,
  pollMs: number,
  tree?: CgroupTree,
): ProcessHandle {
  const startTime = processStartTime(pid);
  const cgroup = tree && proxyCgroupOf(tree, pid);
  return groupHandle(pid, (leaderExited) => {
    const timer = setInterval(() => {
      if (isAliveNotZombie(pid) && processStartTime(pid) === startTime) return;
      clearInterval(timer);
      leaderExited();
      // Only the real parent learns the exit status.
      events.onExit(null, null);
    }, pollMs);
  }, cgroup);
}

/**
 * Stops every handle and resolves once all leaders have exited, or a second after the KILL deadline
 * should a process be stuck where even KILL cannot reach it (uninterruptible sleep).
 */
export async function stopAll(handles: Iterable<ProcessHandle>, timeoutMs: number): Promise<void> {
  const waits: Promise<void>[] = [];
  for (const handle of handles) {
    handle.stop(timeoutMs);
    waits.push(exits.get(handle) ?? Promise.resolve());
  }
  let timer: LongTimeout | undefined;
  const giveUp = new Promise<void>((resolve) => (timer = setLongTimeout(resolve, timeoutMs + 1000)));
  await Promise.race([Promise.all(waits), giveUp]);
  clearLongTimeout(timer);
}
