// Start-up warnings: a config file with secrets that other users can read, a daemon running as root.
import { chmodSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.ts';
import { hardeningWarnings } from '../../src/daemon/hardening.ts';
import { startDaemon, writeConfig, type TestDaemon } from '../support/daemon.ts';

const WITH_SECRET = 'proxy:\n  proxies:\n    - { id: ss, type: shadowsocks, server_port: 8388, password: pw }\n';
const WITHOUT_SECRET = 'proxy:\n  proxies:\n    - { id: demo, type: exec, command: /bin/true }\n';
const warnings = (text: string, mode: number, uid = 1000) =>
  hardeningWarnings(parseConfigText(text, '/etc/proxy-monitor/config.yaml'), { modeOf: () => mode, uid, openFiles: 1024 }).map(
    (w) => w.message,
  );

describe('hardening warnings', () => {
  it.each(['0644', '0640', '0604'])('warns about secrets in a file with mode %s', (mode) => {
    expect(warnings(WITH_SECRET, parseInt(mode, 8))).toEqual(['config file holds secrets and is readable by other users']);
  });

  it('says who can read it and how to fix it', () => {
    const [w] = hardeningWarnings(parseConfigText(WITH_SECRET, '/etc/pm.yaml'), { modeOf: () => 0o644, uid: 1000, openFiles: 1024 });
    expect(w.fields).toMatchObject({ mode: '0644', readable_by: ['group', 'others'], fix: 'chmod 600 /etc/pm.yaml' });
  });

  it('is quiet for a 0600 file, for a file without secrets, and for write-only extra bits', () => {
    expect(warnings(WITH_SECRET, 0o600)).toEqual([]);
    expect(warnings(WITH_SECRET, 0o622)).toEqual([]);
    expect(warnings(WITHOUT_SECRET, 0o644)).toEqual([]);
  });

  it('counts api.token as a secret', () => {
    expect(warnings('api:\n  token: abcdef\n', 0o644)).toHaveLength(1);
  });

  it('warns when running as root, naming the proxies that run as root with it', () => {
    expect(warnings(WITHOUT_SECRET, 0o600, 0)).toEqual(['running as root: proxies without a user run as root too']);
    const [w] = hardeningWarnings(parseConfigText(WITHOUT_SECRET, '/etc/pm.yaml'), { modeOf: () => 0o600, uid: 0, openFiles: 1024 });
    expect(w.fields).toMatchObject({ proxies: ['demo'] });
  });

  it('warns when the open files limit cannot hold the proxies, with the figure to raise it to', () => {
    const fleet = `proxy:\n  proxies:\n${Array.from({ length: 300 }, (_, i) => `    - { id: p${i}, type: exec, command: /bin/true }\n`).join('')}`;
    const at = (openFiles: number) =>
      hardeningWarnings(parseConfigText(fleet, '/etc/pm.yaml'), { modeOf: () => 0o600, uid: 1000, openFiles });
    const [w] = at(1024);
    expect(w.message).toBe('open files limit 1024 is too low for 300 proxies: starts will fail with EMFILE');
    expect(w.fields).toMatchObject({ needed: 1328, fix: expect.stringMatching(/LimitNOFILE=/) });
    expect(at(1328)).toEqual([]);
    expect(warnings(WITHOUT_SECRET, 0o600)).toEqual([]); // one proxy, 1024
  });
});

describe('the daemon at start', () => {
  let daemon: TestDaemon | undefined;
  afterEach(async () => {
    await daemon?.stop('SIGTERM');
  });

  it.each([
    ['0644', true],
    ['0600', false],
  ])('with a config file holding a password at mode %s: warns %s, without printing the password', async (mode, warns) => {
    const { dir, configFile } = writeConfig({
      proxy: { proxies: [{ id: 'ss', type: 'shadowsocks', server_port: 1, password: 'p4ssw0rd-in-the-file', binary: '/bin/false' }] },
      api: { listen: '127.0.0.1:0' },
    });
    chmodSync(configFile, parseInt(mode, 8));
    daemon = startDaemon(configFile, dir);
    await daemon.waitFor((l) => l.message === 'proxy monitor started');
    const warning = daemon.lines.find((l) => l.message === 'config file holds secrets and is readable by other users');
    expect(warning !== undefined).toBe(warns);
    if (warning) expect(warning).toMatchObject({ level: 'warn', config_file: configFile, mode: '0644', hardening: true });
    expect(JSON.stringify(daemon.lines)).not.toContain('p4ssw0rd-in-the-file');
    // No `enable` in the file: the monitor is off, and the start says what that means.
    await daemon.waitFor(
      (l) => l.level === 'warn' && /^monitoring is off \(proxy\.monitor\.enable: false, also its default when unset\)/.test(l.message),
    );
  });
});
