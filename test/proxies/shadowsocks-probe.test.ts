// The shadowsocks probe against Debian's ss-server: a round trip passes with every AEAD method,
// fails with the wrong password, and fails on a server stopped with SIGSTOP, which a TCP connect
// cannot tell from a live one.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { probeShadowsocks } from '../../src/health/shadowsocks.ts';
import { probeTcp } from '../../src/health/tcp.ts';
import { SS_METHODS } from '../../src/config/proxy-schema.ts';
import { describeWith } from '../support/binaries.ts';
import { freePorts } from '../support/daemon.ts';
import { killAll, startSsServer, type SsEndpoint } from './helpers.ts';

const check = (ss: SsEndpoint, password = ss.password) => ({
  kind: 'shadowsocks' as const,
  host: '127.0.0.1',
  port: ss.port,
  password,
  method: ss.method,
});

describeWith(['/usr/bin/ss-server'])('the shadowsocks probe against ss-server', () => {
  let servers: SsEndpoint[];

  beforeAll(async () => {
    const ports = await freePorts(SS_METHODS.length);
    servers = SS_METHODS.map((method, i) => ({ port: ports[i], password: `pw ${method} ü`, method }));
    await Promise.all(servers.map(startSsServer));
  });
  afterAll(killAll);

  it.each(SS_METHODS.map((m, i) => [m, i] as const))('passes a round trip with %s', async (_method, i) => {
    const result = await probeShadowsocks(check(servers[i]), { timeoutMs: 3_000 });
    expect(result).toMatchObject({ ok: true });
    expect(result.durationMs).toBeLessThan(3_000);
  });

  it('fails with the wrong password, naming it as a possible cause', async () => {
    const result = await probeShadowsocks(check(servers[0], 'not the password'), { timeoutMs: 1_000 });
    expect(result).toMatchObject({ ok: false });
    expect(!result.ok && result.error).toMatch(/wrong password or method/);
  });

  it('fails on a server stopped with SIGSTOP, where a TCP connect still succeeds', async () => {
    const ss = { port: (await freePorts(1))[0], password: 'stopped', method: 'aes-256-gcm' };
    const child = await startSsServer(ss);
    expect(await probeShadowsocks(check(ss), { timeoutMs: 1_000 })).toMatchObject({ ok: true });
    child.kill('SIGSTOP');
    expect(await probeTcp({ host: '127.0.0.1', port: ss.port }, { timeoutMs: 1_000 })).toMatchObject({ ok: true });
    expect(await probeShadowsocks(check(ss), { timeoutMs: 1_000 })).toMatchObject({ ok: false });
    child.kill('SIGCONT');
    expect(await probeShadowsocks(check(ss), { timeoutMs: 3_000 })).toMatchObject({ ok: true });
  });

  it('fails at once on a closed port', async () => {
    const [port] = await freePorts(1);
    const result = await probeShadowsocks({ ...check(servers[0]), port }, { timeoutMs: 3_000 });
    expect(result).toEqual({ ok: false, durationMs: expect.any(Number), error: 'ECONNREFUSED' });
  });

  it('is abandoned when its signal aborts', async () => {
    const controller = new AbortController();
    const pending = probeShadowsocks(check(servers[0], 'wrong'), { timeoutMs: 10_000, signal: controller.signal });
    controller.abort();
    expect(await pending).toMatchObject({ ok: false, error: 'aborted' });
  });
});
