import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.ts';
import { loadConfig, parseConfigText } from '../../src/config/load.ts';
import { FILE, configError, withProxies } from './helpers.ts';

const ISSUE_EXAMPLE = `
proxy:
  monitor: { enable: true, check_interval: 30, restart_cooldown: 60, max_restarts: 10, health_timeout: 5 }
  proxies:
    - id: ss-001
      type: shadowsocks
      command: /usr/bin/ss-server
      args: ["-s", "127.0.0.1", "-p", "8388", "-k", "secret", "-m", "aes-256-gcm"]
      health: { tcp: "127.0.0.1:8388" }
`;

describe('accepted configs', () => {
  it('accepts the issue example as a raw entry, with -k value as a secret', () => {
    const { config, proxies, file } = parseConfigText(ISSUE_EXAMPLE, FILE);
    expect(file).toBe(resolve(FILE));
    expect(config.proxy.monitor.enable).toBe(true);
    expect(proxies).toEqual([
      {
        id: 'ss-001',
        type: 'shadowsocks',
        monitor: true,
        settings: {},
        command: '/usr/bin/ss-server',
        args: ['-s', '127.0.0.1', '-p', '8388', '-k', 'secret', '-m', 'aes-256-gcm'],
        env: {},
        health: { kind: 'tcp', host: '127.0.0.1', port: 8388 },
        secrets: ['secret'],
        files: [],
      },
    ]);
  });

  it("fills in the seed's defaults and the documented ones for the rest", () => {
    const { config, proxies } = parseConfigText('', FILE);
    expect(proxies).toEqual([]);
    expect(config).toEqual({
      proxy: {
        monitor: {
          enable: false,
          check_interval: 30,
          restart_cooldown: 60,
          max_restarts: 10,
          health_timeout: 5,
          check_concurrency: 64,
          failure_threshold: 3,
          start_grace: 5,
          min_uptime: 1,
          stop_timeout: 10,
          stable_uptime: 60,
          restart: 'always',
          backoff: { initial: 1, factor: 2, max: 300 },
        },
        proxies: [],
      },
      api: { listen: '127.0.0.1:8080', allowed_hosts: [] },
      state_dir: './state',
      history: { max_age: 2592000, max_records: 10000 },
      logger: { level: 'info' },
      log: { max_size: '10m', max_files: 5, output_rate: 50 },
    });
  });

  it('treats a section without a value as absent, and refuses a setting without one', () => {
    const { config } = parseConfigText('proxy:\n  monitor:\n    backoff:\n  proxies:\napi:\nlogger:\n', FILE);
    expect(config.proxy.monitor.check_interval).toBe(30);
    expect(config.proxy.proxies).toEqual([]);
    // "token:" left empty (a template's unset variable) would switch the API's token off.
    expect(() => parseConfigText('api:\n  token:\n', FILE)).toThrow(
      `${FILE}: api.token: expected a string, got null (an empty value: remove the key for its default)`,
    );
    // A state_dir with a file in its place could never hold the state (created when missing).
    expect(() => parseConfigText(`state_dir: ${process.execPath}\n`, FILE)).toThrow(
      `${FILE}: state_dir: ${process.execPath} exists and is not a directory; expected a directory (created if missing)`,
    );
    // A token no HTTP client can send (blanks at an end, a control or non-ASCII character) would lock the API.
    expect(parseConfigText('api:\n  token: "two words"\n', FILE).config.api.token).toBe('two words');
    for (const token of ['" tok "', '"tok\\ttok"', '"🔑key"'])
      expect(() => parseConfigText(`api:\n  token: ${token}\n`, FILE)).toThrow(
        `${FILE}: api.token: expected visible ASCII characters and spaces, no blank at either end (it is sent in an HTTP header)`,
      );
    expect(() => parseConfigText('proxy:\n  monitor:\n    check_interval:\n', FILE)).toThrow(
      `${FILE}: proxy.monitor.check_interval: expected a number, got null`,
    );
    // By path: a proxy's own `monitor` is a setting (true or false), not the monitor's section.
    expect(() => parseConfigText(withProxies('{ id: a, type: exec, command: /bin/true, monitor: }'), FILE)).toThrow(
      `${FILE}: proxy.proxies[0].monitor: expected true or false, got null`,
    );
  });

  it('keeps backoff defaults when only one backoff key is given', () => {
    const { config } = parseConfigText('proxy:\n  monitor:\n    backoff: { max: 60 }\n', FILE);
    expect(config.proxy.monitor.backoff).toEqual({ initial: 1, factor: 2, max: 60 });
  });

  it('gives raw entries without health a process check and turns YAML numbers in args into strings', () => {
    const { proxies } = parseConfigText(
      withProxies('{ id: a, type: exec, command: x, args: [-p, 8080], env: { DB_PASSWORD: hunter2, PORT: 1 } }'),
      FILE,
    );
    expect(proxies[0].health).toEqual({ kind: 'process' });
    expect(proxies[0].args).toEqual(['-p', '8080']);
    expect(proxies[0].env).toEqual({ DB_PASSWORD: 'hunter2', PORT: '1' });
    expect(proxies[0].secrets).toEqual(['hunter2']);
  });

  it('maps every health form', () => {
    const { proxies } = parseConfigText(
      withProxies(
        '{ id: a, type: exec, command: x, health: { tcp: "[::1]:80", send: "PING\\n", expect: PONG } }',
        '{ id: b, type: exec, command: x, health: { http: "http://u:s3cret@127.0.0.1:81/health", status: 204 } }',
        '{ id: c, type: exec, command: x, health: { exec: [check, --fast] } }',
        '{ id: d, type: exec, command: x, monitor: false, health: { process: true } }',
      ),
      FILE,
    );
    expect(proxies.map((p) => p.health)).toEqual([
      { kind: 'tcp', host: '::1', port: 80, send: 'PING\n', expect: 'PONG' },
      { kind: 'http', url: 'http://u:s3cret@127.0.0.1:81/health', status: 204 },
      { kind: 'exec', command: ['check', '--fast'] },
      { kind: 'process' },
    ]);
    expect(proxies[1].secrets).toEqual(['s3cret']);
    expect(proxies[3].monitor).toBe(false);
  });
});

