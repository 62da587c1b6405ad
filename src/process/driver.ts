// Starts proxies as children, each leading its own process group, and reports what happens to them
// as events: an exit is reported the moment the kernel reports it, not on the next health check.
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { ProxySpec } from '../proxy-spec.ts';
import type { ProcessEvents, ProcessHandle } from '../supervisor/ports.ts';
import { writeGeneratedFiles } from './files.ts';
import { assertExecutable } from '../executable.ts';
import { launchArgv } from './launch.ts';
import { lineSplitter } from './lines.ts';
import { watchUntilGone } from './proc.ts';
import { joinCgroupArgv, killCgroup, proxyCgroup, proxyCgroupOf, signalCgroup, type CgroupTree } from './cgroup.ts';
import { createGroupStopper } from './signal.ts';
import { clearLongTimeout, setLongTimeout, type LongTimeout } from '../timers.ts';
import { childProcessSpawner, type Spawner } from './spawner.ts';
import { daemonPowers, wrapperArgv, type DaemonPowers } from './wrappers.ts';

// Lets stopAll wait for exits without widening ProcessHandle, which callers fake in tests.
const exits = new WeakMap<ProcessHandle, Promise<void>>();

/**
 * Errors that say the daemon (or its host) is short of something of its own, not that the proxy is
 * broken: restarts that fail with them are not counted against the proxy's cap.
 */
const DAEMON_RESOURCES = new Set(['EMFILE', 'ENFILE', 'ENOMEM', 'EAGAIN', 'ENOSPC', 'EDQUOT']);

export function isDaemonFault(error: unknown): boolean {
  const err = error as NodeJS.ErrnoException & { daemonFault?: boolean };
  return err?.daemonFault === true || DAEMON_RESOURCES.has(err?.code ?? '');
}

function spawnErrorMessage(spec: ProxySpec, error: unknown): string {
  const err = error as NodeJS.ErrnoException;
  // Node blames the command for a missing cwd; say what is really missing.
  if (err.code === 'ENOENT' && spec.cwd !== undefined && !existsSync(spec.cwd)) {
    return `working directory ${spec.cwd} does not exist`;
  }
  return err.message ?? String(error);
}

/**
 * Stops a cgroup as a process group is stopped (TERM, grace, KILL), reaching the processes that left
 * the group too; once the leader is gone, cgroup.kill ends whatever is left.
 */
function cgroupStopper(pgid: number, dir: string, onKill?: (timeoutMs: number) => void) {
  const group = createGroupStopper(pgid, onKill);
  return {
    stop(timeoutMs: number): void {
      group.stop(timeoutMs);
      signalCgroup(dir, 'SIGTERM');
      signalCgroup(dir, 'SIGCONT');
    },
    leaderExited(): boolean {
      const left = group.leaderExited();
      killCgroup(dir);
      return left;
    },
  };
}

/**
 * What a leader that exited left in its group, killed: a fork that outlived it. A clean exit that
 * leaves one is a proxy that forks and exits (daemonizes without leaving its group).
 */
function leftInGroup(code: number | null): string {
  const what = 'it left processes running in its process group, which were killed';
  return code === 0 ? `${what}: it forks and exits, and must run in the foreground` : what;
}

/**
 * A handle on the process group a leader leads (and on its cgroup, in cgroup mode) once
 * started(pid) is called (a spawn helper tells the pid a moment after the request; a stop asked for
 * meanwhile waits for it). gone() when the leader has exited or was never started.
 */
function groupHandle(cgroup: () => string | undefined, onKill?: (timeoutMs: number) => void) {
  let pid: number | undefined;
  let stopper: ReturnType<typeof createGroupStopper> | undefined;
  let stopBefore: number | undefined;
  let exited = false;
  let resolveExit!: () => void;
  const handle: ProcessHandle = {
    get pid() {
      return pid;
    },
    get exited() {
      return exited;
    },
    stop(timeoutMs) {
      if (stopper) stopper.stop(timeoutMs);
      else if (!exited) stopBefore = Math.min(stopBefore ?? Infinity, timeoutMs);
    },
  };
  exits.set(handle, new Promise<void>((resolve) => (resolveExit = resolve)));
  return {
    handle,
    started(leader: number): void {
      pid = leader;
      const dir = cgroup();
      stopper = dir === undefined ? createGroupStopper(leader, onKill) : cgroupStopper(leader, dir, onKill);
      if (stopBefore !== undefined) stopper.stop(stopBefore);
    },
    /** The leader exited with `code`: what it left in its group is killed, and said (a note for its exit). */
    gone(code: number | null = null): string | undefined {
      exited = true;
      const left = stopper?.leaderExited() ?? false;
      resolveExit();
      return left ? leftInGroup(code) : undefined;
    },
  };
}

