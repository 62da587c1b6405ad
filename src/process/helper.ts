// The client of the spawn helper (native/spawn-helper.c, built into dist/ by `npm install`): a small
// process started once, at boot, that posix_spawn()s each proxy on request and reports its output
// and its exit over a pipe. Starting a proxy then costs the same at any daemon heap size and never
// blocks the event loop (Node's spawn forks the whole daemon on it: bench/README.md, "Spawn path").
//
// Should the helper die, its proxies live on (reparented to init): the ones it started are watched
// in /proc from then on, as adopted ones are, and later starts go through child_process (until the
// daemon has started a new helper: src/daemon/spawn-path.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, existsSync, fstatSync, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { getSystemErrorName } from 'node:util';
import { openFiles, openFilesLimit, processState, watchUntilGone } from './proc.ts';
import {
  childProcessSpawner,
  decodeWaitStatus,
  type ConnectOutcome,
  type Connector,
  type SpawnCallbacks,
  type Spawner,
  type SpawnRequest,
  type Stream,
} from './spawner.ts';

/** Beside the bundle in dist/; from the sources (tests), in dist/ too. */
export const HELPER_CANDIDATES = [join(import.meta.dirname, 'spawn-helper'), join(import.meta.dirname, '../../dist/spawn-helper')];
const READY_TIMEOUT_MS = 5_000;
/** How often a process is looked at in /proc once its helper is gone. */
const ORPHAN_POLL_MS = 250;
/**
 * A connect the helper has not answered this long after its own timeout (a helper stopped with
 * SIGSTOP, or stuck) is given back to its caller, who connects itself; the helper is then taken as
 * stalled: checks connect from the daemon until it answers again.
 */
const CONNECT_GRACE_MS = 1_000;

/**
 * The helper's watchdog. Its proxies' exits reach the daemon only through it, so a helper that stops
 * answering holds every restart: one silent for `silentMs` is pinged, and one that leaves a ping
 * unanswered `silentMs` is stalled. A helper stopped by a signal (SIGSTOP, `kill -STOP`) is then
 * continued; any other is given `killAfterMs`, then killed: its proxies are watched in /proc from
 * then on and later starts go through child_process, as when it dies.
 */
export interface Watchdog {
  silentMs: number;
  killAfterMs: number;
}
export const WATCHDOG: Watchdog = { silentMs: 3_000, killAfterMs: 30_000 };
/**
 * The id of the request after `id`. Every check's connect takes one (200 checks a second: 2^31 in
 * 124 days), and they stay below 2^31, where the replies carry them as 32-bit integers.
 */
export const nextRequestId = (id: number) => (id >= 0x7fffffff ? 1 : id + 1);
const STREAMS = { 1: 'stdout', 2: 'stderr' } as const;

/**
 * Second read ends of a started process's stdout and stderr pipes, opened through /proc and held,
 * unread, while the helper reads the pipes. Should the helper die, the pipes keep a reader (the
 * daemon, from then on): a proxy writing its log goes on, where it would meet a broken pipe (a Go
 * proxy such as v2ray dies of SIGPIPE on fd 1 or 2, whatever its signal mask).
 */
interface Spares {
  fds: Partial<Record<Stream, number>>;
  /** Streams the helper saw end: there is nothing of ours left to hold (fd 1 may be another pipe by now). */
  ended: Set<Stream>;
}
/**
 * Opened this long after the start, all of a moment's at once: an open of /proc/PID/fd waits for
 * the process's exec (its wrapper's exec of the proxy) to finish, which held the event loop for
 * ~8 % of a storm, profiled.
 */
const SPARES_AFTER_MS = 1_000;
/**
 * Descriptors left free when spares are opened: a daemon short of them (a low LimitNOFILE) keeps
 * them for its API, its checks and its state, and goes without spares rather than without those.
 */
const FD_HEADROOM = 128;

/** How many more descriptors spares may take now. */
function spareRoom(): number {
  try {
    return (openFilesLimit() ?? 1024) - openFiles() - FD_HEADROOM;
  } catch {
    return 0;
  }
}

