import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probe } from '../../src/health/probe.ts';

/** A throwaway self-signed certificate, made with the openssl CLI. */
function selfSigned(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function listen(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return (server.address() as net.AddressInfo).port;
}

describe('tls probe', () => {
  let tlsServer: tls.Server;
  let plainServer: net.Server;
  let tlsPort: number;
  let plainPort: number;
  beforeAll(async () => {
    tlsServer = tls.createServer(selfSigned(), (socket) => socket.end());
    plainServer = net.createServer((socket) => socket.end('not tls\n'));
    tlsPort = await listen(tlsServer);
    plainPort = await listen(plainServer);
  });
  afterAll(() => {
    tlsServer.close();
    plainServer.close();
  });

  it('passes on a completed handshake with a self-signed certificate', async () => {
    expect(await probe({ kind: 'tls', host: '127.0.0.1', port: tlsPort }, { timeoutMs: 2000 })).toMatchObject({ ok: true });
    const named = { kind: 'tls', host: '127.0.0.1', port: tlsPort, servername: 'proxy.example' } as const;
    expect(await probe(named, { timeoutMs: 2000 })).toMatchObject({ ok: true });
  });

  it('fails against a server that does not speak TLS', async () => {
    expect(await probe({ kind: 'tls', host: '127.0.0.1', port: plainPort }, { timeoutMs: 2000 })).toMatchObject({ ok: false });
  });
});
