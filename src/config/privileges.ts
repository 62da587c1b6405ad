// Per-proxy `user`, `group`, `capabilities` and `limits` -> Privileges, checked against what this
// daemon can grant, so that a config it cannot honour is refused at load (exit 2) instead of failing
// at every spawn: only root can start a proxy as another user or group, and a daemon that is not root
// can pass on a capability only if it holds it itself (systemd's AmbientCapabilities=), and no daemon
// can raise a limit above its own hard limit without CAP_SYS_RESOURCE (containers often drop it).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Limits, Privileges, RunAs } from '../proxy-spec.ts';
import type { ConfigIssue } from './errors.ts';
import type { Capability, ProxyEntry } from './proxy-schema.ts';
import { sizeBytes } from './size.ts';

/** Typed proxies run as this system user when it exists and the daemon is root. */
export const SERVICE_USER = 'proxy-monitor';

/** Bit numbers in the kernel's capability masks (linux/capability.h). */
const CAP_BITS: Record<Capability, bigint> = { net_bind_service: 10n };
const CAP_SYS_RESOURCE = 24n;

type LimitName = 'nofile' | 'nproc' | 'core' | 'memlock';
/** The rows of /proc/self/limits for each limit. */
const LIMIT_ROWS: Record<LimitName, string> = {
  nofile: 'Max open files',
  nproc: 'Max processes',
  core: 'Max core file size',
  memlock: 'Max locked memory',
};

interface UserEntry {
  name: string;
  uid: number;
  gid: number;
}
interface GroupEntry {
  name: string;
  gid: number;
}

/** What the daemon is and can do, and the account databases (NSS, through getent). */
export interface Host {
  uid: number;
  gid: number;
  /** The daemon's permitted capabilities (CapPrm of /proc/self/status). */
  permitted: bigint;
  /** The daemon's own hard limits (Infinity: unlimited); a child cannot get more without CAP_SYS_RESOURCE. */
  hardLimits: Partial<Record<LimitName, number>>;
  user(key: string | number): UserEntry | undefined;
  group(key: string | number): GroupEntry | undefined;
}

