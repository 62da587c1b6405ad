// What a reload reports as changed outside the proxy list (settingChanges: its log line and audit
// row), and the host:port parsing shared by api.listen, tcp checks and snell's listen.
import { describe, expect, it } from 'vitest';
import { settingChanges } from '../../src/config/changes.ts';
import { connectableHost, parseHostPort } from '../../src/config/host-port.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { executedFingerprint } from '../../src/supervisor/executed.ts';
import { FILE } from './helpers.ts';

const config = (text: string) => parseConfigText(text, FILE).config;

describe('settingChanges', () => {
  it('names each changed key by its dotted path with old and new values, and nothing unchanged', () => {
    const before = config('proxy:\n  monitor:\n    check_interval: 30\n    backoff: { initial: 1 }\napi:\n  listen: "127.0.0.1:9000"\n');
    const after = config('proxy:\n  monitor:\n    check_interval: 10\n    backoff: { initial: 2 }\napi:\n  listen: "127.0.0.1:9000"\n');
    expect(settingChanges(before, before)).toEqual({});
    expect(settingChanges(before, after)).toEqual({
      'proxy.monitor.check_interval': { old: 30, new: 10 },
      'proxy.monitor.backoff.initial': { old: 1, new: 2 },
    });
  });

  it('a key that appears or goes away is null on the other side; the token is named, never shown', () => {
    const before = config('api:\n  listen: "127.0.0.1:9000"\n');
    const after = config('api:\n  listen: "127.0.0.1:9000"\n  token: s3cret-token\nproxy:\n  monitor:\n    max_memory: 64MiB\n');
    const changes = settingChanges(before, after);
    expect(changes['api.token']).toEqual({ old: null, new: '[redacted]' });
    expect(changes['proxy.monitor.max_memory']).toEqual({ old: null, new: '64MiB' });
    expect(settingChanges(after, before)['api.token']).toEqual({ old: '[redacted]', new: null });
    expect(JSON.stringify(changes)).not.toContain('s3cret-token');
  });

  it('leaves the proxy list out (reconcile reports proxies by id)', () => {
    const before = config('proxy:\n  proxies:\n    - { id: a, type: exec, command: /bin/true }\n');
    const after = config('proxy:\n  proxies:\n    - { id: a, type: exec, command: /bin/false }\n');
    expect(settingChanges(before, after)).toEqual({});
  });
});

describe('state_dir changed in the file', () => {
  it('is read at the next start: a reload generates typed proxies in the state_dir in use, so none of them restarts', () => {
    const file = (dir: string) =>
      `state_dir: ${dir}\nproxy:\n  proxies:\n    - { id: ss, type: shadowsocks, server_port: 8388, password: pw }\n`;
    const running = parseConfigText(file('/var/lib/pm-a'), FILE).proxies[0];
    const reloaded = parseConfigText(file('/var/lib/pm-b'), FILE, { stateDirInUse: '/var/lib/pm-a' });
    expect(reloaded.config.state_dir).toBe('/var/lib/pm-b'); // reported as changed, for the next start
    expect(executedFingerprint(reloaded.proxies[0])).toBe(executedFingerprint(running));
    expect(reloaded.proxies[0].args.join(' ')).toContain('/var/lib/pm-a/generated/');
  });
});

describe('host:port', () => {
  it('parses a host or a bracketed IPv6 address and a port in range', () => {
    expect(parseHostPort('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseHostPort('[::1]:65535')).toEqual({ host: '::1', port: 65535 });
    expect(parseHostPort('example.org:1')).toEqual({ host: 'example.org', port: 1 });
    for (const bad of ['127.0.0.1:0', '127.0.0.1:65536', '::1:80', 'host', 'host:', 'a b:80'])
      expect(parseHostPort(bad), bad).toBeUndefined();
    expect(parseHostPort('127.0.0.1:0', 0)).toEqual({ host: '127.0.0.1', port: 0 });
  });

  it('takes an IP address or a host name as host, nothing that would only fail at connect or bind', () => {
    // The longest name DNS takes: 253 characters, and its root's trailing dot besides.
    const longest = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
    for (const good of [
      'localhost:80',
      'my_proxy:80',
      'a-1.example.org.:80',
      '0.0.0.0:80',
      '[::]:80',
      '[::ffff:192.0.2.1]:80',
      `${longest}:80`,
      `${longest}.:80`,
    ])
      expect(parseHostPort(good), good).toBeDefined();
    expect(parseHostPort(`${longest}e:80`)).toBeUndefined();
    // An all-digit last label is an IPv4 address (RFC 3696), so 999.1.1.1 is a bad one, not a name.
    for (const bad of [
      '999.1.1.1:80',
      '1.2.3.256:80',
      '010.1.1.1:80',
      '127.1:80',
      '[1.2.3.4]:80',
      '[:::]:80',
      '-a:80',
      'a..b:80',
      'a/b:80',
    ])
      expect(parseHostPort(bad), bad).toBeUndefined();
  });

  it('connects to loopback for a wildcard bind address, to the address itself otherwise', () => {
    expect(connectableHost('0.0.0.0')).toBe('127.0.0.1');
    expect(connectableHost('')).toBe('127.0.0.1');
    expect(connectableHost('::')).toBe('::1');
    expect(connectableHost('[::]')).toBe('::1');
    expect(connectableHost('192.0.2.7')).toBe('192.0.2.7');
    expect(connectableHost('::1')).toBe('::1');
  });
});
