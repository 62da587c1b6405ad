// Validated config entries -> ProxySpec, the form the process driver and health probes consume.
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import type { HealthSpec, ProxySpec } from '../proxy-spec.ts';
import { parseHostPort, unbracketed } from './host-port.ts';
import type { ConfigIssue } from './errors.ts';
import { buildTyped } from './generate.ts';
import { PROXY_OVERRIDES } from './monitor-shape.ts';
import { realHost, resolvePrivileges, type Host } from './privileges.ts';
import type { HealthConfig, ProxyEntry, RawEntry } from './proxy-schema.ts';
import type { Config } from './schema.ts';
import { sizeBytes } from './size.ts';

function toHealthSpec(h: HealthConfig): HealthSpec {
  if ('tcp' in h) {
    const { host, port } = parseHostPort(h.tcp)!; // validated by the schema
    return { kind: 'tcp', host, port, ...(h.send !== undefined && { send: h.send }), ...(h.expect !== undefined && { expect: h.expect }) };
  }
  if ('http' in h) return { kind: 'http', url: h.http, ...(h.status !== undefined && { status: h.status }) };
  if ('exec' in h) return { kind: 'exec', command: h.exec };
  return { kind: 'process' };
}

const SECRET_ENV = /pass|secret|token|key|psk/i;
const SECRET_FLAGS = new Set(['-k', '--password', '--key']);

/** What a raw command line may carry: secret-looking env values and the values of -k/--password/--key. */
function rawSecrets(e: RawEntry): string[] {
  const out = Object.entries(e.env)
    .filter(([k]) => SECRET_ENV.test(k))
    .map(([, v]) => v);
  e.args.forEach((arg, i) => {
    if (SECRET_FLAGS.has(arg) && i + 1 < e.args.length) out.push(e.args[i + 1]);
    const eq = arg.indexOf('=');
    if (eq > 0 && SECRET_FLAGS.has(arg.slice(0, eq))) out.push(arg.slice(eq + 1));
  });
  return out;
}

function healthSecrets(h: HealthConfig | undefined): string[] {
  if (!h || !('http' in h)) return [];
  const { password } = new URL(h.http); // http://user:pass@host/ would otherwise be logged with the URL
  return password ? [decodeURIComponent(password)] : [];
}

export function resolveProxy(e: ProxyEntry, stateDir: string, host: Host): { spec: ProxySpec; issues: ConfigIssue[] } {
  const { privileges, issues } = resolvePrivileges(e, host, !('command' in e));
  const settings = Object.fromEntries(PROXY_OVERRIDES.filter((key) => e[key] !== undefined).map((key) => [key, e[key]]));
  // Left out when it changes nothing, so that the spec (and its fingerprint) of such a proxy is as before.
  const plain = !privileges.runAs && privileges.capabilities.length === 0 && Object.keys(privileges.limits).length === 0;
  const base = {
    id: e.id,
    type: e.type,
    monitor: e.monitor,
    settings,
    ...(!plain && { privileges }),
    ...(e.max_memory !== undefined && { maxMemory: sizeBytes(e.max_memory) }),
  };
  let spec: ProxySpec;
  if ('command' in e) {
    spec = {
      ...base,
      command: e.command,
      args: e.args,
      env: e.env,
      ...(e.cwd !== undefined && { cwd: e.cwd }),
      health: e.health ? toHealthSpec(e.health) : { kind: 'process' },
      secrets: rawSecrets(e),
      files: [],
    };
  } else {
    const built = buildTyped(e, stateDir);
    spec = {
      ...base,
      command: built.command,
      args: built.args,
      env: {},
      health: e.health ? toHealthSpec(e.health) : built.defaultHealth,
      secrets: built.secrets,
      files: built.files,
    };
  }
  spec.secrets = [...new Set([...spec.secrets, ...healthSecrets(e.health)])].filter((s) => s !== '');
  return { spec, issues };
}

