// A real daemon process for end-to-end tests: started from the CLI on a temporary config, its JSON
// log lines collected, stopped (and its proxies checked gone) at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'bin/proxy-monitor.js');
/** Node's flags for the daemon, as the bin's shebang gives them (`npm start` and the systemd unit repeat them). */
export const NODE_FLAGS = readFileSync(CLI, 'utf8')
  .split('\n')[0]
  .replace(/^#!\/usr\/bin\/env -S node/, '')
  .split(' ')
  .filter(Boolean);

export type LogLine = Record<string, unknown> & { message: string };

/**
 * How long a daemon (node + tsx) and its node proxies may take to come up: seconds on an idle
 * machine, many more on a 2-core machine that runs other test suites. A wait, not a promise: only a
 * failing run ever waits this long.
 */
export const STARTUP_MS = 60_000;

export interface TestDaemon {
  child: ChildProcess;
  dir: string;
  configFile: string;
  lines: LogLine[];
  /** The same lines as written, before parsing. */
  raw: string[];
  stderr: () => string;
  waitFor(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** A temp dir with `config.yaml` written from `config` (state_dir defaults into the same dir). */
export function writeConfig(config: Record<string, unknown>, dir = mkdtempSync(join(tmpdir(), 'pm-e2e-'))) {
  const full = { state_dir: join(dir, 'state'), ...config };
  const configFile = join(dir, 'config.yaml');
  writeFileSync(configFile, stringify(full));
  return { dir, configFile };
}

/** `prefix`: a command that execs the daemon (`nice -n 10`, `prlimit --nofile=64`): the pid stays the daemon's. */
export function startDaemon(configFile: string, dir: string, args: string[] = [], prefix: string[] = []): TestDaemon {
  // As `npm start` and the systemd unit run it.
  const argv = [...prefix, process.execPath, ...NODE_FLAGS, CLI, 'run', '--config', configFile, ...args];
  const child = spawn(argv[0], argv.slice(1), {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const raw: string[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  let buffer = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    for (const part of parts) {
      if (!part.trim()) continue;
      raw.push(part);
      try {
        lines.push(JSON.parse(part));
      } catch {
        lines.push({ message: part });
      }
    }
    for (const wake of waiters) wake();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  // After 'close' its output is all read.
  const closed = new Promise<number | null>((done) => child.once('close', (code) => done(code)));

  return {
    child,
    dir,
    configFile,
    lines,
    raw,
    stderr: () => stderr,
    exited,
    waitFor(predicate, timeoutMs = 30_000) {
      return new Promise((done, fail) => {
        let seen = 0;
        const check = () => {
          for (; seen < lines.length; seen++) {
            if (predicate(lines[seen])) {
              cleanup();
              return done(lines[seen]);
            }
          }
        };
        const give = (why: string) => {
          cleanup();
          fail(new Error(`${why}; stderr: ${stderr.slice(-500)}; last lines: ${JSON.stringify(lines.slice(-5))}`));
        };
        const timer = setTimeout(() => give(`no matching log line within ${timeoutMs} ms`), timeoutMs);
        // A daemon that died will print nothing more: say so now rather than at the timeout.
        const died = (code: number | null) => {
          check();
          if (waiters.has(check)) give(`the daemon exited (code ${code}) before a matching log line`);
        };
        let ended = false;
        const cleanup = () => {
          ended = true;
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
        if (!ended) void closed.then(died);
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** True once host:port accepts a TCP connection. */
export function accepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((done) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

export async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, stepMs = 10): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await condition()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

/** Free loopback ports, reserved by binding them briefly. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((done) => {
          const server = net.createServer();
          server.listen(0, '127.0.0.1', () => done(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
  return ports;
}

/**
 * Pids of live processes whose command line (or, with `environ`, environment: inherited by every
 * descendant, escaped ones included) contains `marker`.
 */
export function pidsMatching(marker: string, where: 'cmdline' | 'environ' = 'cmdline'): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/${where}`, 'utf8').split('\0').join(' ');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (text.includes(marker) && state !== 'Z' && Number(entry) !== process.pid) pids.push(Number(entry));
    } catch {
      // The process left while we looked.
    }
  }
  return pids;
}
