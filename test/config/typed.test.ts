// Typed entries: the command is built from settings and secrets travel in a generated file.
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.ts';
import type { ProxySpec } from '../../src/proxy-spec.ts';
import { FILE, withProxies } from './helpers.ts';

const STATE = '/srv/pm-state';
const generated = (name: string) => join(STATE, 'generated', name);
const one = (entry: string): ProxySpec => parseConfigText(`state_dir: ${STATE}\n${withProxies(entry)}`, FILE).proxies[0];

/** The secret is in secrets and in the generated file, nowhere on the command line or environment. */
function expectHidden(p: ProxySpec, secret: string) {
  expect(p.secrets).toContain(secret);
  expect(p.files.some((f) => f.content.includes(secret))).toBe(true);
  expect([p.command, ...p.args, ...Object.values(p.env)].join(' ')).not.toContain(secret);
}

describe('shadowsocks', () => {
  it('writes an ss-server JSON config and runs ss-server -c with it', () => {
    const p = one('{ id: ss-1, type: shadowsocks, server_port: 8388, password: "s3cr3t!" }');
    expect(p.command).toBe('/usr/bin/ss-server');
    expect(p.args).toEqual(['-c', generated('ss-1.json')]);
    expect(p.files).toHaveLength(1);
    expect(p.files[0].path).toBe(generated('ss-1.json'));
    expect(JSON.parse(p.files[0].content)).toEqual({
      server: '127.0.0.1',
      server_port: 8388,
      password: 's3cr3t!',
      method: 'chacha20-ietf-poly1305',
    });
    expect(p.health).toEqual({ kind: 'shadowsocks', host: '127.0.0.1', port: 8388, password: 's3cr3t!', method: 'chacha20-ietf-poly1305' });
    expect(p.env).toEqual({});
    expectHidden(p, 's3cr3t!');
  });

  it('passes timeout and mode, honours binary, and checks a wildcard bind on loopback', () => {
    const p = one(
      '{ id: ss-2, type: shadowsocks, binary: /opt/ss/ss-server, server: 0.0.0.0, server_port: 8389, password: pw, method: aes-256-gcm, timeout: 300, mode: tcp_and_udp }',
    );
    expect(p.command).toBe('/opt/ss/ss-server');
    expect(JSON.parse(p.files[0].content)).toEqual({
      server: '0.0.0.0',
      server_port: 8389,
      password: 'pw',
      method: 'aes-256-gcm',
      timeout: 300,
      mode: 'tcp_and_udp',
    });
    expect(p.health).toEqual({ kind: 'shadowsocks', host: '127.0.0.1', port: 8389, password: 'pw', method: 'aes-256-gcm' });
  });

  it('falls back to a process check for udp_only, which a TCP round trip cannot see', () => {
    expect(one('{ id: u, type: shadowsocks, server_port: 1, password: p, mode: udp_only }').health).toEqual({ kind: 'process' });
  });

  it('uses an explicit health block instead of the default', () => {
    expect(one('{ id: s, type: shadowsocks, server_port: 1, password: p, health: { process: true } }').health).toEqual({ kind: 'process' });
  });
});

describe('trojan', () => {
  it('writes a trojan server config with absolute certificate paths', () => {
    const p = one('{ id: tj, type: trojan, local_port: 443, password: pw1, cert: certs/c.pem, key: /etc/k.pem }');
    expect(p.command).toBe('/usr/bin/trojan');
    expect(p.args).toEqual(['-c', generated('tj.json')]);
    expect(JSON.parse(p.files[0].content)).toEqual({
      run_type: 'server',
      local_addr: '127.0.0.1',
      local_port: 443,
      remote_addr: '127.0.0.1',
      remote_port: 80,
      password: ['pw1'],
      ssl: { cert: resolve('certs/c.pem'), key: '/etc/k.pem' },
    });
    expect(p.health).toEqual({ kind: 'tls', host: '127.0.0.1', port: 443 });
    expectHidden(p, 'pw1');
  });

  it('accepts a list of passwords, all of them secret', () => {
    const p = one(
      '{ id: tj, type: trojan, local_port: 443, password: [a1, b2], cert: c, key: k, remote_addr: 10.0.0.2, remote_port: 8080 }',
    );
    expect(JSON.parse(p.files[0].content)).toMatchObject({ password: ['a1', 'b2'], remote_addr: '10.0.0.2', remote_port: 8080 });
    expect(p.secrets).toEqual(['a1', 'b2']);
  });
});

