// Setup mistakes that expose secrets or give the proxies more power than they need, told once at
// start: the daemon still runs (refusing would take every proxy down over a chmod), but says what to fix.
import { statSync } from 'node:fs';
import type { LoadedConfig } from '../config/load.ts';
import { SERVICE_USER } from '../config/privileges.ts';

export interface HardeningWarning {
  message: string;
  fields: Record<string, unknown>;
}

export interface Environment {
  /** Permission bits of a file, undefined when it cannot be read. */
  modeOf(file: string): number | undefined;
  uid: number;
}

const realEnvironment = (): Environment => ({
  modeOf: (file) => {
    try {
      return statSync(file).mode & 0o777;
    } catch {
      return undefined;
    }
  },
  uid: process.getuid?.() ?? -1,
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
  return warnings;
}
