// Tests that need a Debian binary: skipped (with the package to install) on a machine without it,
// but a failure in CI (CI=true), where .ci/run installs every package so that every test runs.
import { existsSync } from 'node:fs';
import { describe } from 'vitest';

const PACKAGES: Record<string, string> = {
  '/usr/bin/ss-server': 'shadowsocks-libev',
  '/usr/bin/ss-local': 'shadowsocks-libev',
  '/usr/bin/trojan': 'trojan',
  '/usr/bin/v2ray': 'v2ray',
  '/usr/bin/openssl': 'openssl',
  '/usr/bin/curl': 'curl',
  '/usr/bin/promtool': 'prometheus',
  '/usr/bin/prometheus': 'prometheus',
  '/usr/bin/prometheus-alertmanager': 'prometheus-alertmanager',
  '/usr/bin/amtool': 'prometheus-alertmanager',
  '/usr/bin/chromium': 'chromium',
  '/usr/bin/systemd-analyze': 'systemd',
};

/** `describe` when every binary is there; otherwise a skipped suite naming what to install. */
export function describeWith(binaries: string[]) {
  const missing = binaries.filter((b) => !existsSync(b));
  if (missing.length === 0) return describe;
  const install = [...new Set(missing.map((b) => PACKAGES[b] ?? b))].join(' ');
  if (process.env.CI === 'true') {
    throw new Error(`CI must run every test, but ${missing.join(', ')} is missing: apt-get install -y ${install}`);
  }
  return ((name: string, fn: () => void) => describe.skip(`${name} [skipped: apt-get install -y ${install}]`, fn)) as typeof describe;
}
