// What runs between the fork and the proxy's own exec: util-linux's prlimit sets the limits, then
// setpriv switches to the proxy's account and leaves it only the capabilities it was given. Both are
// exec'd in a chain in front of the command (prlimit ... -- setpriv ... -- command args), so the
// proxy is set up the same way whatever spawns it, and nothing native is needed.
import { readFileSync } from 'node:fs';
import type { Limits, Privileges } from '../proxy-spec.ts';

export const PRLIMIT = '/usr/bin/prlimit';
export const SETPRIV = '/usr/bin/setpriv';

/** What the daemon itself is: root, and whether it has ambient capabilities its children would inherit. */
export interface DaemonPowers {
  root: boolean;
  ambient: boolean;
}

export function daemonPowers(): DaemonPowers {
  let ambient = false;
  try {
    ambient = /^CapAmb:\s*0*[1-9a-f]/m.test(readFileSync('/proc/self/status', 'utf8'));
  } catch {
    // no /proc: nothing to clear
  }
  return { root: process.getuid?.() === 0, ambient };
}

function prlimitArgs(limits: Limits): string[] {
  const set = Object.entries(limits).filter(([, v]) => v !== undefined);
  if (set.length === 0) return [];
  return [PRLIMIT, ...set.map(([name, value]) => `--${name}=${value}:${value}`), '--'];
}

function setprivArgs(p: Privileges, daemon: DaemonPowers): string[] {
  const args: string[] = [];
  if (p.runAs) {
    const { uid, gid, user } = p.runAs;
    // initgroups(3) from the user's name: the user's supplementary groups as they are at this spawn.
    args.push(`--reuid=${uid}`, `--regid=${gid}`, user === null ? '--clear-groups' : '--init-groups');
  }
  const caps = p.capabilities.map((c) => `,+${c}`).join('');
  if (p.capabilities.length) {
    args.push(`--inh-caps=-all${caps}`, `--ambient-caps=-all${caps}`);
    // Root may also shrink the bounding set: a proxy left as uid 0 then holds these capabilities only.
    if (daemon.root) args.push(`--bounding-set=-all${caps}`);
  } else if (!daemon.root && daemon.ambient) {
    // A daemon given ambient capabilities (systemd AmbientCapabilities=) would pass them to every child.
    args.push('--inh-caps=-all', '--ambient-caps=-all');
  }
  return args.length ? [SETPRIV, ...args, '--'] : [];
}

/** The argv to put in front of the proxy's command; empty when the proxy runs as the daemon does. */
export function wrapperArgv(p: Privileges | undefined, daemon: DaemonPowers): string[] {
  const privileges = p ?? { capabilities: [], limits: {} };
  return [...prlimitArgs(privileges.limits), ...setprivArgs(privileges, daemon)];
}
