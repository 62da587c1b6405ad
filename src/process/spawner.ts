// How a process is started, behind one interface: Node's child_process (a fork of the daemon per
// start), or the spawn helper (helper.ts: posix_spawn from a small process, at a cost that does not
// grow with the daemon's heap). The driver does the rest the same way for both.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

export type Stream = 'stdout' | 'stderr';

export interface SpawnRequest {
  command: string;
  args: string[];
  cwd: string | undefined;
  env: NodeJS.ProcessEnv;
}

export interface SpawnCallbacks {
  /** The process runs, leading a new session and process group (pgid = pid). */
  spawned(pid: number): void;
  /** Nothing was started; nothing else follows. */
  failed(error: NodeJS.ErrnoException): void;
  output(stream: Stream, chunk: Buffer): void;
  /** The spawn helper read this many lines over its output budget and dropped them: the line in progress is cut. */
  outputDropped(stream: Stream, lines: number): void;
  outputEnd(stream: Stream): void;
  /** code and signal as Node reports them; both null when the status is unknown. */
  exited(code: number | null, signal: string | null): void;
}

export interface Spawner {
  spawn(request: SpawnRequest, callbacks: SpawnCallbacks): void;
  /** TCP connects made outside the daemon's event loop (the spawn helper); absent: Node's own. */
  connect?: Connector;
}

/** `error`: 0 when it connected (then closed), else an errno (ETIMEDOUT: not within timeoutMs). */
export interface ConnectOutcome {
  error: number;
  durationMs: number;
}

/**
 * Connects to a numeric address and closes at once, settling within timeoutMs. Resolves undefined
 * when it can no longer be made this way (the helper is gone): the caller connects itself.
 */
export type Connector = (host: string, port: number, timeoutMs: number) => Promise<ConnectOutcome | undefined>;

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, number]) => [number, name]));

/** A wait(2) status as Node reports it: an exit code, or the name of the signal that killed it. */
export function decodeWaitStatus(status: number): { code: number | null; signal: string | null } {
  const signal = status & 0x7f;
  return signal === 0 ? { code: (status >> 8) & 0xff, signal: null } : { code: null, signal: SIGNAL_NAMES.get(signal) ?? `SIG${signal}` };
}

export const childProcessSpawner: Spawner = {
  spawn(request, callbacks) {
    const child = spawn(request.command, request.args, {
      cwd: request.cwd,
      env: request.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid === undefined) {
      // The spawn failed; node tells why on 'error', asynchronously.
      child.once('error', (error) => callbacks.failed(error));
      return;
    }
    const pid = child.pid;
    child.once('spawn', () => callbacks.spawned(pid));
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream].on('data', (chunk: Buffer) => callbacks.output(stream, chunk));
      child[stream].on('end', () => callbacks.outputEnd(stream));
      child[stream].on('error', () => {});
    }
    child.once('exit', (code, signal) => callbacks.exited(code, signal));
  },
};
