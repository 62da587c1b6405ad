// A proxy that daemonizes itself (`ss-server -f pidfile`, `setsid cmd &` in a wrapper) leaves its
// process group: its leader exits 0 while the escaped copy keeps serving, out of reach of every stop.
// Every process of a proxy inherits the spawn token in its environment (store/journal.ts), so when the
// leader exits, any live process still carrying that token outside the leader's group has escaped:
// it is killed, logged at error level, and named in the exit the proxy's machine hears (and `why`).
import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Logger } from '../logging/logger.ts';
import type { ProxySpec } from '../proxy-spec.ts';
import { SPAWN_TOKEN_ENV } from '../store/identity.ts';
import type { Driver } from '../supervisor/ports.ts';
import { isDeadState, statFields } from './proc.ts';
import { signalGroup } from './signal.ts';

// Fields of /proc/<pid>/stat as statFields() numbers them (field 3 is index 0).
const STATE = 0;
const PROCESS_GROUP = 2;

/** The flag that makes a known server daemonize itself. */
const DAEMON_FLAGS: Record<string, string> = {
  'ss-server': '-f',
  'ss-local': '-f',
  'ss-redir': '-f',
  'ss-tunnel': '-f',
  'ss-manager': '-f',
};

/** Live processes carrying `token` in their environment, outside the process group of `leaderPid`. */
export function findEscaped(token: string, leaderPid: number): number[] {
  const marker = `${SPAWN_TOKEN_ENV}=${token}`;
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const fields = statFields(pid);
    if (!fields || isDeadState(fields[STATE]) || Number(fields[PROCESS_GROUP]) === leaderPid) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      continue; // gone, or not ours to read
    }
    if (environ.split('\0').includes(marker)) found.push(pid);
  }
  return found;
}

export function escapeNote(spec: Pick<ProxySpec, 'command'>, pids: number[]): string {
  const program = basename(spec.command);
  const flag = DAEMON_FLAGS[program];
  const how = flag ? ` (${program}: remove ${flag})` : ' (no daemon or fork option, no "&" or setsid in a wrapper)';
  const what =
    pids.length === 1
      ? `1 process running outside its process group (pid ${pids[0]})`
      : `${pids.length} processes running outside its process group (pids ${pids.join(', ')})`;
  return `it left ${what}: it daemonizes itself and must run in the foreground${how}; the escaped copies were killed`;
}

function kill(pid: number): void {
  signalGroup(pid, 'SIGKILL'); // the escapee may lead a group (setsid) of its own helpers
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** The driver, with every exit checked for escaped copies of the proxy. */
export function watchForEscapes<D extends Pick<Driver, 'start'>>(driver: D, logger: Pick<Logger, 'error'>): D {
  return {
    ...driver,
    start(spec, events) {
      const token = spec.env[SPAWN_TOKEN_ENV];
      if (token === undefined) return driver.start(spec, events);
      let leader: number | undefined;
      return driver.start(spec, {
        ...events,
        onSpawn: (pid) => {
          leader = pid;
          events.onSpawn(pid);
        },
        onExit: (code, signal) => {
          const escaped = leader === undefined ? [] : findEscaped(token, leader);
          if (escaped.length === 0) return events.onExit(code, signal);
          escaped.forEach(kill);
          const note = escapeNote(spec, escaped);
          logger.error({ proxy_id: spec.id, proxy_type: spec.type, escaped_pids: escaped, exit_code: code }, `proxy ${note}`);
          events.onExit(code, signal, note);
        },
      });
    },
  };
}