describe('shipped config files', () => {
  const dir = resolve(import.meta.dirname, '../../config');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

  it('ships default and the three seed presets', () => {
    expect(files.sort()).toEqual(['default.yaml', 'development.yaml', 'high-availability.yaml', 'production.yaml']);
  });

  it.each(files)('%s loads, is enabled and supervises something', (f) => {
    const { config, proxies } = loadConfig(join(dir, f));
    expect(config.proxy.monitor.enable).toBe(true);
    expect(proxies.length).toBeGreaterThan(0);
  });

  it('default.yaml runs the demo echo servers with a PING/PONG check', () => {
    const { config, proxies } = loadConfig(join(dir, 'default.yaml'));
    expect(config.proxy.monitor).toMatchObject({ check_interval: 10, restart_cooldown: 5 });
    expect(config.api.listen).toBe('127.0.0.1:8080');
    expect(config.state_dir).toBe('./state');
    expect(proxies.map((p) => [p.id, p.command, p.args.at(-1), p.health])).toEqual([
      ['demo-1', 'node', '9101', { kind: 'tcp', host: '127.0.0.1', port: 9101, send: 'PING\n', expect: 'PONG' }],
      ['demo-2', 'node', '9102', { kind: 'tcp', host: '127.0.0.1', port: 9102, send: 'PING\n', expect: 'PONG' }],
    ]);
    expect(proxies[0].args[0]).toBe('dist/echo-server.js');
  });

  it.each([
    ['development.yaml', 10, 30, 20, 3],
    ['production.yaml', 60, 120, 5, 10],
    ['high-availability.yaml', 15, 45, 15, 5],
  ])("%s has the seed's preset %i/%i/%i/%i", (f, check_interval, restart_cooldown, max_restarts, health_timeout) => {
    const { config } = loadConfig(join(dir, f));
    expect(config.proxy.monitor).toMatchObject({ enable: true, check_interval, restart_cooldown, max_restarts, health_timeout });
  });
});

