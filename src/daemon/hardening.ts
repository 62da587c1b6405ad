// Setup mistakes that expose secrets or give the proxies more power than they need, told once at
// start: the daemon still runs (refusing would take every proxy down over a chmod), but says what to fix.
import { statSync } from 'node:fs';
import type { LoadedConfig } from '../config/load.ts';
import { SERVICE_USER } from '../config/privileges.ts';
import { openFilesLimit } from '../process/proc.ts';

export interface HardeningWarning {
  message: string;
  fields: Record<string, unknown>;
}

export interface Environment {
  /** Permission bits of a file, undefined when it cannot be read. */
  modeOf(file: string): number | undefined;
  uid: number;
  /** The soft limit on open files (RLIMIT_NOFILE), which the spawn helper inherits. */
  openFiles: number | undefined;
}

/**
 * Open files the daemon and its spawn helper need: two pipes per proxy (stdout, stderr), twice over
 * while a restarted process's old pipes drain, health-check sockets, the API, SQLite, the logs.
 */
export const openFilesNeeded = (proxies: number) => 4 * proxies + 128;

const realEnvironment = (): Environment => ({
  modeOf: (file) => {
    try {
      return statSync(file).mode & 0o777;
    } catch {
      return undefined;
    }
  },
  uid: process.getuid?.() ?? -1,
  openFiles: openFilesLimit(),
});

export function hardeningWarnings(loaded: LoadedConfig, env: Environment = realEnvironment()): HardeningWarning[] {
  const warnings: HardeningWarning[] = [];
  const holdsSecrets = loaded.config.api.token !== undefined || loaded.proxies.some((p) => p.secrets.length > 0);
  const mode = env.modeOf(loaded.file);
  if (holdsSecrets && mode !== undefined && (mode & 0o044) !== 0) {
    warnings.push({
      message: 'config file holds secrets and is readable by other users',
      fields: {
        config_file: loaded.file,
        mode: mode.toString(8).padStart(4, '0'),
        readable_by: (mode & 0o040 ? ['group'] : []).concat(mode & 0o004 ? ['others'] : []),
        fix: `chmod 600 ${loaded.file}`,
        hardening: true,
      },
    });
  }
  // Root is what lets the daemon start each proxy as its own user; a proxy without one runs as root.
  const asRoot = loaded.proxies.filter((p) => !p.privileges?.runAs).map((p) => p.id);
  if (env.uid === 0 && asRoot.length > 0) {
    warnings.push({
      message: 'running as root: proxies without a user run as root too',
      fields: {
        proxies: asRoot,
        fix: `give each a user (typed proxies default to the ${SERVICE_USER} system user when it exists: useradd --system --no-create-home --shell /usr/sbin/nologin ${SERVICE_USER}), or run the daemon as a dedicated user (see deploy/proxy-monitor.service)`,
        hardening: true,
      },
    });
  }
  // Restarts that fail for it (EMFILE) are not held against the proxies, but they still fail.
  const needed = openFilesNeeded(loaded.proxies.length);
  if (env.openFiles !== undefined && env.openFiles < needed) {
    warnings.push({
      message: `open files limit ${env.openFiles} is too low for ${loaded.proxies.length} proxies: starts will fail with EMFILE`,
      fields: {
        open_files_limit: env.openFiles,
        needed,
        fix: `raise it to at least ${needed} (LimitNOFILE= in the systemd unit, ulimit -n)`,
      },
    });
  }
  return warnings;
}