function openSpares(pid: number, spares: Spares): void {
  for (const [fd, stream] of Object.entries(STREAMS)) {
    if (spares.ended.has(stream)) continue;
    try {
      const spare = openSync(`/proc/${pid}/fd/${fd}`, constants.O_RDONLY | constants.O_NONBLOCK);
      // Its own redirection (a file, /dev/null) is not our pipe: left alone.
      if (fstatSync(spare).isFIFO()) spares.fds[stream] = spare;
      else closeSync(spare);
    } catch {
      // Gone already, or its fd closed: nothing to keep open.
    }
  }
}

function closeSpare(spares: Spares, stream: Stream): void {
  const fd = spares.fds[stream];
  if (fd === undefined) return;
  delete spares.fds[stream];
  closeSync(fd);
}

/** The helper is gone: the daemon reads what it held, until the process's side closes. */
function readSpare(spares: Spares, stream: Stream, callbacks: SpawnCallbacks): void {
  if (spares.ended.has(stream)) return; // its end was said already
  const fd = spares.fds[stream];
  delete spares.fds[stream];
  if (fd === undefined) {
    callbacks.outputEnd(stream);
    return;
  }
  const pipe = new Socket({ fd, readable: true, writable: false });
  pipe.on('data', (chunk: Buffer) => callbacks.output(stream, chunk));
  pipe.once('close', () => callbacks.outputEnd(stream));
  pipe.on('error', () => pipe.destroy());
  pipe.unref(); // a proxy's output must not keep the daemon (or a test) alive
}

/**
 * A request's frame (native/spawn-helper.c): u32 length, type, u32 id, then `fields` bytes that
 * `fill` writes from offset 9, then `tail`.
 */
function encodeRequest(type: 'S' | 'C', id: number, fields: number, tail: Buffer, fill: (head: Buffer) => void): Buffer {
  const head = Buffer.alloc(9 + fields);
  head.writeUInt32LE(5 + fields + tail.length, 0);
  head.write(type, 4, 'latin1');
  head.writeUInt32LE(id, 5);
  fill(head);
  return Buffer.concat([head, tail]);
}

function encodeSpawn(id: number, request: SpawnRequest): Buffer {
  const env = Object.entries(request.env).flatMap(([name, value]) => (value === undefined ? [] : [`${name}=${value}`]));
  const fields = [request.cwd ?? '', request.command, ...request.args, ...env];
  // Refused as Node's spawn refuses it: in the request a NUL would end its string early and shift the rest.
  if (fields.some((field) => field.includes('\0'))) {
    const error = new TypeError(`spawn ${request.command}: its arguments, environment and directory must be strings without null bytes`);
    throw Object.assign(error, { code: 'ERR_INVALID_ARG_VALUE' });
  }
  const strings = fields.map((s) => `${s}\0`).join('');
  return encodeRequest('S', id, 8, Buffer.from(strings), (head) => {
    head.writeUInt32LE(1 + request.args.length, 9);
    head.writeUInt32LE(env.length, 13);
  });
}

/** A request that only asks for an answer ('P' back): is a stalled helper answering again? */
const PING = Buffer.from([1, 0, 0, 0, 'P'.charCodeAt(0)]);

function encodeConnect(id: number, host: string, port: number, timeoutMs: number): Buffer {
  return encodeRequest('C', id, 6, Buffer.from(`${host}\0`, 'latin1'), (head) => {
    head.writeUInt32LE(Math.min(Math.max(Math.ceil(timeoutMs), 0), 0xffffffff), 9);
    head.writeUInt16LE(port, 13);
  });
}

/** Splits the helper's stdout into frames: u32 length, then that many bytes. */
function frames(onFrame: (frame: Buffer) => void) {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let offset = 0;
    while (pending.length - offset >= 4) {
      const length = pending.readUInt32LE(offset);
      if (pending.length - offset - 4 < length) break;
      onFrame(pending.subarray(offset + 4, offset + 4 + length));
      offset += 4 + length;
    }
    pending = pending.subarray(offset);
  };
}

/**
 * `lost`: it exited or was killed (its proxies are watched in /proc from then on); `stalled`: it
 * stopped answering; `continued`: it was stopped by a signal, and sent SIGCONT; `answering`: again.
 */
export type HelperEvent = { type: 'lost' | 'stalled'; reason: string } | { type: 'continued' | 'answering' };

export interface HelperSpawner extends Spawner {
  readonly pid: number;
  connect: Connector;
  /** Ends the helper (its processes live on). */
  close(): void;
}

