// Real proxy servers and clients for the tests in this folder: started on free loopback ports,
// waited for, and always killed at the end.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accepts, waitUntil } from '../support/daemon.ts';

const children = new Set<ChildProcess>();

/** Spawns a process that `killAll` will end; its output goes to the test's stderr when DEBUG is set. */
export function spawnTracked(command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, {
    stdio: ['ignore', process.env.DEBUG ? 'inherit' : 'ignore', process.env.DEBUG ? 'inherit' : 'ignore'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export async function killAll(): Promise<void> {
  await Promise.all(
    [...children].map(async (child) => {
      const exit = once(child, 'exit');
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exit;
    }),
  );
}

export interface SsEndpoint {
  port: number;
  password: string;
  method: string;
}

/** ss-server on 127.0.0.1, once it accepts connections. */
export async function startSsServer(ss: SsEndpoint): Promise<ChildProcess> {
  const child = spawnTracked('/usr/bin/ss-server', ['-s', '127.0.0.1', '-p', String(ss.port), '-k', ss.password, '-m', ss.method]);
  await waitUntil(() => accepts(ss.port), 5_000);
  return child;
}

/** ss-local (the client) from a 0600 config file, serving SOCKS5 on 127.0.0.1:localPort. */
export async function startSsLocal(server: SsEndpoint, localPort: number): Promise<ChildProcess> {
  const file = join(mkdtempSync(join(tmpdir(), 'pm-ss-local-')), 'client.json');
  const conf = {
    server: '127.0.0.1',
    server_port: server.port,
    local_address: '127.0.0.1',
    local_port: localPort,
    password: server.password,
    method: server.method,
  };
  writeFileSync(file, JSON.stringify(conf), { mode: 0o600 });
  const child = spawnTracked('/usr/bin/ss-local', ['-c', file]);
  await waitUntil(() => accepts(localPort), 5_000);
  return child;
}

/** A page to fetch through the tunnels. */
export async function startWebServer(body: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => res.end(body));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((done) => server.close(() => done())) };
}

/** curl through a SOCKS5 proxy (names resolved by the proxy); the body, or the error. */
export function curlSocks(socksPort: number, url: string): Promise<{ ok: boolean; body: string }> {
  return new Promise((done) => {
    execFile('/usr/bin/curl', ['-sS', '--max-time', '5', '--socks5-hostname', `127.0.0.1:${socksPort}`, url], (error, stdout, stderr) =>
      done(error ? { ok: false, body: stderr } : { ok: true, body: stdout }),
    );
  });
}

/** A self-signed certificate for localhost, made with openssl. */
export function selfSignedCert(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    '/usr/bin/openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'],
    { stdio: 'pipe' },
  );
  return { cert, key };
}
