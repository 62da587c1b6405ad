// supervisord (Debian's `supervisor`), configured for immediate restart: startsecs=0 (a server is
// RUNNING at once, so its death is an unexpected exit, restarted without delay) and a retry budget
// that never runs out. Where it is not installed, the Debian package is unpacked into a cache folder.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUN_DIR } from '../lib/cleanup.ts';
import { childrenOf, isAliveNotZombie } from '../lib/proc.ts';
import type { ServerKind } from '../lib/servers.ts';
import { exited, type Supervised } from './system.ts';

interface Installation {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

const which = (name: string): string | undefined => {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
};

/** The installed supervisord, or Debian's package unpacked (not installed) into a cache folder. */
function locate(log: (line: string) => void): Installation {
  const installed = which('supervisord');
  if (installed) return { command: installed, args: [], env: process.env };
  if (!which('apt-get') || !which('python3')) throw new Error('supervisord is not installed and there is no apt-get/python3 to fetch it');
  const cache = join(tmpdir(), 'proxy-monitor-bench-tools', 'supervisor');
  const root = join(cache, 'root');
  if (!existsSync(join(root, 'usr/bin/supervisord'))) {
    log(`supervisord: unpacking Debian's supervisor into ${cache}`);
    mkdirSync(root, { recursive: true });
    const download = () => execFileSync('apt-get', ['download', 'supervisor', 'python3-pkg-resources'], { cwd: cache, stdio: 'ignore' });
    try {
      download();
    } catch {
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
      download();
    }
    for (const deb of readdirSync(cache).filter((f) => f.endsWith('.deb'))) execFileSync('dpkg-deb', ['-x', join(cache, deb), root]);
  }
  return {
    command: 'python3',
    args: [join(root, 'usr/bin/supervisord')],
    env: { ...process.env, PYTHONPATH: join(root, 'usr/lib/python3/dist-packages') },
  };
}

/** 'default': output captured to log files, as a user would run it; 'tuned': stdout_logfile=NONE. */
export type SupervisordVariant = 'default' | 'tuned';

function configText(dir: string, server: ServerKind, ports: number[], variant: SupervisordVariant): string {
  const programs = ports.map((port) =>
    [
      `[program:srv-${port}]`,
      `command=${[server.command, ...server.args(port)].join(' ')}`,
      'autostart=true',
      'autorestart=true',
      'startsecs=0',
      'startretries=1000000',
      'stopasgroup=true',
      'killasgroup=true',
      'redirect_stderr=true',
      ...(variant === 'tuned' ? ['stdout_logfile=NONE'] : []),
    ].join('\n'),
  );
  const main = [
    '[supervisord]',
    'nodaemon=true',
    `logfile=${join(dir, 'supervisord.log')}`,
    `pidfile=${join(dir, 'supervisord.pid')}`,
    `childlogdir=${join(dir, 'logs')}`,
    'loglevel=warn',
    'minfds=8192',
  ].join('\n');
  return `${[main, ...programs].join('\n\n')}\n`;
}

export function startSupervisord(
  server: ServerKind,
  ports: number[],
  log: (line: string) => void,
  variant: SupervisordVariant = 'default',
): Supervised {
  const install = locate(log);
  const dir = join(RUN_DIR, `supervisord-${variant}`);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const conf = join(dir, 'supervisord.conf');
  writeFileSync(conf, configText(dir, server, ports, variant));
  const version = execFileSync(install.command, [...install.args, '--version'], { env: install.env, encoding: 'utf8' }).trim();
  const child = spawn(install.command, [...install.args, '-n', '-c', conf], { env: install.env, stdio: 'ignore', detached: true });
  return {
    name: variant === 'tuned' ? 'supervisord (stdout_logfile=NONE)' : 'supervisord',
    version: `supervisord ${version}`,
    pid: child.pid!,
    async stop() {
      // Its servers lead process groups of their own (stopasgroup): should supervisord have to be
      // killed, they would live on, holding their ports against its next round. Taken before it
      // stops: once it has gone, they are init's children.
      const servers = childrenOf(child.pid!);
      child.kill('SIGTERM');
      if (!(await exited(child, 20_000))) process.kill(-child.pid!, 'SIGKILL');
      for (const pid of servers.filter(isAliveNotZombie)) process.kill(pid, 'SIGKILL');
    },
  };
}
