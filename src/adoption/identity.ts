// Is a process recorded by an earlier run of the daemon still ours? Only /proc can tell: the same pid
// with the same start time is the same process (a reused pid has a later start time), within one
// boot. Recorded since this boot began, that is proof enough: a server that rewrites its process
// title (setproctitle, `$0 = ...`) overwrites both its command line and its environment. Recorded
// before (both may repeat after a reboot), it must show one more proof: the command line we
// launched, or the random token we put in its environment. The token is what proves a wrapper that
// exec'd its server, a script run by its interpreter (`/bin/sh script`) or a shim, whose command line
// is not ours. A spawn whose pid never got recorded is found by that token too.
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { launchedCommandLines } from '../process/launch.ts';
import { tokenOf } from '../process/escape.ts';
import { bootedAt, isDeadState, PARENT, PROCESS_GROUP, START_TIME, STATE, statFields } from '../process/proc.ts';
import type { ProcessRow } from '../store/types.ts';

export type Verdict = { kind: 'ours' } | { kind: 'gone' } | { kind: 'unproven'; why: string };

/** The process's command line as it runs (empty when it cannot be read). */
export function commandLineOf(pid: number): string[] {
  return readCommandLine(pid) ?? [];
}

function readCommandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  } catch {
    return undefined;
  }
}

export function checkProcess(row: ProcessRow): Verdict {
  const fields = statFields(row.pid);
  // A different start time: ours exited and the pid went to another process.
  if (!fields || isDeadState(fields[STATE]) || Number(fields[START_TIME]) !== row.startTime) return { kind: 'gone' };
  const boot = bootedAt();
  if (boot !== undefined && row.at >= boot) return { kind: 'ours' };
  const cmdline = JSON.stringify(readCommandLine(row.pid));
  const expected = launchedCommandLines(JSON.parse(row.command) as string[]).map((argv) => JSON.stringify(argv));
  if (expected.includes(cmdline) || tokenOf(row.pid) === row.token) return { kind: 'ours' };
  // The command line itself is not quoted: it may carry a password.
  return {
    kind: 'unproven',
    why: 'same pid and start time, recorded before this boot, but neither the command line we launched nor our token in its environment',
  };
}

/**
 * A spawn token says whose it is: `<state key>:<fingerprint, 16 hex>:<uuid>:<proxy id>`, the state
 * key naming the state_dir of the daemon that started it. A process the state never recorded (the
 * disk refused the write, state.db was reset or lost its last writes) is still found as ours, with
 * its proxy and what it was started from.
 */
export function stateKey(stateDir: string): string {
  return createHash('sha256').update(resolve(stateDir)).digest('hex').slice(0, 12);
}

export function spawnToken(stateDir: string, proxyId: string, fingerprint: string): string {
  return `${stateKey(stateDir)}:${fingerprint.slice(0, 16)}:${randomUUID()}:${proxyId}`;
}

/** The proxy and fingerprint (its first 16 hex) a token of this state_dir names; undefined for another's, or an older token (a bare uuid). */
export function describeToken(token: string, stateDir: string): { proxyId: string; fingerprint: string } | undefined {
  const [key, fingerprint, uuid, ...id] = token.split(':');
  if (key !== stateKey(stateDir) || uuid === undefined || id.length === 0) return undefined;
  return { proxyId: id.join(':'), fingerprint };
}

/**
 * The live process-group leader (each proxy leads its own group) carrying each token `wanted` takes:
 * the proxy's own process. What it started with `setsid` leads a group too and inherits the token;
 * such a child has a holder of the token for its parent, and is never older than it, so the holder
 * kept is the oldest whose parent holds no such token (adopting the child would leave the proxy
 * running beside its next start, out of every stop's reach).
 */
export function findSpawnTokens(wanted: (token: string) => boolean): Map<string, { pid: number; startTime: number }> {
  const holders = new Map<string, { pid: number; startTime: number; parent: number }[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const fields = statFields(pid);
    if (!fields || isDeadState(fields[STATE]) || Number(fields[PROCESS_GROUP]) !== pid) continue;
    const token = tokenOf(pid);
    if (token === undefined || !wanted(token)) continue;
    const holder = { pid, startTime: Number(fields[START_TIME]), parent: Number(fields[PARENT]) };
    holders.set(token, [...(holders.get(token) ?? []), holder]);
  }
  const found = new Map<string, { pid: number; startTime: number }>();
  for (const [token, all] of holders) {
    const pids = new Set(all.map((h) => h.pid));
    const roots = all.filter((h) => !pids.has(h.parent));
    const [first] = (roots.length ? roots : all).sort((a, b) => a.startTime - b.startTime || a.pid - b.pid);
    found.set(token, { pid: first.pid, startTime: first.startTime });
  }
  return found;
}

/**
 * What recorded processes that ended while the daemon was down left running, by token: the other
 * members of each one's process group (a pre-forking server's workers, which keep its port), and
 * copies that escaped the group, found by the token they inherited. Only a group whose leader's pid
 * is free again is taken: Linux hands out no pid still in use as a process group's id, so such a
 * group is the one the leader led. Rows must be from this boot (their leaders ended while it ran).
 */
export function findOrphans(ended: ProcessRow[]): Map<string, number[]> {
  const found = new Map<string, number[]>();
  if (ended.length === 0) return found;
  const byGroup = new Map(ended.filter((row) => statFields(row.pid) === undefined).map((row) => [row.pid, row.token]));
  const tokens = new Set(ended.map((row) => row.token));
  // Nothing a proxy left can be older than the proxy (/proc start times, in ticks since boot).
  const oldest = Math.min(...ended.map((row) => row.startTime));
  const add = (token: string, pid: number) => found.set(token, [...(found.get(token) ?? []), pid]);
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const fields = statFields(pid);
    if (!fields || isDeadState(fields[STATE]) || Number(fields[START_TIME]) < oldest) continue;
    const groupToken = byGroup.get(Number(fields[PROCESS_GROUP]));
    if (groupToken !== undefined) {
      add(groupToken, pid);
      continue;
    }
    const token = tokenOf(pid);
    if (token !== undefined && tokens.has(token)) add(token, pid);
  }
  return found;
}