/** Where a typed entry's server listens, and the key that says so (raw entries: unknown). */
function listenOf(e: ProxyEntry): { host: string; port: number; key: string } | undefined {
  if ('command' in e) return undefined;
  switch (e.type) {
    case 'shadowsocks':
      return e.mode === 'udp_only' ? undefined : { host: e.server, port: e.server_port, key: 'server_port' }; // TCP ports only
    case 'trojan':
      return { host: e.local_addr, port: e.local_port, key: 'local_port' };
    case 'v2ray':
      return e.listen.startsWith('/') ? undefined : { host: e.listen, port: e.port, key: 'port' };
    case 'snell': {
      const { host, port } = parseHostPort(e.listen)!; // validated by the schema
      return { host, port, key: 'listen' };
    }
  }
}

/**
 * The addresses a bind host stands for, each in one spelling: `localhost` is loopback of both
 * families, an IPv6 address is written as the URL parser writes it (`0:0::1` is `::1`; an
 * IPv4-mapped one as its IPv4 address), a name is
 * lowercased (it is not resolved: it may not resolve yet at load).
 */
function bindAddresses(host: string): string[] {
  const h = unbracketed(host).toLowerCase().replace(/\.$/, '');
  if (h === 'localhost') return ['127.0.0.1', '::1'];
  // A zone-scoped one (fe80::1%eth0) is taken as written: the URL parser refuses it.
  if (isIP(h) !== 6 || h.includes('%')) return [h];
  const v6 = unbracketed(new URL(`http://[${h}]`).hostname);
  // An IPv4-mapped address (::ffff:127.0.0.1) binds the IPv4 address itself.
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
  if (!mapped) return [v6];
  const [high, low] = [parseInt(mapped[1], 16), parseInt(mapped[2], 16)];
  return [[high >> 8, high & 255, low >> 8, low & 255].join('.')];
}

/** Two binds of one port conflict on the same address, or when one is a wildcard of the other's family (`::` covers both). */
function overlap(a: string, b: string): boolean {
  const v4 = (h: string) => isIP(h) === 4;
  const covers = (x: string, y: string) => x === y || x === '::' || (x === '0.0.0.0' && (v4(y) || isIP(y) === 0));
  return bindAddresses(a).some((x) => bindAddresses(b).some((y) => covers(x, y) || covers(y, x)));
}

/**
 * Typed entries that would listen on the same port (same address, or one of them every address), or
 * on the API's: one of them cannot bind it, and would crash-loop to its cap. Refused at load.
 */
function portClashes(config: Config): ConfigIssue[] {
  const api = parseHostPort(config.api.listen, 0);
  const taken: Array<{ host: string; port: number; what: string }> = api && api.port !== 0 ? [{ ...api, what: 'api.listen' }] : [];
  const issues: ConfigIssue[] = [];
  config.proxy.proxies.forEach((e, i) => {
    const listen = listenOf(e);
    if (!listen) return;
    const other = taken.find((t) => t.port === listen.port && overlap(t.host, listen.host));
    if (other)
      issues.push({
        path: `proxy.proxies[${i}].${listen.key}`,
        message: `port ${listen.port} is also taken by ${other.what}: only one of them can listen on it`,
      });
    taken.push({ ...listen, what: `${e.id} (proxy.proxies[${i}])` });
  });
  return issues;
}

/**
 * state_dir is taken relative to the daemon's working directory; `stateDirInUse`, a running
 * daemon's, wins (generated files go where its state is). Issues name the entry's keys in full.
 */
export function resolveProxies(config: Config, host: Host = realHost(), inUse?: string): { proxies: ProxySpec[]; issues: ConfigIssue[] } {
  const stateDir = resolve(inUse ?? config.state_dir);
  const issues: ConfigIssue[] = [];
  const proxies = config.proxy.proxies.map((e, i) => {
    const resolved = resolveProxy(e, stateDir, host);
    issues.push(...resolved.issues.map((issue) => ({ ...issue, path: `proxy.proxies[${i}].${issue.path}` })));
    return resolved.spec;
  });
  issues.push(...portClashes(config));
  return { proxies, issues };
}
