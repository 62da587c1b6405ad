// user, group, capabilities, limits and max_memory: resolved against a host given by the test (who
// the daemon is, which accounts exist), refused with the file, the key and what was expected.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { type Host, realHost } from '../../src/config/privileges.ts';
import { hardeningWarnings } from '../../src/daemon/hardening.ts';
import { wrapperArgv } from '../../src/process/wrappers.ts';
import { FILE, withProxies } from './helpers.ts';

const USERS = {
  nobody: { name: 'nobody', uid: 65534, gid: 65534 },
  'proxy-monitor': { name: 'proxy-monitor', uid: 990, gid: 990 },
  alice: { name: 'alice', uid: 1000, gid: 1000 },
};
const GROUPS = {
  nogroup: { name: 'nogroup', gid: 65534 },
  'proxy-monitor': { name: 'proxy-monitor', gid: 990 },
  alice: { name: 'alice', gid: 1000 },
  ssl: { name: 'ssl', gid: 110 },
};

function host(uid: number, options: { serviceUser?: boolean; permitted?: bigint; hardLimits?: Host['hardLimits'] } = {}): Host {
  const users = Object.values(USERS).filter((u) => options.serviceUser !== false || u.name !== 'proxy-monitor');
  return {
    uid,
    gid: uid,
    permitted: options.permitted ?? (uid === 0 ? (1n << 41n) - 1n : 0n),
    hardLimits: options.hardLimits ?? { nofile: 524288, nproc: 4096, core: Infinity, memlock: 8 << 20 },
    user: (key) => users.find((u) => u.name === String(key) || u.uid === Number(key)),
    group: (key) => Object.values(GROUPS).find((g) => g.name === String(key) || g.gid === Number(key)),
  };
}

