// A proxy that daemonizes itself (`ss-server -f pidfile`, `setsid cmd &` in a wrapper) leaves its
// process group: its leader exits 0 while the escaped copy keeps serving, out of reach of every stop.
// Every process of a proxy inherits the spawn token in its environment (adoption/journal.ts), so when the
// leader exits, any live process still carrying that token outside the leader's group has escaped:
// it is killed and logged at error level. A leader that exited 0 (as a daemonizer does) has the
// escape named in the exit its machine hears (and `why`); a crash is reported at once, the escaped
// copies stopped right after.
import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Logger } from '../logging/logger.ts';
import type { ProxySpec } from '../proxy-spec.ts';
import type { Driver } from '../supervisor/ports.ts';
import { isDeadState, PROCESS_GROUP, START_TIME, STATE, statFields, ticksSinceBoot } from './proc.ts';
import { signalGroup } from './signal.ts';

/** The environment variable carrying a proxy's spawn token (set by adoption/journal.ts). */
export const SPAWN_TOKEN_ENV = 'PROXY_MONITOR_SPAWN';

/** The flag that makes a known server daemonize itself. */
const DAEMON_FLAGS: Record<string, string> = {
  'ss-server': '-f',
  'ss-local': '-f',
  'ss-redir': '-f',
  'ss-tunnel': '-f',
  'ss-manager': '-f',
};

/** An exited leader whose escaped copies are looked for: they carry `token`, outside its group. */
interface Search {
  leader: number;
  /** No later than the leader's start (clock ticks since boot): its descendants cannot be older. */
  startedAt: number;
}

const MARKER = `${SPAWN_TOKEN_ENV}=`;

/** The spawn token in an environment as /proc/<pid>/environ holds it (NUL-separated). */
function tokenIn(environ: string): string | undefined {
  const at = environ.indexOf(MARKER);
  if (at === -1 || (at > 0 && environ[at - 1] !== '\0')) return undefined;
  const end = environ.indexOf('\0', at);
  return environ.slice(at + MARKER.length, end === -1 ? undefined : end);
}

/**
 * One pass over /proc for many exited leaders at once. Only processes no older than the youngest
 * possible ancestor have their environment read: on a host, nearly every process is older than a
 * proxy that just exited, and reading every process's environment for every exit of a storm of 200
 * was most of the daemon's CPU in that storm.
 */
function scan(searches: Map<string, Search>): Map<string, number[]> {
  const found = new Map<string, number[]>();
  if (searches.size === 0) return found;
  const oldest = Math.min(...[...searches.values()].map((s) => s.startedAt));
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid || liveLeaders.has(pid)) continue;
    const fields = statFields(pid);
    if (!fields || isDeadState(fields[STATE]) || Number(fields[START_TIME]) < oldest) continue;
    let environ: string;
    try {
      // utf8: Node reads it in one native call (any other encoding goes through JS buffers); the
      // token and the variable's name are ASCII, whatever else the environment holds.
      environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
    } catch {
      continue; // gone, or not ours to read
    }
    const token = tokenIn(environ) ?? '';
    const search = searches.get(token);
    if (!search || Number(fields[PROCESS_GROUP]) === search.leader || Number(fields[START_TIME]) < search.startedAt) continue;
    found.set(token, [...(found.get(token) ?? []), pid]);
  }
  return found;
}

/**
 * The leaders started through the watch and still running. Each carries its own token, never
 * another's, so a scan skips them: after a storm they are the 200 restarted proxies, the youngest
 * processes there are, and reading a process's environment costs up to 0.5 ms (the kernel reads
 * it from the process's memory).
 */
const liveLeaders = new Set<number>();

/** Exits waiting for the next scan: every exit of the same moment (a storm) shares one pass. */
const waiting = new Map<string, Search & { done: (escaped: number[]) => void }>();

function scanSoon(token: string, search: Search, done: (escaped: number[]) => void): void {
  if (waiting.size === 0) setImmediate(scanWaiting);
  waiting.set(token, { ...search, done });
}

/**
 * The live processes carrying `token` outside the group of `leaderPid`, looked for in the next pass
 * over /proc (shared by every exit of the same moment).
 */
export function escapedSoon(token: string, leaderPid: number, startedAt: number): Promise<number[]> {
  return new Promise((resolve) => scanSoon(token, { leader: leaderPid, startedAt }, resolve));
}

function scanWaiting(): void {
  const batch = new Map(waiting);
  waiting.clear();
  const found = scan(batch);
  for (const [token, { done }] of batch) done(found.get(token) ?? []);
}

/** How a known server is kept in the foreground: " (ss-server: remove -f)", or the general advice. */
function foregroundHint(spec: Partial<Pick<ProxySpec, 'command'>>): string {
  const program = spec.command === undefined ? '' : basename(spec.command);
  const flag = DAEMON_FLAGS[program];
  return flag ? ` (${program}: remove ${flag})` : ' (no daemon or fork option, no "&" or setsid in a wrapper)';
}

