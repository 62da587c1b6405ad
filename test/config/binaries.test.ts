// The generated files are only right if the real servers accept them: check against the Debian
// binaries where they are installed (skipped elsewhere).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeWith } from '../support/binaries.ts';
import { parseConfigText } from '../../src/config/load.ts';
import type { ProxySpec } from '../../src/proxy-spec.ts';
import { withProxies } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'pm-config-bin-'));

function resolveOne(entry: string): ProxySpec {
  const p = parseConfigText(`state_dir: ${dir}/state\n${withProxies(entry)}`, 'bin.yaml').proxies[0];
  for (const f of p.files) {
    mkdirSync(dirname(f.path), { recursive: true });
    writeFileSync(f.path, f.content, { mode: 0o600 });
  }
  return p;
}

/** Runs the proxy's command line in the binary's test mode; exit status and all output. */
function run(p: ProxySpec, testFlag: string): string {
  const r = spawnSync(p.command, [testFlag, ...p.args], { encoding: 'utf8', timeout: 10_000 });
  return `status ${r.status}\n${r.stdout}${r.stderr}`;
}

async function freePort(): Promise<number> {
  const srv = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

const connects = (port: number) =>
  new Promise<boolean>((done) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      done(true);
    });
    s.on('error', () => done(false));
  });

const children: ReturnType<typeof spawn>[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describeWith(['/usr/bin/v2ray'])('v2ray accepts the generated config', () => {
  const uuid = 'b831381d-6324-4d53-ad4f-8cda48b30811';
  it.each([
    `{ id: vm, type: v2ray, port: 10086, uuid: "${uuid}" }`,
    `{ id: vl, type: v2ray, port: 10087, protocol: vless, uuid: "${uuid}" }`,
    '{ id: vs, type: v2ray, port: 10088, protocol: shadowsocks, password: pw }',
  ])('%s', (entry) => {
    const out = run(resolveOne(entry), '-test');
    expect(out).toContain('status 0');
    expect(out).toContain('Configuration OK');
  });
});

describeWith(['/usr/bin/trojan', '/usr/bin/openssl'])('trojan accepts the generated config', () => {
  it('passes trojan -t', () => {
    const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'],
      { stdio: 'pipe' },
    );
    const p = resolveOne(`{ id: tj, type: trojan, local_port: 10443, password: [a, b], cert: ${cert}, key: ${key} }`);
    const out = run(p, '-t');
    expect(out).toContain('status 0');
    expect(out).toContain('The config file looks good');
  });
});

describeWith(['/usr/bin/ss-server'])('ss-server runs with the generated config', () => {
  it('listens on server_port', async () => {
    const port = await freePort();
    const p = resolveOne(`{ id: ss, type: shadowsocks, server_port: ${port}, password: "pw with spaces", mode: tcp_and_udp }`);
    const child = spawn(p.command, p.args, { stdio: 'ignore' });
    children.push(child);
    let up = false;
    for (let i = 0; i < 50 && !up && child.exitCode === null; i++) {
      await new Promise((r) => setTimeout(r, 100));
      up = await connects(port);
    }
    child.kill('SIGTERM');
    expect(up).toBe(true);
  });
});
