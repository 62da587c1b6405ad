// One GET on a fresh connection (no keep-alive pool: each check must reach the server anew).
import http from 'node:http';
import { createRequire } from 'node:module';
import type { HealthSpec } from '../proxy-spec.ts';
import type { ProbeResult, ProbeTarget } from './result.ts';
import { timedProbe } from './timed.ts';

// node:https, and the TLS stack under it, load on the first https check: ~1 MiB of RSS that a daemon
// without one would hold for nothing (bench/README.md, "Memory").
const require = createRequire(import.meta.url);

/** Read this much of a reply's body and the server is answering (a health page is small; a big one need not be read whole). */
const BODY_ENOUGH = 64 * 1024;

export function probeHttp(check: Extract<HealthSpec, { kind: 'http' }>, target: ProbeTarget): Promise<ProbeResult> {
  return timedProbe(target, (done) => {
    const url = new URL(check.url);
    const client = url.protocol === 'https:' ? (require('node:https') as typeof import('node:https')) : http;
    // As for the tls probe, a self-signed certificate does not make a proxy unhealthy.
    const request = client.get(url, { agent: false, rejectUnauthorized: false }, (response) => {
      const status = response.statusCode ?? 0;
      const ok = check.status === undefined ? status >= 200 && status < 400 : status === check.status;
      if (!ok) return done(`HTTP status ${status}`);
      // The whole reply, or its first BODY_ENOUGH bytes, within the timeout: a server that hangs after
      // its headers is a hung server.
      let read = 0;
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read >= BODY_ENOUGH) done();
      });
      response.on('end', () => done());
      response.on('aborted', () => done('the reply was cut off'));
    });
    request.on('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
    return () => request.destroy();
  });
}