/** Decodes a stream's bytes (UTF-8 split anywhere) into lines. */
function lineReader(emit: (line: string) => void) {
  const decoder = new StringDecoder('utf8');
  const splitter = lineSplitter(emit);
  return {
    push: (chunk: Buffer) => splitter.push(decoder.write(chunk)),
    cut: () => splitter.cut(),
    end: () => {
      splitter.push(decoder.end());
      splitter.end();
    },
  };
}

let powers: DaemonPowers | undefined;
/**
 * The daemon's environment, which every proxy inherits, copied once: each read of process.env goes
 * through C++, and copying it at every spawn was 5 % of a restart storm's CPU. Nothing in the daemon
 * changes its own environment.
 */
let inherited: NodeJS.ProcessEnv | undefined;

/** `tree`: run the proxy in a cgroup of its own under it (cgroup mode). */
export function startProcess(
  spec: ProxySpec,
  events: ProcessEvents,
  spawner: Spawner = childProcessSpawner,
  tree?: CgroupTree,
): ProcessHandle {
  let procsFile: string | undefined;
  const group = groupHandle(
    () => procsFile && dirname(procsFile),
    (timeoutMs) => events.onKilled?.(timeoutMs),
  );
  const fail = (error: unknown) => {
    group.gone();
    events.onSpawnError(spawnErrorMessage(spec, error), isDaemonFault(error));
  };
  const lines = {
    stdout: lineReader((line) => events.onOutput('stdout', line)),
    stderr: lineReader((line) => events.onOutput('stderr', line)),
  };
  try {
    try {
      writeGeneratedFiles(spec.files, spec.privileges?.runAs);
    } catch (error) {
      // Its generated config goes to the daemon's own state_dir: whatever keeps it from being
      // written there (a full disk, a directory the daemon cannot recreate) is not the proxy's failure.
      throw Object.assign(error as Error, { daemonFault: true });
    }
    inherited ??= { ...process.env };
    const env = { ...inherited, ...spec.env };
    assertExecutable(spec.command, spec.cwd, env.PATH);
    procsFile = tree && proxyCgroup(tree, spec.id, { memoryMax: spec.maxMemory, pidsMax: spec.privileges?.limits.nproc });
    // Joining the cgroup, then dropping privileges and setting limits, happen in front of the command.
    const join = procsFile ? joinCgroupArgv(procsFile) : [];
    powers ??= daemonPowers();
    const argv = [...join, ...wrapperArgv(spec.privileges, powers), spec.command, ...spec.args];
    const [command, args] = launchArgv(argv[0], argv.slice(1));
    spawner.spawn(
      { command, args, cwd: spec.cwd, env },
      {
        spawned: (pid) => {
          group.started(pid);
          events.onSpawn(pid);
        },
        failed: fail,
        output: (stream, chunk) => lines[stream].push(chunk),
        outputDropped: (stream, count) => {
          lines[stream].cut();
          events.onOutputDropped?.(stream, count);
        },
        outputEnd: (stream) => lines[stream].end(),
        exited: (code, signal) => events.onExit(code, signal, group.gone(code)),
      },
    );
  } catch (error) {
    queueMicrotask(() => fail(error));
  }
  return group.handle;
}

/** Watches a proxy started by an earlier run of the daemon. It is not our child: see watchUntilGone. */
export function adoptProcess(
  pid: number,
  events: Pick<ProcessEvents, 'onExit' | 'onKilled'>,
  pollMs: number,
  tree?: CgroupTree,
): ProcessHandle {
  const cgroup = tree && proxyCgroupOf(tree, pid);
  const group = groupHandle(
    () => cgroup,
    (timeoutMs) => events.onKilled?.(timeoutMs),
  );
  group.started(pid);
  // Only the real parent learns the exit status.
  watchUntilGone(pid, pollMs, () => events.onExit(null, null, group.gone()));
  return group.handle;
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
