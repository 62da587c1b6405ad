import { execFileSync } from 'node:child_process';
import https from 'node:https';
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
  let httpsServer: https.Server;
  let tlsPort: number;
  let plainPort: number;
  let httpsPort: number;
  const servernames: string[] = [];
  beforeAll(async () => {
    const certificate = selfSigned();
    const context = tls.createSecureContext(certificate);
    tlsServer = tls.createServer(
      {
        ...certificate,
        // Called during the handshake, only when the client sends SNI.
        SNICallback: (name, done) => {
          servernames.push(name);
          done(null, context);
        },
      },
      (socket) => socket.end(),
    );
    plainServer = net.createServer((socket) => socket.end('not tls\n'));
    httpsServer = https.createServer(certificate, (_request, response) => response.end('ok'));
    tlsPort = await listen(tlsServer);
    plainPort = await listen(plainServer);
    httpsPort = await listen(httpsServer);
  });
  afterAll(() => {
    tlsServer.close();
    plainServer.close();
    httpsServer.closeAllConnections();
    httpsServer.close();
  });

  it('passes on a completed handshake with a self-signed certificate', async () => {
    expect(await probe({ kind: 'tls', host: '127.0.0.1', port: tlsPort }, { timeoutMs: 2000 })).toMatchObject({ ok: true });
    const named = { kind: 'tls', host: '127.0.0.1', port: tlsPort, servername: 'proxy.example' } as const;
    expect(await probe(named, { timeoutMs: 2000 })).toMatchObject({ ok: true });
  });

  it('fails against a server that does not speak TLS', async () => {
    expect(await probe({ kind: 'tls', host: '127.0.0.1', port: plainPort }, { timeoutMs: 2000 })).toMatchObject({ ok: false });
  });

  it('sends the servername as SNI when one is set, and no IP address as SNI', async () => {
    servernames.length = 0;
    const named = { kind: 'tls', host: '127.0.0.1', port: tlsPort, servername: 'proxy.example' } as const;
    expect(await probe(named, { timeoutMs: 2000 })).toMatchObject({ ok: true });
    expect(await probe({ kind: 'tls', host: '127.0.0.1', port: tlsPort }, { timeoutMs: 2000 })).toMatchObject({ ok: true });
    expect(servernames).toEqual(['proxy.example']);
  });

  it('an http check of an https URL passes against a self-signed certificate', async () => {
    expect(await probe({ kind: 'http', url: `https://127.0.0.1:${httpsPort}/` }, { timeoutMs: 2000 })).toMatchObject({ ok: true });
  });
});
