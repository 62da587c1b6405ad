// PM2, installed from npm into a cache folder outside the project (never its node_modules), with its
// own PM2_HOME inside the run's folder. Servers run in fork mode as plain binaries (interpreter none),
// restarted without delay and without a restart limit.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUN_DIR } from '../lib/cleanup.ts';
import { isAliveNotZombie } from '../lib/proc.ts';
import type { ServerKind } from '../lib/servers.ts';
import type { Supervised } from './system.ts';

export const PM2_VERSION = '7.0.4';

function install(log: (line: string) => void): string {
  const prefix = join(tmpdir(), 'proxy-monitor-bench-tools', `pm2-${PM2_VERSION}`);
  const bin = join(prefix, 'node_modules', 'pm2', 'bin', 'pm2');
  if (!existsSync(bin)) {
    log(`pm2: npm i --prefix ${prefix} pm2@${PM2_VERSION}`);
    mkdirSync(prefix, { recursive: true });
    execFileSync('npm', ['i', '--prefix', prefix, '--no-audit', '--no-fund', '--loglevel=error', `pm2@${PM2_VERSION}`], {
      stdio: 'ignore',
    });
  }
  return bin;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startPm2(server: ServerKind, ports: number[], log: (line: string) => void): Promise<Supervised> {
  const bin = install(log);
  const home = join(RUN_DIR, 'pm2home');
  mkdirSync(home, { recursive: true });
  const env = { ...process.env, PM2_HOME: home };
  const pm2 = (...args: string[]) =>
    execFileSync(process.execPath, [bin, ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  const ecosystem = join(home, 'ecosystem.json');
  const apps = ports.map((port) => ({
    name: `srv-${port}`,
    script: server.command,
    args: server.args(port),
    interpreter: 'none',
    exec_mode: 'fork',
    autorestart: true,
    restart_delay: 0,
    max_restarts: 1_000_000,
    vizion: false,
  }));
  writeFileSync(ecosystem, JSON.stringify({ apps }));
  pm2('start', ecosystem);
  const pid = Number(readFileSync(join(home, 'pm2.pid'), 'utf8'));
  return {
    name: 'pm2',
    version: `pm2 ${pm2('--version').trim()}`,
    pid,
    async stop() {
      try {
        pm2('kill');
      } catch {
        // the sweep at the end kills whatever is left
      }
      for (let i = 0; i < 100 && isAliveNotZombie(pid); i++) await sleep(100);
    },
  };
}
