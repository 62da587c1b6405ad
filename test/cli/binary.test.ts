// The installed CLI as an operator runs it, against one real daemon on a non-default port with a
// token: it finds the daemon from its config file (--config, $PROXY_MONITOR_CONFIG,
// ./config/default.yaml), flags and variables still win, it is on PATH the ways the README says,
// and a reader that goes away (`| head -1`) ends it quietly.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { findDaemon } from '../../src/cli/discovery.ts';
import { CLI, freePorts, ROOT, startDaemon, writeConfig, type TestDaemon } from '../support/daemon.ts';

const TOKEN = 'discovered-token-5d1';
// Generous: every run of the binary is a fresh Node process, slow on a loaded 2-core machine.
const SLOW = 120_000;
const NO_DAEMON_VARS = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PROXY_MONITOR_')));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI binary with `args`, in `cwd`, none of the caller's PROXY_MONITOR_* variables unless given. */
function binary(
  args: string[],
  { cwd, env = {}, command = [process.execPath, CLI] }: { cwd: string; env?: Record<string, string>; command?: string[] },
): Promise<Run> {
  return new Promise((done) => {
    execFile(command[0], [...command.slice(1), ...args], { cwd, env: { ...NO_DAEMON_VARS, ...env } }, (error, stdout, stderr) => {
      done({ code: error ? Number((error as { code?: number }).code) : 0, stdout, stderr });
    });
  });
}

