// proxy-monitor as an operator runs it: `node bin/proxy-monitor.js run --config FILE`, a real daemon
// process, configured for immediate restart, its JSON log read from stdout.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CLI, NODE_FLAGS, ROOT } from '../../test/support/daemon.ts';
import { RUN_DIR } from '../lib/cleanup.ts';
import type { ServerKind } from '../lib/servers.ts';
import { exited, type Supervised } from './system.ts';

export interface OursOptions {
  label: string;
  server: ServerKind;
  ports: number[];
  checkInterval: number;
  logLevel: 'info' | 'warn';
  /** Write a V8 CPU profile of the daemon into this folder when it exits. */
  profileDir?: string;
  /** 'child_process': start proxies without the spawn helper (PROXY_MONITOR_SPAWN). */
  spawn?: 'helper' | 'child_process';
  /** api.listen; default a free port nobody asks for. */
  listen?: string;
  /** Node's flags; default the ones `npm start` and the systemd unit use. */
  nodeFlags?: string[];
  /** More environment for the daemon. */
  env?: Record<string, string>;
}

/** The flags `npm start`, the bin's shebang and the systemd unit run the daemon with. */
export const SHIPPED_NODE_FLAGS = NODE_FLAGS;

export interface LogLine {
  message: string;
  timestamp: string;
  [key: string]: unknown;
}

export interface Ours extends Supervised {
  lines: LogLine[];
  /** Resolves with the first log line from now on that matches. */
  next(match: (line: LogLine) => boolean, timeoutMs: number): Promise<LogLine>;
  /** Rewrite the config with another check interval and have the daemon reload it (SIGHUP). */
  setCheckInterval(seconds: number): void;
}

function version(): string {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'machines'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return `${version} (${commit}${dirty ? ' + uncommitted changes' : ''})`;
  } catch {
    return version;
  }
}

function config(options: OursOptions, dir: string, checkInterval: number) {
  return {
    proxy: {
      monitor: {
        enable: true,
        check_interval: checkInterval,
        restart_cooldown: 0,
        max_restarts: 1_000_000,
        health_timeout: 5,
        // As supervisord runs here (startsecs=0, and no backoff once a program is RUNNING): a server
        // killed again soon after its restart (the next storm, the next isolated crash) is a new
        // crash, not a failed start or a restart that did not hold, to back off from.
        min_uptime: 0,
        stable_uptime: 1,
      },
      proxies: options.ports.map((port) => ({
        id: `srv-${port}`,
        type: 'exec',
        command: options.server.command,
        args: options.server.args(port),
        health: { tcp: `127.0.0.1:${port}` },
      })),
    },
    api: { listen: options.listen ?? '127.0.0.1:0' },
    state_dir: join(dir, 'state'),
    logger: { level: options.logLevel },
  };
}

let built = false;

/**
 * The daemon runs from dist/, as users run it: built from the sources as they are, once per bench
 * process (a dist/ left from other sources would be measured under this commit's name).
 */
function buildOnce(): void {
  if (built) return;
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  built = true;
}

export function startOurs(options: OursOptions): Ours {
  buildOnce();
  const dir = join(RUN_DIR, options.label);
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, 'config.yaml');
  const write = (interval: number) => writeFileSync(configFile, stringify(config(options, dir, interval)));
  write(options.checkInterval);

  const profile = options.profileDir ? ['--cpu-prof', '--cpu-prof-dir', options.profileDir] : [];
  const flags = options.nodeFlags ?? SHIPPED_NODE_FLAGS;
  const child = spawn(process.execPath, [...flags, ...profile, CLI, 'run', '--config', configFile], {
    cwd: ROOT,
    env: { ...process.env, PROXY_MONITOR_SPAWN: options.spawn ?? 'helper', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const lines: LogLine[] = [];
  const waiters = new Set<(line: LogLine) => void>();
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    for (const part of parts) {
      if (!part.startsWith('{')) continue;
      const line = JSON.parse(part) as LogLine;
      lines.push(line);
      for (const wake of waiters) wake(line);
    }
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-2000)));

  return {
    name: options.spawn === 'child_process' ? 'proxy-monitor (child_process)' : 'proxy-monitor',
    version: version(),
    pid: child.pid!,
    lines,
    next(match, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`proxy-monitor: no matching log line within ${timeoutMs} ms; stderr: ${stderr}`));
        }, timeoutMs);
        const check = (line: LogLine) => {
          if (!match(line)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(line);
        };
        waiters.add(check);
      });
    },
    setCheckInterval(seconds) {
      write(seconds);
      child.kill('SIGHUP');
    },
    async stop() {
      child.kill('SIGTERM');
      if (!(await exited(child, 20_000))) process.kill(-child.pid!, 'SIGKILL');
    },
  };
}