const load = (entry: string, h: Host) => parseConfigText(withProxies(entry), FILE, {}, h);
const refusal = (entry: string, h: Host) => {
  try {
    load(entry, h);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('accepted');
};
const RAW = 'id: p, type: exec, command: /bin/true';
const TYPED = 'id: ss, type: shadowsocks, server_port: 8388, password: pw';

describe('user and group', () => {
  it('resolves a user name to its ids and primary group; a group overrides it', () => {
    expect(load(`{ ${RAW}, user: nobody }`, host(0)).proxies[0].privileges?.runAs).toEqual({
      uid: 65534,
      gid: 65534,
      user: 'nobody',
      group: 'nogroup',
    });
    expect(load(`{ ${RAW}, user: alice, group: ssl }`, host(0)).proxies[0].privileges?.runAs).toEqual({
      uid: 1000,
      gid: 110,
      user: 'alice',
      group: 'ssl',
    });
    expect(load(`{ ${RAW}, user: 1000 }`, host(0)).proxies[0].privileges?.runAs).toEqual({
      uid: 1000,
      gid: 1000,
      user: 'alice',
      group: 'alice',
    });
  });

  it('takes a numeric id without a passwd entry only with a group (and then no supplementary groups)', () => {
    expect(load(`{ ${RAW}, user: 4000, group: 4000 }`, host(0)).proxies[0].privileges?.runAs).toEqual({
      uid: 4000,
      gid: 4000,
      user: null,
      group: null,
    });
    expect(wrapperArgv(load(`{ ${RAW}, user: 4000, group: 4000 }`, host(0)).proxies[0].privileges, { root: true, ambient: false })).toEqual(
      ['/usr/bin/setpriv', '--reuid=4000', '--regid=4000', '--clear-groups', '--'],
    );
    expect(refusal(`{ ${RAW}, user: 4000 }`, host(0))).toBe(
      `${FILE}: proxy.proxies[0].user: expected an existing user, no user 4000 on this host: a numeric id without a passwd entry needs a group too`,
    );
  });

  it('refuses an unknown user or group, and a malformed name', () => {
    expect(refusal(`{ ${RAW}, user: mallory }`, host(0))).toBe(
      `${FILE}: proxy.proxies[0].user: expected an existing user, no user "mallory" on this host (create it, or give a numeric id)`,
    );
    expect(refusal(`{ ${RAW}, user: nobody, group: wheel }`, host(0))).toBe(
      `${FILE}: proxy.proxies[0].group: expected an existing group, no group "wheel" on this host`,
    );
    expect(refusal(`{ ${RAW}, user: "no body" }`, host(0))).toMatch(
      /proxy\.proxies\[0\]\.user: expected a user or group name, or a numeric id from 0 to 4294967294/,
    );
    expect(refusal(`{ ${RAW}, user: -1 }`, host(0))).toBe(`${FILE}: proxy.proxies[0].user: expected a number >= 0, got -1`);
  });

  it('a daemon that is not root refuses another user or group, and accepts its own', () => {
    expect(refusal(`{ ${RAW}, user: nobody }`, host(1000))).toBe(
      `${FILE}: proxy.proxies[0].user: expected the daemon's own user (uid 1000): only a daemon running as root can start a proxy as another user ("nobody" is uid 65534)`,
    );
    expect(refusal(`{ ${RAW}, group: ssl }`, host(1000))).toMatch(
      /proxy\.proxies\[0\]\.group: expected the daemon's own group \(gid 1000\)/,
    );
    expect(load(`{ ${RAW}, user: alice }`, host(1000)).proxies[0].privileges?.runAs).toBeUndefined();
  });

  it('typed proxies run as the proxy-monitor user when the daemon is root and that user exists', () => {
    expect(load(`{ ${TYPED} }`, host(0)).proxies[0].privileges?.runAs).toMatchObject({ user: 'proxy-monitor', uid: 990 });
    expect(load(`{ ${TYPED}, user: nobody }`, host(0)).proxies[0].privileges?.runAs).toMatchObject({ user: 'nobody' });
    expect(load(`{ ${RAW} }`, host(0)).proxies[0].privileges?.runAs).toBeUndefined();
    expect(load(`{ ${TYPED} }`, host(1000)).proxies[0].privileges?.runAs).toBeUndefined();
    const without = load(`{ ${TYPED} }`, host(0, { serviceUser: false }));
    expect(without.proxies[0].privileges?.runAs).toBeUndefined();
    const [warning] = hardeningWarnings(without, { modeOf: () => 0o600, uid: 0, openFiles: 1024 });
    expect(warning).toMatchObject({ message: 'running as root: proxies without a user run as root too', fields: { proxies: ['ss'] } });
    expect(hardeningWarnings(load(`{ ${TYPED} }`, host(0)), { modeOf: () => 0o600, uid: 0, openFiles: 1024 })).toEqual([]);
  });
});

describe('capabilities', () => {
  it('gives a proxy run as a user net_bind_service as its only (ambient) capability', () => {
    const { privileges } = load(`{ ${RAW}, user: nobody, capabilities: [net_bind_service] }`, host(0)).proxies[0];
    expect(wrapperArgv(privileges, { root: true, ambient: false })).toEqual([
      '/usr/bin/setpriv',
      '--reuid=65534',
      '--regid=65534',
      '--init-groups',
      '--inh-caps=-all,+net_bind_service',
      '--ambient-caps=-all,+net_bind_service',
      '--bounding-set=-all,+net_bind_service',
      '--',
    ]);
  });

  it('refuses other capabilities, and a capability a non-root daemon does not hold', () => {
    expect(refusal(`{ ${RAW}, capabilities: [sys_admin] }`, host(0))).toBe(
      `${FILE}: proxy.proxies[0].capabilities[0]: expected "net_bind_service", got "sys_admin"`,
    );
    expect(refusal(`{ ${RAW}, capabilities: [net_bind_service] }`, host(1000))).toMatch(
      /proxy\.proxies\[0\]\.capabilities: expected capabilities the daemon holds: it is not root and lacks CAP_NET_BIND_SERVICE/,
    );
    expect(
      load(`{ ${RAW}, capabilities: [net_bind_service] }`, host(1000, { permitted: 1n << 10n })).proxies[0].privileges?.capabilities,
    ).toEqual(['net_bind_service']);
  });

  it('a non-root daemon with ambient capabilities clears them for proxies that did not ask', () => {
    expect(wrapperArgv(load(`{ ${RAW} }`, host(1000)).proxies[0].privileges, { root: false, ambient: true })).toEqual([
      '/usr/bin/setpriv',
      '--inh-caps=-all',
      '--ambient-caps=-all',
      '--',
    ]);
    expect(wrapperArgv(load(`{ ${RAW} }`, host(1000)).proxies[0].privileges, { root: false, ambient: false })).toEqual([]);
  });
});

describe('limits', () => {
  it('are applied by prlimit, soft = hard, sizes in bytes', () => {
    const { privileges } = load(`{ ${RAW}, limits: { nofile: 4096, nproc: 512, core: 0, memlock: 64KiB } }`, host(0)).proxies[0];
    expect(privileges?.limits).toEqual({ nofile: 4096, nproc: 512, core: 0, memlock: 65536 });
    expect(wrapperArgv(privileges, { root: true, ambient: false })).toEqual([
      '/usr/bin/prlimit',
      '--nofile=4096:4096',
      '--nproc=512:512',
      '--core=0:0',
      '--memlock=65536:65536',
      '--',
    ]);
  });

  it.each([
    ['{ nofile: 0 }', 'limits.nofile: expected a number >= 1, got 0'],
    ['{ nofile: 2000000 }', 'limits.nofile: expected a number <= 1048576, got 2000000'],
    ['{ nproc: lots }', 'limits.nproc: expected a whole number from 1 to 4194304, or "unlimited", got "lots"'],
    [
      '{ core: 12XB }',
      'limits.core: expected a size such as "256MiB", "64k" or "1G" (a plain number is bytes) between 0B and 1TiB or "unlimited", got "12XB"',
    ],
    ['{ stack: 1 }', 'limits.stack: unknown key, expected one of nofile, nproc, core, memlock'],
  ])('refuses limits %s', (limits, message) => {
    expect(refusal(`{ ${RAW}, limits: ${limits} }`, host(0))).toBe(`${FILE}: proxy.proxies[0].${message}`);
  });

  it("refuses a limit above the daemon's own hard limit when it lacks CAP_SYS_RESOURCE", () => {
    const noSysResource = host(0, { permitted: ((1n << 41n) - 1n) & ~(1n << 24n) });
    expect(refusal(`{ ${RAW}, limits: { nproc: unlimited } }`, noSysResource)).toBe(
      `${FILE}: proxy.proxies[0].limits.nproc: expected at most 4096, the daemon's own hard limit: raising it needs CAP_SYS_RESOURCE, which this daemon does not hold; got "unlimited"`,
    );
    expect(load(`{ ${RAW}, limits: { nproc: unlimited } }`, host(0)).proxies[0].privileges?.limits).toEqual({ nproc: 'unlimited' });
  });
});

describe('max_memory', () => {
  it('reads sizes in powers of 1024, per proxy and globally', () => {
    expect(load(`{ ${RAW}, max_memory: 256MiB }`, host(0)).proxies[0].maxMemory).toBe(256 * 2 ** 20);
    expect(load(`{ ${RAW}, max_memory: 1.5G }`, host(0)).proxies[0].maxMemory).toBe(1.5 * 2 ** 30);
    expect(load(`{ ${RAW}, max_memory: 300MB }`, host(0)).proxies[0].maxMemory).toBe(300 * 2 ** 20);
    expect(load(`{ ${RAW}, max_memory: 104857600 }`, host(0)).proxies[0].maxMemory).toBe(100 * 2 ** 20);
    const global = parseConfigText(`proxy:\n  monitor:\n    max_memory: 512m\n`, FILE, {}, host(0));
    expect(global.config.proxy.monitor.max_memory).toBe('512m');
    expect(() => parseConfigText(`proxy:\n  monitor:\n    max_memory: 512\n`, FILE, {}, host(0))).toThrow(
      `${FILE}: proxy.monitor.max_memory: expected a size such as "256MiB", "64k" or "1G" (a plain number is bytes) between 1MiB and 1TiB, got 512`,
    );
  });

  it.each(['lots', '12 parsecs', '-5MiB', '512k', '2TiB'])('refuses max_memory %s', (size) => {
    expect(refusal(`{ ${RAW}, max_memory: "${size}" }`, host(0))).toBe(
      `${FILE}: proxy.proxies[0].max_memory: expected a size such as "256MiB", "64k" or "1G" (a plain number is bytes) between 1MiB and 1TiB, got ${JSON.stringify(size)}`,
    );
  });
});

describe('the real host', () => {
  it('looks users and groups up by name and by id (getent), and knows none it has not', () => {
    const host = realHost();
    expect(host.uid).toBe(process.getuid?.());
    expect(host.gid).toBe(process.getgid?.());
    expect(host.user('root')).toEqual({ name: 'root', uid: 0, gid: 0 });
    expect(host.user(0)).toEqual({ name: 'root', uid: 0, gid: 0 });
    expect(host.group('root')).toEqual({ name: 'root', gid: 0 });
    expect(host.group(0)).toEqual({ name: 'root', gid: 0 });
    expect(host.user('no-such-user-17')).toBeUndefined();
    expect(host.group('no-such-group-17')).toBeUndefined();
    // /proc/self/limits: the open-files limit is a number or unlimited.
    expect(host.hardLimits.nofile).toBeGreaterThan(0);
  });
});