/**
 * Starts the helper and resolves once it is ready; rejects (with the reason) when it cannot be
 * found or started. onEvent hears of it dying (once) or stalling while the daemon runs.
 */
export function startSpawnHelper(
  onEvent: (event: HelperEvent) => void,
  candidates = HELPER_CANDIDATES,
  watchdog = WATCHDOG,
): Promise<HelperSpawner> {
  const path = candidates.find((candidate) => existsSync(candidate));
  if (path === undefined)
    return Promise.reject(new Error(`no spawn helper at ${candidates.join(' or ')} (was it built? it needs a C compiler at npm install)`));
  let child: ChildProcess;
  try {
    // A session of its own: a signal to the daemon's process group (Ctrl-C, `kill -TERM -PGID`)
    // must not take the helper away while the daemon is still stopping its proxies through it.
    child = spawn(path, [], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
  } catch (error) {
    return Promise.reject(error);
  }
  // The requests of one turn (a storm's restarts, a check round's connects) leave in one write:
  // one wake-up of the helper. (Node's idiom: corks nest, and the last of the turn's uncorks writes them all.)
  function send(request: Buffer) {
    child.stdin!.cork();
    child.stdin!.write(request);
    process.nextTick(() => child.stdin!.uncork());
  }
  const requests = new Map<number, { command: string; callbacks: SpawnCallbacks }>();
  const connects = new Map<number, { resolve: (outcome: ConnectOutcome | undefined) => void; giveUpAt: number }>();
  let stalledSince: number | undefined;
  const stall = (reason: string) => {
    if (stalledSince !== undefined || lost) return;
    stalledSince = performance.now();
    onEvent({ type: 'stalled', reason });
  };
  // One timer for every connect in flight, not one each: it looks for overdue ones while any is.
  let sweeping = false;
  const sweepOverdue = () => {
    const now = performance.now();
    for (const [id, { resolve, giveUpAt }] of connects) {
      if (giveUpAt > now) continue;
      connects.delete(id);
      resolve(undefined);
      stall('a health check connect went unanswered past its timeout');
    }
    sweeping = connects.size > 0;
    if (sweeping) setTimeout(sweepOverdue, CONNECT_GRACE_MS).unref();
  };
  let heardAt = performance.now();
  let pingedAt: number | undefined;
  let killedFor: string | undefined;
  const watch = setInterval(() => {
    const now = performance.now();
    if (pingedAt === undefined) {
      if (now - heardAt < watchdog.silentMs) return;
      pingedAt = now;
      return send(PING);
    }
    if (now - pingedAt < watchdog.silentMs) return;
    stall(`a ping went unanswered for ${watchdog.silentMs} ms`);
    const pid = child.pid!;
    if (processState(pid) === 'T') {
      try {
        process.kill(pid, 'SIGCONT');
        onEvent({ type: 'continued' });
      } catch {} // gone meanwhile: its 'exit' says so
    } else if (now - stalledSince! >= watchdog.killAfterMs) {
      killedFor = `the spawn helper did not answer for ${Math.round((now - pingedAt) / 1000)} s and was killed`;
      child.kill('SIGKILL');
    }
  }, watchdog.silentMs / 3);
  watch.unref();
  const running = new Map<number, { callbacks: SpawnCallbacks; spares: Spares }>();
  /** Started processes whose spares are to be opened, by the timer that opens them. */
  let unspared: number[] = [];
  const spareLater = (pid: number) => {
    if (unspared.push(pid) > 1) return;
    setTimeout(() => {
      let room = spareRoom();
      for (const started of unspared) {
        const entry = running.get(started);
        if (!entry || room < 2) continue;
        openSpares(started, entry.spares);
        room -= 2;
      }
      unspared = [];
    }, SPARES_AFTER_MS).unref();
  };
  let nextId = 0;
  const takeId = () => (nextId = nextRequestId(nextId));
  let ready = false;
  let lost = false;
  let closing = false;

  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`the spawn helper ${path} did not start within ${READY_TIMEOUT_MS} ms`)),
      READY_TIMEOUT_MS,
    );
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    child.once('error', fail);

    const spawner: HelperSpawner = {
      pid: child.pid!,
      spawn(request, callbacks) {
        if (lost) return childProcessSpawner.spawn(request, callbacks);
        const id = takeId();
        const frame = encodeSpawn(id, request);
        requests.set(id, { command: request.command, callbacks });
        send(frame);
      },
      connect(host, port, timeoutMs) {
        if (lost || stalledSince !== undefined) return Promise.resolve(undefined);
        const id = takeId();
        send(encodeConnect(id, host, port, timeoutMs));
        if (!sweeping) {
          sweeping = true;
          setTimeout(sweepOverdue, CONNECT_GRACE_MS).unref();
        }
        return new Promise((resolve) => connects.set(id, { resolve, giveUpAt: performance.now() + timeoutMs + CONNECT_GRACE_MS }));
      },
      close() {
        closing = true;
        clearInterval(watch);
        child.stdin!.end();
      },
    };

    child.stdout!.on(
      'data',
      frames((frame) => {
        const type = String.fromCharCode(frame[0]);
        heardAt = performance.now();
        pingedAt = undefined;
        if (stalledSince !== undefined) {
          stalledSince = undefined;
          onEvent({ type: 'answering' });
        }
        if (type === 'R') {
          ready = true;
          clearTimeout(timer);
          child.off('error', fail);
          resolve(spawner);
          return;
        }
        if (type === 'P') return; // a ping's answer: heard, that was all
        const pid = frame.readInt32LE(1);
        if (type === 'S') {
          const id = frame.readUInt32LE(1);
          const result = frame.readInt32LE(5);
          const { command, callbacks } = requests.get(id)!;
          requests.delete(id);
          if (result > 0) {
            running.set(result, { callbacks, spares: { fds: {}, ended: new Set() } });
            spareLater(result);
            callbacks.spawned(result);
          } else {
            // As Node words it: "spawn /bin/sh ENOENT".
            const code = getSystemErrorName(result);
            callbacks.failed(Object.assign(new Error(`spawn ${command} ${code}`), { errno: result, code }));
          }
        } else if (type === 'O') {
          running.get(pid)?.callbacks.output(STREAMS[frame[5] as 1 | 2], frame.subarray(6));
        } else if (type === 'D') {
          running.get(pid)?.callbacks.outputDropped(STREAMS[frame[5] as 1 | 2], frame.readUInt32LE(6));
        } else if (type === 'E') {
          const entry = running.get(pid);
          if (!entry) return;
          const stream = STREAMS[frame[5] as 1 | 2];
          entry.spares.ended.add(stream);
          closeSpare(entry.spares, stream);
          entry.callbacks.outputEnd(stream);
        } else if (type === 'C') {
          const id = frame.readUInt32LE(1);
          const pending = connects.get(id);
          connects.delete(id);
          pending?.resolve({ error: frame.readInt32LE(5), durationMs: frame.readUInt32LE(9) / 1000 });
        } else if (type === 'X') {
          const entry = running.get(pid);
          running.delete(pid);
          if (!entry) return;
          for (const stream of Object.values(STREAMS)) closeSpare(entry.spares, stream);
          const { code, signal } = decodeWaitStatus(frame.readInt32LE(5));
          entry.callbacks.exited(code, signal);
        }
      }),
    );
    child.stdin!.on('error', () => {}); // EPIPE once the helper is gone: handled on 'exit'

    child.once('exit', (code, signal) => {
      clearInterval(watch);
      if (closing) return;
      const reason = killedFor ?? `the spawn helper exited (${signal ?? `code ${code}`})`;
      if (!ready) return fail(new Error(`${reason} before it was ready`));
      lost = true;
      for (const { callbacks } of requests.values()) callbacks.failed(Object.assign(new Error(reason), { daemonFault: true }));
      requests.clear();
      for (const { resolve } of connects.values()) resolve(undefined); // connected again by their callers
      connects.clear();
      for (const [pid, { callbacks, spares }] of running) {
        for (const stream of Object.values(STREAMS)) readSpare(spares, stream, callbacks);
        // Orphaned, not ended: only its new parent learns the exit status.
        watchUntilGone(pid, ORPHAN_POLL_MS, () => callbacks.exited(null, null));
      }
      running.clear();
      onEvent({ type: 'lost', reason });
    });
    // The helper must never be what keeps the daemon (or a test) alive.
    child.unref();
    for (const stream of [child.stdin, child.stdout]) (stream as unknown as { unref?: () => void }).unref?.();
  });
}
