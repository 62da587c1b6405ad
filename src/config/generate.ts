// Typed entries -> command line, generated server config file, default health check and secrets.
// Secrets go into a file (written 0600 by the process driver), never into argv: argv is world-readable
// through ps and /proc.
import { resolve } from 'node:path';
import type { GeneratedFile, HealthSpec } from '../proxy-spec.ts';
import { generatedFile } from '../state-dir.ts';
import { connectableHost, parseHostPort } from './host-port.ts';
import type { ShadowsocksEntry, SnellEntry, TrojanEntry, TypedEntry, V2rayEntry } from './proxy-schema.ts';

export interface BuiltProxy {
  command: string;
  args: string[];
  files: GeneratedFile[];
  /** Used when the entry has no health block of its own. */
  defaultHealth: HealthSpec;
  secrets: string[];
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

function shadowsocks(e: ShadowsocksEntry, file: string): BuiltProxy {
  // ss-server's JSON config: the same keys as its -s/-p/-k/-m/-t/-u options.
  const conf = {
    server: e.server,
    server_port: e.server_port,
    password: e.password,
    method: e.method,
    ...(e.timeout !== undefined && { timeout: e.timeout }),
    ...(e.mode !== undefined && { mode: e.mode }),
  };
  // A round trip through the server (src/health/shadowsocks.ts): a bare connect passes even when it is hung.
  const defaultHealth: HealthSpec =
    e.mode === 'udp_only'
      ? { kind: 'process' }
      : { kind: 'shadowsocks', host: connectableHost(e.server), port: e.server_port, password: e.password, method: e.method };
  return { command: e.binary, args: ['-c', file], files: [{ path: file, content: json(conf) }], defaultHealth, secrets: [e.password] };
}

function trojan(e: TrojanEntry, file: string): BuiltProxy {
  // Trojan fills every omitted key with its own default; certificate paths are made absolute so the
  // file does not depend on the proxy's working directory.
  const conf = {
    run_type: 'server',
    local_addr: e.local_addr,
    local_port: e.local_port,
    remote_addr: e.remote_addr,
    remote_port: e.remote_port,
    password: e.password,
    ssl: { cert: resolve(e.cert), key: resolve(e.key) },
  };
  const defaultHealth: HealthSpec = { kind: 'tls', host: connectableHost(e.local_addr), port: e.local_port };
  return { command: e.binary, args: ['-c', file], files: [{ path: file, content: json(conf) }], defaultHealth, secrets: [...e.password] };
}

function v2ray(e: V2rayEntry, file: string): BuiltProxy {
  const method = e.method ?? 'chacha20-ietf-poly1305';
  const settings =
    e.protocol === 'shadowsocks'
      ? { method, password: e.password, network: 'tcp,udp' }
      : e.protocol === 'vless'
        ? { clients: [{ id: e.uuid }], decryption: 'none' }
        : { clients: [{ id: e.uuid, alterId: 0 }] };
  const conf = {
    log: { loglevel: 'warning' },
    inbounds: [{ listen: e.listen, port: e.port, protocol: e.protocol, settings }],
    outbounds: [{ protocol: 'freedom', settings: {} }],
  };
  // Debian's v2ray is 4.x, whose CLI is `v2ray -config FILE`; 5.x wants `v2ray run -c FILE`.
  return {
    command: e.binary,
    args: ['-config', file],
    files: [{ path: file, content: json(conf) }],
    defaultHealth: v2rayHealth(e, method),
    secrets: [e.uuid ?? e.password!],
  };
}

/**
 * A unix socket (`listen: /path`) is connected to as such: its port is not listened on. A
 * shadowsocks inbound gets the shadowsocks entry's round trip (a hung server fails it); vmess and
 * vless a TCP connect.
 */
function v2rayHealth(e: V2rayEntry, method: string): HealthSpec {
  if (e.listen.startsWith('/')) return { kind: 'unix', path: e.listen };
  const host = connectableHost(e.listen);
  return e.protocol === 'shadowsocks'
    ? { kind: 'shadowsocks', host, port: e.port, password: e.password!, method }
    : { kind: 'tcp', host, port: e.port };
}

function snell(e: SnellEntry, file: string): BuiltProxy {
  // The INI format of snell-server's documentation; optional keys only when set.
  let ini = `[snell-server]\nlisten = ${e.listen}\npsk = ${e.psk}\n`;
  if (e.obfs !== undefined) ini += `obfs = ${e.obfs}\n`;
  if (e.ipv6 !== undefined) ini += `ipv6 = ${e.ipv6}\n`;
  const { host, port } = parseHostPort(e.listen)!; // validated by the schema
  return {
    command: e.binary,
    args: ['-c', file],
    files: [{ path: file, content: ini }],
    defaultHealth: { kind: 'tcp', host: connectableHost(host), port },
    secrets: [e.psk],
  };
}

/** `stateDir` should be absolute; files land in `<stateDir>/generated/<id>.{json,conf}`. */
export function buildTyped(e: TypedEntry, stateDir: string): BuiltProxy {
  const file = (ext: 'json' | 'conf') => generatedFile(stateDir, e.id, ext);
  switch (e.type) {
    case 'shadowsocks':
      return shadowsocks(e, file('json'));
    case 'trojan':
      return trojan(e, file('json'));
    case 'v2ray':
      return v2ray(e, file('json'));
    case 'snell':
      return snell(e, file('conf'));
  }
}