export function escapeNote(spec: Partial<Pick<ProxySpec, 'command'>>, pids: number[]): string {
  const how = foregroundHint(spec);
  const what =
    pids.length === 1
      ? `1 process running outside its process group (pid ${pids[0]})`
      : `${pids.length} processes running outside its process group (pids ${pids.join(', ')})`;
  return `it left ${what}: it daemonizes itself and must run in the foreground${how}; the escaped copies were killed`;
}

/** SIGKILL to a process of ours and to the group it may lead (an escapee's setsid'd helpers). */
export function killWithGroup(pid: number): void {
  signalGroup(pid, 'SIGKILL');
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** A proxy whose process exits: named in the log; its command names the flag to remove, if known. */
type Owner = Pick<ProxySpec, 'id'> & Partial<Pick<ProxySpec, 'type' | 'command'>>;

/** Kills what escaped and logs it at error level; returns the note its machine hears. */
function stopEscaped(owner: Owner, escaped: number[], code: number | null, logger: Pick<Logger, 'error'>): string {
  escaped.forEach(killWithGroup);
  const note = escapeNote(owner, escaped);
  // The message is the same every time (log aggregation groups by it); the pids are fields.
  logger.error(
    { proxy_id: owner.id, proxy_type: owner.type, escaped_pids: escaped, exit_code: code, escaped: note },
    'proxy escaped its process group',
  );
  return note;
}

/** The spawn token a process carries in its environment (as it was exec'd), if any. */
export function tokenOf(pid: number): string | undefined {
  try {
    return tokenIn(readFileSync(`/proc/${pid}/environ`, 'utf8'));
  } catch {
    return undefined; // gone, or not ours to read
  }
}

/** The token and start of a live process of an earlier run, read from /proc; undefined when it has none. */
function searchOf(pid: number): { token: string; leader: Search } | undefined {
  const fields = statFields(pid);
  const token = fields && !isDeadState(fields[STATE]) ? tokenOf(pid) : undefined;
  return token === undefined ? undefined : { token, leader: { leader: pid, startedAt: Number(fields![START_TIME]) } };
}

/**
 * The driver, with every exit checked for escaped copies of the proxy, of the processes it starts
 * and of those it adopts from an earlier run alike. At shutdown the scan of the last exits runs
 * before stopAll resolves: the daemon exits next, and a copy that escaped from a proxy it stopped
 * would be left running for good.
 */
export function watchForEscapes<D extends Pick<Driver, 'start'> & Partial<Pick<Driver, 'stopAll' | 'adopt'>>>(
  driver: D,
  logger: Pick<Logger, 'error'>,
): D {
  const { stopAll, adopt } = driver;
  return {
    ...driver,
    ...(adopt && {
      adopt: (pid: number, events: Parameters<Driver['adopt']>[1], owner: Owner) => {
        const search = searchOf(pid);
        if (search === undefined) return adopt(pid, events, owner);
        liveLeaders.add(pid);
        return adopt(
          pid,
          {
            ...events,
            // An adopted process's exit status is not ours to learn: reported at once, as a crash is.
            onExit: (code, signal, leftInGroup) => {
              liveLeaders.delete(pid);
              events.onExit(code, signal, leftInGroup);
              scanSoon(search.token, search.leader, (escaped) => escaped.length > 0 && stopEscaped(owner, escaped, code, logger));
            },
          },
          owner,
        );
      },
    }),
    ...(stopAll && {
      stopAll: async (handles: Parameters<Driver['stopAll']>[0], timeoutMs: number) => {
        await stopAll(handles, timeoutMs);
        scanWaiting();
      },
    }),
    start(spec, events) {
      const token = spec.env[SPAWN_TOKEN_ENV];
      if (token === undefined) return driver.start(spec, events);
      let leader: Search | undefined;
      // Taken before the spawn, not read from the new process's /proc/<pid>/stat: that read waits on
      // the process while it loads (2 ms a spawn in a storm, on the path of every exit behind it).
      const startedAt = ticksSinceBoot() - 1;
      return driver.start(spec, {
        ...events,
        onSpawn: (pid) => {
          leader = { leader: pid, startedAt };
          liveLeaders.add(pid);
          events.onSpawn(pid);
        },
        onExit: (code, signal, leftInGroup) => {
          if (leader === undefined) return events.onExit(code, signal, leftInGroup);
          liveLeaders.delete(leader.leader);
          const stop = (escaped: number[]) => stopEscaped(spec, escaped, code, logger);
          // A daemonizing leader exits 0 once its copy is detached: the exit waits for the scan, so
          // that it names what escaped. Any other exit is a crash, reported at once (its restart
          // must not wait on a pass over /proc); whatever it left outside its group is stopped after.
          if (code !== 0) {
            events.onExit(code, signal, leftInGroup);
            return scanSoon(token, leader, (escaped) => escaped.length > 0 && stop(escaped));
          }
          scanSoon(token, leader, (escaped) => {
            // Caught before its copy left the group (a daemonizer's fork, then setsid): the same advice.
            const inGroup = leftInGroup && `${leftInGroup}${foregroundHint(spec)}`;
            const notes = [inGroup, escaped.length > 0 ? stop(escaped) : undefined].filter((note) => note !== undefined);
            events.onExit(code, signal, notes.length ? notes.join('; ') : undefined);
          });
        },
      });
    },
  };
}