describe('the proxy-monitor binary against a daemon on a non-default port with a token', () => {
  let daemon: TestDaemon;
  let port: number;
  let configFile: string;
  let cwd: string;

  beforeAll(async () => {
    [port] = await freePorts(1);
    ({ configFile } = writeConfig({
      proxy: {
        monitor: { enable: true, check_interval: 1 },
        proxies: [{ id: 'sleeper', type: 'exec', command: '/bin/sleep', args: ['3600'], health: { process: true } }],
      },
      api: { listen: `127.0.0.1:${port}`, token: TOKEN },
    }));
    daemon = startDaemon(configFile, join(configFile, '..'));
    await daemon.waitFor((l) => l.message === 'api listening', 60_000);
    cwd = mkdtempSync(join(tmpdir(), 'pm-cli-cwd-'));
  }, SLOW);

  afterAll(async () => {
    await daemon?.stop();
  });

  it(
    '--config FILE and $PROXY_MONITOR_CONFIG: the URL and the token come from the file',
    async () => {
      const [status, stopped] = await Promise.all([
        binary(['status', '--config', configFile], { cwd }),
        binary(['stop', 'sleeper'], { cwd, env: { PROXY_MONITOR_CONFIG: configFile } }),
      ]);
      expect(status, status.stderr).toMatchObject({ code: 0, stderr: '' });
      expect(status.stdout).toMatch(/^monitor: watching, checks every 1s; 1 proxy/);
      expect(stopped, stopped.stderr).toMatchObject({ code: 0, stderr: '' });
      expect(stopped.stdout).toMatch(/^sleeper: stop(ped| requested) \(it stays down until started\); now stopped\./);
      const started = await binary(['start', 'sleeper', '-c', configFile], { cwd });
      expect(started, started.stderr).toMatchObject({ code: 0 });
    },
    SLOW,
  );

  it(
    './config/default.yaml in the working directory; a wildcard listen address is reached on loopback',
    async () => {
      if (existsSync('/etc/proxy-monitor/config.yaml')) return; // that one is tried first, and would win
      const here = mkdtempSync(join(tmpdir(), 'pm-cli-here-'));
      mkdirSync(join(here, 'config'));
      writeFileSync(join(here, 'config/default.yaml'), stringify({ api: { listen: `0.0.0.0:${port}`, token: TOKEN } }));
      const result = await binary(['monitor', 'start'], { cwd: here });
      expect(result, result.stderr).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(/^monitor watching/);
    },
    SLOW,
  );

  it(
    '--url, --token and their variables win over the file',
    async () => {
      const [closed] = await freePorts(1);
      const [url, token, envToken] = await Promise.all([
        binary(['status', '--config', configFile, '--url', `http://127.0.0.1:${closed}`], { cwd }),
        binary(['disable', 'sleeper', '--config', configFile, '--token', 'wrong'], { cwd }),
        binary(['disable', 'sleeper', '--config', configFile], { cwd, env: { PROXY_MONITOR_TOKEN: 'wrong' } }),
      ]);
      expect(url.code).toBe(1);
      expect(url.stderr).toMatch(`cannot reach the proxy-monitor daemon at http://127.0.0.1:${closed}: connection refused`);
      // The token given (by the flag, or the variable over the file's) is the one the daemon refused.
      for (const refused of [token, envToken]) {
        expect(refused.code).toBe(1);
        expect(refused.stderr).toBe('proxy-monitor: the token sent is not the api.token: this request changes state and is refused\n');
      }
    },
    SLOW,
  );

  it(
    'a file that cannot say where the daemon is: exit 2 and one line naming the file and the key',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pm-cli-bad-'));
      const portZero = join(dir, 'zero.yaml');
      writeFileSync(portZero, 'api:\n  listen: 127.0.0.1:0\n');
      const [zero, missing] = await Promise.all([
        binary(['status', '--config', portZero], { cwd }),
        binary(['status', '--config', join(dir, 'nope.yaml')], { cwd }),
      ]);
      expect(zero).toMatchObject({ code: 2, stdout: '' });
      expect(zero.stderr).toBe(
        `proxy-monitor status: ${portZero}: api.listen is "127.0.0.1:0": port 0 lets the daemon take any free port, which the file cannot tell; ` +
          'pass --url with the url of the daemon\'s "api listening" log line\n',
      );
      expect(missing).toMatchObject({
        code: 2,
        stderr: `proxy-monitor status: cannot read the config file ${join(dir, 'nope.yaml')}: ENOENT\n`,
      });
    },
    SLOW,
  );

  it(
    'takes -c FILE before the command (as supervisorctl does), --version and --help; an unknown option first is exit 2',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pm-cli-leading-'));
      const file = join(dir, 'c.yaml');
      writeFileSync(file, 'api:\n  listen: 127.0.0.1:0\n');
      const [leading, version, help, bogus] = await Promise.all([
        binary(['-c', file, 'status'], { cwd }),
        binary(['--version'], { cwd }),
        binary(['-h'], { cwd }),
        binary(['--bogus', 'status'], { cwd }),
      ]);
      expect(leading).toMatchObject({ code: 2 });
      expect(leading.stderr).toMatch(`${file}: api.listen is "127.0.0.1:0"`); // the file was read, as after the command
      expect(version).toMatchObject({ code: 0, stdout: expect.stringMatching(/^proxy-monitor \d+\.\d+\.\d+\n$/) });
      expect(help).toMatchObject({ code: 0, stdout: expect.stringMatching(/^usage:/) });
      expect(bogus).toMatchObject({ code: 2, stderr: expect.stringMatching(/^proxy-monitor: unknown option before the command: --bogus/) });
    },
    SLOW,
  );

  it(
    'is on PATH after `npm install -g` (what `npm link` does) and after the systemd install step (a symlink)',
    async () => {
      const prefix = mkdtempSync(join(tmpdir(), 'pm-cli-prefix-'));
      const install = spawnSync(
        'npm',
        ['install', '-g', '--prefix', prefix, '--offline', '--ignore-scripts', '--no-audit', '--no-fund', ROOT],
        { encoding: 'utf8', timeout: 120_000 },
      );
      expect(install.status, install.stderr).toBe(0);
      // deploy: `ln -s /opt/proxy-monitor/bin/proxy-monitor.js /usr/local/bin/proxy-monitor`
      const local = mkdtempSync(join(tmpdir(), 'pm-cli-local-'));
      symlinkSync(CLI, join(local, 'proxy-monitor'));
      for (const bin of [join(prefix, 'bin'), local]) {
        const env = { PATH: `${bin}:${process.env.PATH}` };
        const found = spawnSync('sh', ['-c', 'command -v proxy-monitor'], { env, encoding: 'utf8' });
        expect(found.stdout.trim()).toBe(join(bin, 'proxy-monitor'));
        const result = await binary(['status', '--config', configFile], { cwd, env, command: ['proxy-monitor'] });
        expect(result, result.stderr).toMatchObject({ code: 0, stderr: '' });
        expect(result.stdout).toMatch(/^monitor: /);
      }
    },
    SLOW,
  );

  it(
    '`| head -1` and a reader that is gone at once: exit 0, nothing on stderr, for every kind of command',
    async () => {
      const shell = (pipeline: string) =>
        new Promise<{ code: string; stdout: string; stderr: string }>((done) => {
          // PIPESTATUS[0] is the CLI's own exit code, whatever the reader's.
          const script = `"$NODE" "$CLI" ${pipeline} 2>"$ERR"; echo "exit=\${PIPESTATUS[0]}"; cat "$ERR"`;
          const err = join(cwd, `stderr-${Math.random().toString(36).slice(2)}`);
          execFile(
            'bash',
            ['-c', script],
            { cwd, env: { ...NO_DAEMON_VARS, NODE: process.execPath, CLI, ERR: err, PROXY_MONITOR_CONFIG: configFile } },
            (_e, stdout) => {
              const [out, rest] = stdout.split(/^exit=/m);
              const [code, ...stderr] = rest.split('\n');
              done({ code, stdout: out, stderr: stderr.join('\n').trim() });
            },
          );
        });
      const runs = await Promise.all([
        shell('status | head -1'),
        shell('status | true'),
        shell('why sleeper | true'),
        shell('help | true'),
      ]);
      expect(runs[0].stdout).toMatch(/^monitor: watching[^\n]*\n$/);
      for (const run of runs) expect(run).toMatchObject({ code: '0', stderr: '' });
    },
    SLOW,
  );
});