describe('v2ray', () => {
  const uuid = 'b831381d-6324-4d53-ad4f-8cda48b30811';

  it('writes a vmess inbound with a freedom outbound; v2ray 4 takes -config', () => {
    const p = one(`{ id: v, type: v2ray, port: 10086, uuid: "${uuid}" }`);
    expect(p.command).toBe('/usr/bin/v2ray');
    expect(p.args).toEqual(['-config', generated('v.json')]);
    expect(JSON.parse(p.files[0].content)).toEqual({
      log: { loglevel: 'warning' },
      inbounds: [{ listen: '127.0.0.1', port: 10086, protocol: 'vmess', settings: { clients: [{ id: uuid, alterId: 0 }] } }],
      outbounds: [{ protocol: 'freedom', settings: {} }],
    });
    expect(p.health).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 10086 });
    expectHidden(p, uuid);
  });

  it('writes vless and shadowsocks inbounds', () => {
    const vless = one(`{ id: v, type: v2ray, port: 1, protocol: vless, uuid: "${uuid}" }`);
    expect(JSON.parse(vless.files[0].content).inbounds[0].settings).toEqual({ clients: [{ id: uuid }], decryption: 'none' });
    const ss = one('{ id: v, type: v2ray, listen: 0.0.0.0, port: 2, protocol: shadowsocks, password: pw, method: aes-128-gcm }');
    expect(JSON.parse(ss.files[0].content).inbounds[0]).toEqual({
      listen: '0.0.0.0',
      port: 2,
      protocol: 'shadowsocks',
      settings: { method: 'aes-128-gcm', password: 'pw', network: 'tcp,udp' },
    });
    // The shadowsocks round trip, as a shadowsocks entry's: a connect proves nothing of a hung server.
    expect(ss.health).toEqual({ kind: 'shadowsocks', host: '127.0.0.1', port: 2, password: 'pw', method: 'aes-128-gcm' });
    expectHidden(ss, 'pw');
    const onSocket = one(`{ id: v, type: v2ray, listen: /run/v2.sock, port: 3, uuid: "${uuid}" }`);
    expect(onSocket.health).toEqual({ kind: 'unix', path: '/run/v2.sock' });
  });
});

describe('snell', () => {
  it('writes the documented INI and runs snell-server -c with it', () => {
    const p = one('{ id: sn, type: snell, listen: "0.0.0.0:6160", psk: AbC123 }');
    expect(p.command).toBe('snell-server');
    expect(p.args).toEqual(['-c', generated('sn.conf')]);
    expect(p.files).toEqual([{ path: generated('sn.conf'), content: '[snell-server]\nlisten = 0.0.0.0:6160\npsk = AbC123\n' }]);
    expect(p.health).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 6160 });
    expectHidden(p, 'AbC123');
  });

  it('adds obfs and ipv6 lines when set', () => {
    const p = one('{ id: sn, type: snell, listen: "0.0.0.0:6160", psk: k, obfs: tls, ipv6: true }');
    expect(p.files[0].content).toBe('[snell-server]\nlisten = 0.0.0.0:6160\npsk = k\nobfs = tls\nipv6 = true\n');
  });
});

describe('state_dir', () => {
  it('is resolved against the working directory, not the config file', () => {
    const p = parseConfigText(withProxies('{ id: sn, type: snell, listen: "0.0.0.0:1", psk: k }'), '/elsewhere/x.yaml').proxies[0];
    expect(p.files[0].path).toBe(resolve('state', 'generated', 'sn.conf'));
  });
});