describe('errors: one line naming the file and the key path', () => {
  it('reports a missing file', () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'pm-config-')), 'nope.yaml');
    expect(() => loadConfig(missing)).toThrow(new ConfigError(missing, [{ path: '', message: 'cannot read config file: no such file' }]));
    expect(() => loadConfig(missing)).toThrow(`${missing}: cannot read config file: no such file`);
  });

  it('refuses a FIFO, a device and a directory at once, without reading them', () => {
    const fifo = join(mkdtempSync(join(tmpdir(), 'pm-config-')), 'config.yaml');
    execFileSync('mkfifo', [fifo]); // nothing ever writes to it: a blocking read would never return
    const notRegular = 'cannot read config file: not a regular file (a FIFO, socket or device), expected a YAML file';
    expect(() => loadConfig(fifo)).toThrow(`${fifo}: ${notRegular}`);
    expect(() => loadConfig('/dev/zero')).toThrow(`/dev/zero: ${notRegular}`);
    expect(() => loadConfig(tmpdir())).toThrow(`${tmpdir()}: cannot read config file: is a directory, expected a YAML file`);
  });

  it('names a key given twice, and a second document, where it is', () => {
    expect(configError('proxy:\n  monitor: { check_interval: 5, check_interval: 7 }\n').message).toBe(
      `${FILE}:2:33: proxy.monitor.check_interval: the key is given twice`,
    );
    expect(configError('proxy:\n  proxies:\n    - id: a\n      command: x\n      command: y\n').message).toBe(
      `${FILE}:5:7: proxy.proxies[0].command: the key is given twice`,
    );
    expect(configError('state_dir: /a\n---\nstate_dir: /b\n').message).toBe(
      `${FILE}:2:1: expected one YAML document, found a second one here`,
    );
  });

  it('refuses a file that is not UTF-8 (saved as Latin-1), naming the line, rather than reading U+FFFD into a path', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pm-config-')), 'config.yaml');
    writeFileSync(
      file,
      Buffer.concat([Buffer.from('# caf\u00e9 is fine in UTF-8\n', 'utf8'), Buffer.from('state_dir: /var/lib/st\u00e9te\n', 'latin1')]),
    );
    expect(() => loadConfig(file)).toThrow(`${file}: cannot read config file: not UTF-8 text (line 2), expected a YAML file in UTF-8`);
  });

  it('merges `<<: *anchor` keys, and ignores top-level x- keys (a place for the anchors)', () => {
    const text = [
      'x-ss: &ss',
      '  type: exec',
      '  command: /usr/bin/ss-server',
      '  health: { process: true }',
      'proxy:',
      '  proxies:',
      '    - <<: *ss',
      '      id: a',
      '      args: ["-p", "1"]',
      '    - { <<: *ss, id: b, command: /usr/bin/other }',
      '',
    ].join('\n');
    const { proxies } = parseConfigText(text, FILE);
    expect(proxies.map((p) => [p.id, p.command, p.args])).toEqual([
      ['a', '/usr/bin/ss-server', ['-p', '1']],
      ['b', '/usr/bin/other', []],
    ]);
    // What a merge brings in is checked like what is written out; only top-level x- keys are free.
    expect(
      configError('x-e: &e { type: exec, command: /bin/true, bogus: 1 }\nproxy:\n  proxies:\n    - { <<: *e, id: a }\n').message,
    ).toMatch(`${FILE}: proxy.proxies[0].bogus: unknown key, expected one of id, monitor, health,`);
    expect(configError('proxy:\n  monitor:\n    x-note: 1\n').message).toMatch(
      `${FILE}: proxy.monitor.x-note: unknown key, expected one of enable,`,
    );
  });

  it('reports an alias that refers to a node containing it, with its key path', () => {
    expect(configError('a: &a [*a]\n').message).toBe(`${FILE}: a[0]: invalid YAML: an alias refers to a node that contains it`);
  });

  it('reports bad YAML with line and column', () => {
    const e = configError('proxy:\n  monitor:\n    enable: true\n  monitor: {}\n');
    expect(e.message).toBe(`${FILE}:4:3: proxy.monitor: the key is given twice`);
    expect(e.issues[0]).toMatchObject({ line: 4, col: 3 });
    expect(configError('proxy: [1, 2\n').message).toMatch(new RegExp(`^${FILE}:\\d+:\\d+: invalid YAML: `));
  });

  it('reports a negative interval with the value found', () => {
    expect(configError('proxy:\n  monitor:\n    check_interval: -5\n').message).toBe(
      `${FILE}: proxy.monitor.check_interval: expected seconds from 1 to 86400 (1 s to 1 day), got -5`,
    );
    expect(configError('proxy:\n  monitor:\n    restart_cooldown: -1\n').message).toBe(
      `${FILE}: proxy.monitor.restart_cooldown: expected seconds from 0 to 86400 (0 s to 1 day), got -1`,
    );
  });

  it('allows a zero cooldown but no zero interval', () => {
    expect(parseConfigText('proxy:\n  monitor:\n    restart_cooldown: 0\n', FILE).config.proxy.monitor.restart_cooldown).toBe(0);
    expect(configError('proxy:\n  monitor:\n    health_timeout: 0\n').message).toBe(
      `${FILE}: proxy.monitor.health_timeout: expected seconds from 0.1 to 300 (0.1 s to 5 min), got 0`,
    );
  });

  it('reports wrong types', () => {
    expect(configError('proxy:\n  monitor:\n    enable: "yes"\n').message).toBe(
      `${FILE}: proxy.monitor.enable: expected true or false, got "yes"`,
    );
    expect(configError('proxy:\n  monitor:\n    max_restarts: 2.5\n').message).toBe(
      `${FILE}: proxy.monitor.max_restarts: expected an integer, got 2.5`,
    );
    // Far out of range, the range still (not zod's own 2^53-1 bound).
    expect(configError('proxy:\n  monitor:\n    max_restarts: 99999999999999999999999\n').message).toBe(
      `${FILE}: proxy.monitor.max_restarts: expected a whole number from 1 to 1000000, got 1e+23`,
    );
    expect(configError('proxy:\n  proxies: {}\n').message).toBe(`${FILE}: proxy.proxies: expected a list, got a mapping`);
    expect(configError('- 1\n').message).toBe(`${FILE}: expected a mapping, got a list`);
    expect(configError('api:\n  listen: 8080\n').message).toBe(`${FILE}: api.listen: expected a string, got 8080`);
    expect(configError('api:\n  listen: localhost\n').message).toBe(
      `${FILE}: api.listen: expected "host:port" with an IP address or host name and a port 0-65535, got "localhost"`,
    );
  });

  it('refuses a host that is neither an IP address nor a host name, where it would only fail at bind or connect', () => {
    expect(configError('api:\n  listen: "999.1.1.1:80"\n').message).toBe(
      `${FILE}: api.listen: expected "host:port" with an IP address or host name and a port 0-65535, got "999.1.1.1:80"`,
    );
    expect(configError(withProxies('{ id: a, type: exec, command: x, health: { tcp: "999.1.1.1:80" } }')).message).toBe(
      `${FILE}: proxy.proxies[0].health.tcp: expected "host:port" with an IP address or host name and a port 1-65535, got "999.1.1.1:80"`,
    );
    expect(configError('api:\n  allowed_hosts: [999.1.1.1]\n').message).toBe(
      `${FILE}: api.allowed_hosts[0]: expected a host name such as monitor.example.com (no port, no scheme), got "999.1.1.1"`,
    );
    const { api } = parseConfigText('api:\n  listen: "localhost:0"\n  allowed_hosts: [monitor.example.com, "::1"]\n', FILE).config;
    expect(api).toEqual({ listen: 'localhost:0', allowed_hosts: ['monitor.example.com', '::1'] });
  });

  it('refuses a NUL in what is executed (it would cut a string of the command line short) and "=" in a variable name', () => {
    const entry = (keys: string) => configError(withProxies(`{ id: a, type: exec, command: x, ${keys} }`)).message;
    expect(entry('args: ["a\\0b"]')).toBe(
      `${FILE}: proxy.proxies[0].args[0]: expected no NUL character (a command line cannot carry one), got "a\\u0000b"`,
    );
    expect(entry('env: { V: "x\\0" }')).toMatch(/^config\/x\.yaml: proxy\.proxies\[0\]\.env\.V: expected no NUL character/);
    expect(entry('env: { "A=B": x }')).toMatch(
      /^config\/x\.yaml: proxy\.proxies\[0\]\.env\["A=B"\]: expected a variable name: not empty, no "=" and no NUL, got "A=B"$/,
    );
    expect(entry('cwd: "/tmp\\0x"')).toMatch(/^config\/x\.yaml: proxy\.proxies\[0\]\.cwd: expected no NUL character/);
    expect(configError(withProxies('{ id: a, type: exec, command: "x\\0y" }')).message).toMatch(
      /proxy\.proxies\[0\]\.command: expected no NUL/,
    );
  });

  it('reports unknown keys at the top level, in monitor and in a proxy', () => {
    // The key meant, when one is a typo away; else the keys allowed there.
    expect(configError('proxies: []\n').message).toBe(
      `${FILE}: proxies: unknown key, expected one of proxy, api, state_dir, history, logger, log`,
    );
    expect(configError('proxy:\n  monitor:\n    check_intervall: 30\n').message).toBe(
      `${FILE}: proxy.monitor.check_intervall: unknown key, did you mean check_interval?`,
    );
    expect(configError('proxy:\n  monitor:\n    chekc-interval: 30\n').message).toBe(
      `${FILE}: proxy.monitor.chekc-interval: unknown key, did you mean check_interval?`,
    );
    expect(configError(withProxies('{ id: a, type: exec, command: x, check_interval: 5 }')).message).toMatch(
      `${FILE}: proxy.proxies[0].check_interval: unknown key, expected one of id, monitor, health, stop_timeout,`,
    );
    expect(configError(withProxies('{ id: a, type: exec, command: x, health: { tcp: "a:1", timeout: 1 } }')).message).toBe(
      `${FILE}: proxy.proxies[0].health.timeout: unknown key, expected one of tcp, send, expect`,
    );
  });

  it('reports duplicate ids naming both indexes', () => {
    const e = configError(
      withProxies('{ id: ss-001, type: exec, command: x }', '{ id: b, type: exec, command: x }', '{ id: ss-001, type: exec, command: y }'),
    );
    expect(e.message).toBe(`${FILE}: proxy.proxies[2].id: duplicate id "ss-001" (also at proxy.proxies[0])`);
  });

  it('rejects a typed key next to command and says why', () => {
    const e = configError(withProxies('{ id: a, type: shadowsocks, command: /usr/bin/ss-server, server_port: 8388 }'));
    expect(e.message).toMatch(new RegExp(`^${FILE}: proxy\\.proxies\\[0\\]\\.server_port: not allowed together with "command"`));
    expect(e.message).toContain('remove "command"');
    expect(configError(withProxies('{ id: a, type: snell, listen: "0.0.0.0:1", psk: k, args: [-v] }')).message).toMatch(
      /proxy\.proxies\[0\]\.args: only for raw entries/,
    );
  });

  it('reports bad ids, types and missing required settings', () => {
    expect(configError(withProxies('{ id: -a, type: exec, command: x }')).message).toMatch(
      /proxy\.proxies\[0\]\.id: expected 1-64 letters/,
    );
    expect(configError(withProxies('{ id: a, type: ssr, command: x }')).message).toBe(
      `${FILE}: proxy.proxies[0].type: expected one of "shadowsocks", "trojan", "v2ray", "snell", "exec", got "ssr"`,
    );
    expect(configError(withProxies('{ id: a, type: exec }')).message).toBe(
      `${FILE}: proxy.proxies[0].command: missing, type exec needs a command`,
    );
    expect(configError(withProxies('{ id: a, type: shadowsocks, password: p }')).message).toBe(
      `${FILE}: proxy.proxies[0].server_port: missing, expected a number`,
    );
    expect(configError(withProxies('{ id: a, type: shadowsocks, server_port: 1, password: p, method: rc4-md5 }')).message).toMatch(
      /proxy\.proxies\[0\]\.method: expected one of "aes-128-gcm", .*, got "rc4-md5"$/,
    );
    expect(configError(withProxies('{ id: a, type: v2ray, port: 1 }')).message).toBe(
      `${FILE}: proxy.proxies[0].uuid: missing, required for protocol vmess`,
    );
  });

  it('reports health blocks with none or several forms', () => {
    expect(configError(withProxies('{ id: a, type: exec, command: x, health: {} }')).message).toBe(
      `${FILE}: proxy.proxies[0].health: expected exactly one of the keys tcp, http, exec, process`,
    );
    expect(configError(withProxies('{ id: a, type: exec, command: x, health: { process: true, exec: [x] } }')).message).toMatch(
      /health: expected exactly one of the keys tcp, http, exec, process, got exec and process$/,
    );
  });

  it('never echoes a secret value', () => {
    const e = configError(withProxies('{ id: a, type: shadowsocks, server_port: 1, password: 123456 }'));
    expect(e.message).toBe(`${FILE}: proxy.proxies[0].password: expected a string`);
  });

  it('keeps every issue, the first one in the message', () => {
    const e = configError('proxy:\n  monitor:\n    check_interval: -5\n    health_timeout: "x"\nfoo: 1\n');
    expect(e.issues.map((i) => i.path)).toEqual(['proxy.monitor.check_interval', 'proxy.monitor.health_timeout', 'foo']);
  });

  it('validates a file on disk the same way', () => {
    const f = join(mkdtempSync(join(tmpdir(), 'pm-config-')), 'bad.yaml');
    writeFileSync(f, 'proxy:\n  monitor:\n    check_interval: -5\n');
    expect(() => loadConfig(f)).toThrow(`${f}: proxy.monitor.check_interval: expected seconds from 1 to 86400 (1 s to 1 day), got -5`);
  });
});