it('an output that cannot be written (a full disk: /dev/full) is one line on stderr and exit 1, for every kind of command', () => {
  for (const args of [['graph'], ['--help'], ['--version'], ['validate', join(ROOT, 'config/default.yaml')]]) {
    const r = spawnSync(process.execPath, [CLI, ...args], { stdio: ['ignore', openSync('/dev/full', 'w'), 'pipe'], encoding: 'utf8' });
    expect(r.status, args.join(' ')).toBe(1);
    expect(r.stderr, args.join(' ')).toBe('proxy-monitor: cannot write the output: ENOSPC: no space left on device, write\n');
  }
});

describe('findDaemon', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pm-discovery-'));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const find = (flags: Record<string, string>, env: Record<string, string> = {}, defaults: string[] = []) => {
    const warnings: string[] = [];
    return findDaemon({ flags, env, defaults, warn: (t) => warnings.push(t) }).then((target) => ({ ...target, warnings }));
  };

  it('reads api.listen and api.token; IPv6 wildcards become ::1; nothing found is the default', async () => {
    const v6 = file('v6.yaml', 'api: { listen: "[::]:9000", token: t6 }\n');
    expect(await find({ config: v6 })).toMatchObject({ url: 'http://[::1]:9000', token: 't6', listenFrom: `api.listen in ${v6}` });
    const none = file('none.yaml', 'proxy: { monitor: { enable: true } }\n');
    expect(await find({}, { PROXY_MONITOR_CONFIG: none })).toMatchObject({ url: 'http://127.0.0.1:8080', token: undefined });
    expect(await find({}, {}, [join(dir, 'absent.yaml'), v6])).toMatchObject({ url: 'http://[::1]:9000' });
    expect(await find({}, {}, [join(dir, 'absent.yaml')])).toMatchObject({ url: 'http://127.0.0.1:8080', warnings: [] });
  });

  it('--config wins over $PROXY_MONITOR_CONFIG, which wins over the default files', async () => {
    const a = file('a.yaml', 'api: { listen: "127.0.0.1:9001" }\n');
    const b = file('b.yaml', 'api: { listen: "127.0.0.1:9002" }\n');
    expect((await find({ config: a }, { PROXY_MONITOR_CONFIG: b }, [b])).url).toBe('http://127.0.0.1:9001');
    expect((await find({}, { PROXY_MONITOR_CONFIG: a }, [b])).url).toBe('http://127.0.0.1:9001');
    expect((await find({}, { PROXY_MONITOR_URL: 'http://h:1', PROXY_MONITOR_TOKEN: 'x' }, [a])).url).toBe('http://h:1');
    await expect(find({}, { PROXY_MONITOR_URL: 'http://h:1', PROXY_MONITOR_TOKEN: 'a\tb' }, [a])).rejects.toThrow(
      'PROXY_MONITOR_TOKEN: expected visible ASCII characters and spaces, no blank at either end',
    );
    await expect(find({ config: file('t.yaml', 'api: { token: " t " }\n') })).rejects.toThrow(
      /t\.yaml: api\.token: expected visible ASCII/,
    );
  });

  it('refuses bad YAML or a bad api.listen, naming the file and the key; warns on an unreadable default', async () => {
    await expect(find({ config: file('bad.yaml', 'api: [\n') })).rejects.toThrow(/bad\.yaml: not valid YAML/);
    // Mid-edit, broken further down: its api section still finds the daemon (status works meanwhile), said on stderr.
    const editing = file('editing.yaml', 'api: { listen: "127.0.0.1:9003", token: t3 }\nproxy:\n  proxies:\n    - { id: a, args: ["x }\n');
    const found = await find({ config: editing });
    expect(found).toMatchObject({ url: 'http://127.0.0.1:9003', token: 't3' });
    expect(found.warnings).toEqual([
      expect.stringMatching(/editing\.yaml: not valid YAML: .*; its api section, before the error, was still read\n$/),
    ]);
    // Not when the error is inside it (the rest of the file would be its token), nor given twice.
    await expect(
      find({ config: file('quote.yaml', 'api:\n  listen: "127.0.0.1:9003"\n  token: "abc\nproxy:\n  proxies: []\n') }),
    ).rejects.toThrow(/quote\.yaml: not valid YAML/);
    await expect(
      find({ config: file('twice.yaml', 'api: { listen: "127.0.0.1:9003" }\napi: { listen: "127.0.0.1:9004" }\n') }),
    ).rejects.toThrow(/twice\.yaml: not valid YAML/);
    await expect(find({ config: file('token5.yaml', 'api: { listen: "127.0.0.1:9003", token: 5 }\nproxy: [\n') })).rejects.toThrow(
      /api\.token: expected a non-empty string/,
    );
    await expect(find({ config: file('listen.yaml', 'api: { listen: 8080 }\n') })).rejects.toThrow(
      /listen\.yaml: api\.listen: expected "host:port", got 8080/,
    );
    await expect(find({ config: file('host.yaml', 'api: { listen: "nohost" }\n') })).rejects.toThrow(
      /api\.listen: expected "host:port" with an IP address or host name and a port 0-65535, got "nohost"/,
    );
    await expect(find({ config: file('token.yaml', 'api: { token: 5 }\n') })).rejects.toThrow(/api\.token: expected a non-empty string/);
    // Empty or cut off mid-write: it cannot say where the daemon listens (the default may be another's).
    for (const [name, text] of [
      ['empty.yaml', ''],
      ['cut.yaml', 'proxy:\n  proxies:\n'],
      ['cut2.yaml', 'proxy:\n'],
      ['scalar.yaml', 'hello\n'],
    ]) {
      await expect(find({ config: file(name, text) })).rejects.toThrow(`${join(dir, name)} is empty or cut off (mid-edit?)`);
      expect((await find({ config: join(dir, name), url: 'http://127.0.0.1:9005' })).url).toBe('http://127.0.0.1:9005');
    }
    // Every proxy commented out, its api.listen given: it says where.
    const none = file('no-proxies.yaml', 'api: { listen: "127.0.0.1:9006" }\nproxy:\n  proxies:\n');
    expect((await find({ config: none })).url).toBe('http://127.0.0.1:9006');
    const { url, warnings } = await find({}, {}, [dir]); // a directory: EISDIR, like a file we may not read
    expect(url).toBe('http://127.0.0.1:8080');
    expect(warnings).toEqual([
      `proxy-monitor: cannot read ${dir} (EISDIR), so its api.listen and api.token are unknown; using http://127.0.0.1:8080 (pass --config FILE, or --url and --token)\n`,
    ]);
  });

  it('a named config file it cannot read is an error, unless the URL is given too (a 0600 service file, --url and --token)', async () => {
    await expect(find({ config: dir })).rejects.toThrow(/cannot read the config file .*: EISDIR/);
    for (const [flags, env] of [
      [{ config: dir, url: 'http://127.0.0.1:9009' }, {}],
      [{ url: 'http://127.0.0.1:9009' }, { PROXY_MONITOR_CONFIG: dir }],
      [{}, { PROXY_MONITOR_CONFIG: dir, PROXY_MONITOR_URL: 'http://127.0.0.1:9009', PROXY_MONITOR_TOKEN: 't' }],
    ] as const) {
      const { url, warnings } = await find(flags, env);
      expect(url).toBe('http://127.0.0.1:9009');
      expect(warnings).toEqual([
        expect.stringMatching(/cannot read .* \(EISDIR\), so its api\.listen and api\.token are unknown; using http:\/\/127\.0\.0\.1:9009/),
      ]);
    }
  });
});
