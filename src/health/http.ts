// One GET on a fresh connection (no keep-alive pool: each check must reach the server anew).
import http from 'node:http';
import https from 'node:https';
import type { HealthSpec } from '../proxy-spec.ts';
import type { ProbeResult, ProbeTarget } from './result.ts';
import { timedProbe } from './timed.ts';

export function probeHttp(check: Extract<HealthSpec, { kind: 'http' }>, target: ProbeTarget): Promise<ProbeResult> {
  return timedProbe(target, (done) => {
    const url = new URL(check.url);
    const client = url.protocol === 'https:' ? https : http;
    // As for the tls probe, a self-signed certificate does not make a proxy unhealthy.
    const request = client.get(url, { agent: false, rejectUnauthorized: false }, (response) => {
      const status = response.statusCode ?? 0;
      response.resume();
      const ok = check.status === undefined ? status >= 200 && status < 400 : status === check.status;
      done(ok ? undefined : `HTTP status ${status}`);
    });
    request.on('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
    return () => request.destroy();
  });
}
