// deploy/proxy-monitor.service: accepted by systemd without a single warning, and holding the
// settings the README promises (dedicated user, read-only system, stop through the daemon).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { monitorSettingsSchema } from '../../src/config/schema.ts';
import { describeWith } from '../support/binaries.ts';
import { CLI, NODE_FLAGS, ROOT, writeConfig } from '../support/daemon.ts';

const UNIT = join(ROOT, 'deploy/proxy-monitor.service');
const text = readFileSync(UNIT, 'utf8');

/** systemd-analyze verify exits 0 even on unknown keys or bad values: its output is the verdict. */
function verify(file: string): string {
  const r = spawnSync('/usr/bin/systemd-analyze', ['verify', file], { encoding: 'utf8', timeout: 60_000 });
  return `${r.stdout}${r.stderr}${r.status === 0 ? '' : `exit ${r.status}`}`.trim();
}

/** Every value of `key` in the [Service] section. */
const values = (key: string) => [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1].trim());

it('runs the daemon with the Node flags of the bin (its shebang), as `npm start` does', () => {
  expect(NODE_FLAGS).toContain('--lite-mode');
  const node = `node ${NODE_FLAGS.join(' ')} `;
  expect(values('ExecStart')).toEqual([
    `/usr/bin/${node}/opt/proxy-monitor/bin/proxy-monitor.js run --config /etc/proxy-monitor/config.yaml`,
  ]);
  // A reload through the API: `systemctl reload` fails, saying why, when the file is refused.
  const [reload] = values('ExecReload');
  expect(reload).toBe('/usr/bin/node /opt/proxy-monitor/bin/proxy-monitor.js --config /etc/proxy-monitor/config.yaml --timeout 60 reload');
  // Those words are a command the CLI takes (here with a file of its own, and no daemon to answer).
  const { configFile } = writeConfig({ api: { listen: '127.0.0.1:1' } });
  const words = reload.split(' ').slice(2);
  const r = spawnSync(process.execPath, [CLI, ...words.map((w) => (w === '/etc/proxy-monitor/config.yaml' ? configFile : w))], {
    encoding: 'utf8',
  });
  expect(r.stderr).toMatch(/^proxy-monitor: cannot reach the proxy-monitor daemon at http:\/\/127\.0\.0\.1:1 /);
  expect(r.status).toBe(1);
  const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  expect(scripts.start).toBe(`${node}bin/proxy-monitor.js run --config config/default.yaml`);
});

describeWith(['/usr/bin/systemd-analyze'])('the systemd unit', () => {
  it('passes systemd-analyze verify with no output at all', () => {
    expect(verify(UNIT)).toBe('');
  });

  it('would be caught with a misspelt key or a bad value', () => {
    const copy = join(mkdtempSync(join(tmpdir(), 'pm-unit-')), 'proxy-monitor.service');
    writeFileSync(copy, text.replace(/^KillMode=mixed$/m, 'KilMode=mixed').replace(/^ProtectSystem=strict$/m, 'ProtectSystem=stricter'));
    expect(verify(copy)).toMatch(/Unknown key 'KilMode'[\s\S]*protect system value/);
  });

  it('runs as a dedicated user on a read-only system, writing only its state and log directories', () => {
    expect(values('User')).toEqual(['proxy-monitor']);
    expect(values('ProtectSystem')).toEqual(['strict']);
    expect(values('NoNewPrivileges')).toEqual(['true']);
    expect(values('ReadWritePaths')).toEqual(['/var/lib/proxy-monitor /var/log/proxy-monitor']);
    expect(values('StateDirectory')).toEqual(['proxy-monitor']);
  });

  it('is restarted when it dies, and stops its proxies itself before systemd kills what is left', () => {
    expect(values('Restart')).toEqual(['always']);
    expect(values('KillMode')).toEqual(['mixed']);
    const defaultStopTimeout = monitorSettingsSchema.parse({}).stop_timeout;
    const unitStop = Number.parseInt(values('TimeoutStopSec')[0], 10);
    expect(unitStop).toBeGreaterThan(defaultStopTimeout);
    // With room for the README's own examples (stop_timeout: 30) and the daemon's last writes after them.
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const examples = [...readme.matchAll(/stop_timeout: (\d+)/g)].map((m) => Number(m[1]));
    expect(Math.max(...examples)).toBe(30);
    expect(unitStop).toBeGreaterThanOrEqual(Math.max(...examples) + 5);
  });
});
