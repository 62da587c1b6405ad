// What restarts a proxy on a reload (executed.ts): a change to what it executes, and nothing else.
// The digest must see every such change, and no difference that is not one (key order in the YAML,
// an optional key left out or set to nothing).
import { describe, expect, it } from 'vitest';
import type { ProxySpec } from '../../src/proxy-spec.ts';
import { executedFingerprint } from '../../src/supervisor/executed.ts';
import { fakeSpec } from '../support/fake-world.ts';

const base: ProxySpec = fakeSpec('a', {
  command: '/usr/bin/ss-server',
  args: ['-c', 'generated/a.json', '-v'],
  env: { B: '2', A: '1', C: '3' },
  files: [{ path: 'generated/a.json', content: '{"password":"pw"}' }],
  privileges: { capabilities: ['net_bind_service'], limits: { nofile: 1024, core: 0 } },
});
const digest = (overrides: Partial<ProxySpec>) => executedFingerprint({ ...base, ...overrides });

describe('the executed fingerprint', () => {
  it('ignores the order of keys at every depth', () => {
    const same = [
      { env: { A: '1', B: '2', C: '3' } },
      { env: { C: '3', A: '1', B: '2' } },
      { env: { C: '3', B: '2', A: '1' } },
      { privileges: { limits: { core: 0, nofile: 1024 }, capabilities: ['net_bind_service'] } },
    ];
    for (const overrides of same) expect(digest(overrides)).toBe(executedFingerprint(base));
    // The spec's own keys in another order.
    const reordered = Object.fromEntries(Object.entries(base).reverse()) as unknown as ProxySpec;
    expect(executedFingerprint(reordered)).toBe(executedFingerprint(base));
  });

  it('treats a key set to undefined as absent', () => {
    expect(digest({ cwd: undefined })).toBe(executedFingerprint(base));
    expect(digest({ env: { ...base.env, D: undefined as unknown as string } })).toBe(executedFingerprint(base));
  });

  it('changes with each thing that is executed: command, arguments (their order too), environment, cwd, files, account, limits', () => {
    const changes: Partial<ProxySpec>[] = [
      { command: '/usr/bin/ss-server2' },
      { args: ['-c', 'generated/a.json'] },
      { args: ['-v', '-c', 'generated/a.json'] },
      { args: ['-c', 'generated/a.json', '-vv'] },
      { env: { ...base.env, A: '10' } },
      { env: { ...base.env, D: '4' } },
      { env: { A: '1', B: '2' } },
      { cwd: '/srv' },
      { files: [{ path: 'generated/a.json', content: '{"password":"other"}' }] },
      { privileges: { ...base.privileges!, limits: { nofile: 2048, core: 0 } } },
      { privileges: { ...base.privileges!, limits: { nofile: 1024, core: 'unlimited' } } },
      { privileges: { ...base.privileges!, capabilities: [] } },
      { privileges: { ...base.privileges!, runAs: { uid: 65534, gid: 65534, user: 'nobody', group: null } } },
    ];
    const digests = changes.map(digest);
    for (const d of digests) expect(d).not.toBe(executedFingerprint(base));
    // Each change is a different process, too.
    expect(new Set(digests).size).toBe(changes.length);
  });

  it('a number and the same digits as a string are different values', () => {
    const numeric = digest({ privileges: { capabilities: [], limits: { nofile: 1024 } } });
    const text = digest({ privileges: { capabilities: [], limits: { nofile: '1024' as unknown as number } } });
    expect(numeric).not.toBe(text);
  });

  it('does not change with what applies in place: health check, monitoring, secrets, memory limit, own settings', () => {
    const inPlace: Partial<ProxySpec>[] = [
      { health: { kind: 'process' } },
      { monitor: false },
      { secrets: ['pw'] },
      { maxMemory: 64 * 1024 * 1024 },
      { settings: { stop_timeout: 3, restart: 'on-failure' } },
      { type: 'shadowsocks' },
    ];
    for (const overrides of inPlace) expect(digest(overrides)).toBe(executedFingerprint(base));
  });
});