describe('where typed servers listen', () => {
  const refused =
    (entries: string[], extra = '') =>
    () =>
      parseConfigText(`${extra}${withProxies(...entries)}`, FILE);

  it('refuses an address that is neither an IP address nor a host name, at load', () => {
    expect(refused(['{ id: a, type: shadowsocks, server: 999.0.0.1, server_port: 1, password: p }'])).toThrow(
      `${FILE}: proxy.proxies[0].server: expected an IP address (such as 0.0.0.0 or ::) or a host name, got "999.0.0.1"`,
    );
    expect(() =>
      parseConfigText(withProxies('{ id: a, type: shadowsocks, server: "::", server_port: 1, password: p }'), FILE),
    ).not.toThrow();
  });

  it('refuses two on one port (the same address, or one of them every address), or on the API port', () => {
    expect(
      refused([
        '{ id: a, type: shadowsocks, server_port: 7001, password: p }',
        '{ id: b, type: trojan, local_addr: 0.0.0.0, local_port: 7001, password: p, cert: /c, key: /k }',
      ]),
    ).toThrow(`${FILE}: proxy.proxies[1].local_port: port 7001 is also taken by a (proxy.proxies[0]): only one of them can listen on it`);
    expect(refused(['{ id: a, type: snell, listen: "127.0.0.1:8080", psk: k }'], 'api: { listen: "0.0.0.0:8080" }\n')).toThrow(
      `${FILE}: proxy.proxies[0].listen: port 8080 is also taken by api.listen: only one of them can listen on it`,
    );
    // Different addresses (an IPv4 wildcard and an IPv6 address among them), different ports, UDP
    // alone or a unix socket: no clash.
    expect(
      refused([
        '{ id: a, type: shadowsocks, server: 127.0.0.1, server_port: 7001, password: p }',
        '{ id: b, type: shadowsocks, server: 127.0.0.2, server_port: 7001, password: p }',
        '{ id: c, type: v2ray, port: 7002, uuid: 0a8b9c3e-1f2d-4e5f-8a9b-0c1d2e3f4a5b }',
        '{ id: d, type: shadowsocks, server: 0.0.0.0, server_port: 7003, password: p }',
        '{ id: e, type: v2ray, listen: "::1", port: 7003, uuid: 0a8b9c3e-1f2d-4e5f-8a9b-0c1d2e3f4a5b }',
        '{ id: f, type: shadowsocks, server: "[::1]", server_port: 7004, password: p, mode: udp_only }',
        '{ id: g, type: v2ray, listen: "::1", port: 7004, uuid: 0a8b9c3e-1f2d-4e5f-8a9b-0c1d2e3f4a5b }',
        '{ id: h, type: v2ray, listen: /run/v2ray.sock, port: 7004, uuid: 0a8b9c3e-1f2d-4e5f-8a9b-0c1d2e3f4a5b }',
      ]),
    ).not.toThrow();
    expect(
      refused([
        '{ id: a, type: shadowsocks, server: "::", server_port: 7005, password: p }',
        '{ id: b, type: snell, listen: "127.0.0.1:7005", psk: k }',
      ]),
    ).toThrow(/proxy\.proxies\[1\]\.listen: port 7005 is also taken by a/);
    // One address in two spellings: localhost is loopback of both families; IPv6 written two ways.
    for (const [x, y] of [
      ['localhost', '127.0.0.1'],
      ['LocalHost.', '"[::1]"'],
      ['"0:0:0:0:0:0:0:1"', '"::1"'],
      ['"::ffff:127.0.0.1"', '127.0.0.1'],
    ])
      expect(
        refused([
          `{ id: a, type: shadowsocks, server: ${x}, server_port: 7006, password: p }`,
          `{ id: b, type: shadowsocks, server: ${y}, server_port: 7006, password: q }`,
        ]),
      ).toThrow(/proxy\.proxies\[1\]\.server_port: port 7006 is also taken by a/);
  });
});
