// The supervised servers: real shadowsocks servers when ss-server is installed, else the tiny TCP
// server shipped with the bench. Every command line carries the run's marker (see cleanup.ts).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { childrenOf, commandArgs } from './proc.ts';

export interface ServerKind {
  name: string;
  version: string;
  command: string;
  args(port: number): string[];
}

const SS_SERVER = '/usr/bin/ss-server';
const TINY_SERVER = join(import.meta.dirname, '..', 'tiny-server.mjs');

/** `marker` tags every command line (see cleanup.ts). */
export function chooseServer(marker: string): ServerKind {
  if (existsSync(SS_SERVER)) {
    const help = spawnSync(SS_SERVER, ['-h'], { encoding: 'utf8' });
    const version = /shadowsocks-libev \S+/.exec(`${help.stdout}${help.stderr}`)?.[0] ?? 'shadowsocks-libev';
    return {
      name: 'ss-server',
      version,
      command: SS_SERVER,
      // The marker doubles as the password: it tags the command line and is no real secret.
      args: (port) => ['-s', '127.0.0.1', '-p', String(port), '-k', marker, '-m', 'aes-256-gcm'],
    };
  }
  return {
    name: 'tiny-server (ss-server not installed)',
    version: `node ${process.version}`,
    command: process.execPath,
    args: (port) => [TINY_SERVER, String(port), marker],
  };
}

/** port -> pid of the live servers. */
export type ServerMap = Map<number, number>;

/**
 * Recognises the bench's servers among a supervisor's children by their exact command line (a
 * child that has not exec'd yet, or a zombie, has another or none), and forgets killed ones.
 * proxy-monitor's servers are the children of its spawn helper, itself a child of the daemon.
 */
export function serverTable(kind: ServerKind, ports: number[]) {
  const portOf = new Map(ports.map((port) => [[kind.command, ...kind.args(port)].join('\0'), port]));
  const known = new Map<number, number>();
  const dead = new Set<number>();
  // Only a yes is kept: a child read before its exec has its parent's command line.
  const helpers = new Set<number>();
  const isHelper = (pid: number) => helpers.has(pid) || (commandArgs(pid)[0]?.endsWith('/spawn-helper') && helpers.add(pid).has(pid));
  return {
    children(parent: number): ServerMap {
      const servers: ServerMap = new Map();
      const visit = (pid: number) => {
        if (dead.has(pid)) return;
        let port = known.get(pid);
        if (port === undefined) {
          port = portOf.get(commandArgs(pid).join('\0'));
          if (port === undefined) {
            if (isHelper(pid)) childrenOf(pid).forEach(visit);
            return;
          }
          known.set(pid, port);
        }
        servers.set(port, pid);
      };
      childrenOf(parent).forEach(visit);
      return servers;
    },
    /** These were killed: never count them again, even while they are unreaped zombies. */
    retire(pids: Iterable<number>): void {
      for (const pid of pids) dead.add(pid);
    },
  };
}

export type ServerTable = ReturnType<typeof serverTable>;