function getent(db: 'passwd' | 'group', key: string | number): string[] | undefined {
  try {
    const line = execFileSync('getent', [db, String(key)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
    return line.split('\n')[0].split(':');
  } catch {
    return undefined; // exit 2: no such entry
  }
}

function permittedCapabilities(): bigint {
  try {
    const hex = /^CapPrm:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return hex === undefined ? 0n : BigInt(`0x${hex}`);
  } catch {
    return 0n;
  }
}

function hardLimits(): Partial<Record<LimitName, number>> {
  let text = '';
  try {
    text = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return {};
  }
  const out: Partial<Record<LimitName, number>> = {};
  for (const [name, row] of Object.entries(LIMIT_ROWS) as [LimitName, string][]) {
    const hard = new RegExp(`^${row}\\s+\\S+\\s+(\\S+)`, 'm').exec(text)?.[1];
    if (hard !== undefined) out[name] = hard === 'unlimited' ? Infinity : Number(hard);
  }
  return out;
}

/** The real host; lookups are cached for the life of the object (one config load). */
export function realHost(): Host {
  const users = new Map<string, UserEntry | undefined>();
  const groups = new Map<string, GroupEntry | undefined>();
  return {
    uid: process.getuid?.() ?? -1,
    gid: process.getgid?.() ?? -1,
    permitted: permittedCapabilities(),
    hardLimits: hardLimits(),
    user(key) {
      const k = String(key);
      if (!users.has(k)) {
        const f = getent('passwd', k);
        users.set(k, f && { name: f[0], uid: Number(f[2]), gid: Number(f[3]) });
      }
      return users.get(k);
    },
    group(key) {
      const k = String(key);
      if (!groups.has(k)) {
        const f = getent('group', k);
        groups.set(k, f && { name: f[0], gid: Number(f[2]) });
      }
      return groups.get(k);
    },
  };
}

export interface ResolvedPrivileges {
  privileges: Privileges;
  /** Problems, with keys relative to the entry ("user", "capabilities"). */
  issues: ConfigIssue[];
}

type Numeric = number | 'unlimited';
const bytesOrUnlimited = (size: string | number | undefined): Numeric | undefined =>
  size === undefined || size === 'unlimited' ? size : sizeBytes(size);

function runAsOf(e: ProxyEntry, host: Host, typed: boolean, issues: ConfigIssue[]): RunAs | undefined {
  const root = host.uid === 0;
  const wanted = e.user ?? (typed && root && host.user(SERVICE_USER) ? SERVICE_USER : undefined);
  if (wanted === undefined && e.group === undefined) return undefined;

  let uid = host.uid;
  let gid = host.gid;
  let user: string | null = null;
  if (wanted !== undefined) {
    const entry = host.user(wanted);
    if (entry) ({ uid, gid, name: user } = entry);
    else if (typeof wanted === 'number' && e.group !== undefined) uid = wanted;
    else {
      const hint =
        typeof wanted === 'number' ? ': a numeric id without a passwd entry needs a group too' : ' (create it, or give a numeric id)';
      issues.push({ path: 'user', message: `expected an existing user, no user ${JSON.stringify(wanted)} on this host${hint}` });
      return undefined;
    }
  }
  let group: string | null = user === null ? null : (host.group(gid)?.name ?? null);
  if (e.group !== undefined) {
    const entry = host.group(e.group);
    if (entry) ({ gid, name: group } = entry);
    else if (typeof e.group === 'number') ({ gid, group } = { gid: e.group, group: null });
    else {
      issues.push({ path: 'group', message: `expected an existing group, no group ${JSON.stringify(e.group)} on this host` });
      return undefined;
    }
  }
  if (!root && uid !== host.uid) {
    issues.push({
      path: 'user',
      message: `expected the daemon's own user (uid ${host.uid}): only a daemon running as root can start a proxy as another user (${JSON.stringify(wanted)} is uid ${uid})`,
    });
  }
  if (!root && gid !== host.gid) {
    issues.push({
      path: e.group === undefined ? 'user' : 'group',
      message: `expected the daemon's own group (gid ${host.gid}): only a daemon running as root can start a proxy with group id ${gid}`,
    });
  }
  // Running as the daemon's own account changes nothing: no wrapper needed.
  if (!root && uid === host.uid && gid === host.gid) return undefined;
  return { uid, gid, user, group };
}

export function resolvePrivileges(e: ProxyEntry, host: Host, typed: boolean): ResolvedPrivileges {
  const issues: ConfigIssue[] = [];
  const runAs = runAsOf(e, host, typed, issues);
  if (host.uid !== 0) {
    const missing = e.capabilities.filter((cap) => ((host.permitted >> CAP_BITS[cap]) & 1n) === 0n);
    if (missing.length) {
      issues.push({
        path: 'capabilities',
        message: `expected capabilities the daemon holds: it is not root and lacks ${missing.map((c) => `CAP_${c.toUpperCase()}`).join(', ')} (systemd: AmbientCapabilities=, see deploy/proxy-monitor.service)`,
      });
    }
  }
  const l = e.limits ?? {};
  const limits = Object.fromEntries(
    Object.entries({ nofile: l.nofile, nproc: l.nproc, core: bytesOrUnlimited(l.core), memlock: bytesOrUnlimited(l.memlock) }).filter(
      ([, v]) => v !== undefined,
    ),
  ) as Partial<Record<LimitName, Numeric>>;
  if (((host.permitted >> CAP_SYS_RESOURCE) & 1n) === 0n) {
    for (const [name, value] of Object.entries(limits) as [LimitName, Numeric][]) {
      const hard = host.hardLimits[name] ?? Infinity;
      if ((value === 'unlimited' ? Infinity : value) > hard) {
        issues.push({
          path: `limits.${name}`,
          message: `expected at most ${hard}, the daemon's own hard limit: raising it needs CAP_SYS_RESOURCE, which this daemon does not hold; got ${value === 'unlimited' ? '"unlimited"' : value}`,
        });
      }
    }
  }
  return { privileges: { ...(runAs && { runAs }), capabilities: [...new Set(e.capabilities)], limits: limits as Limits }, issues };
}
