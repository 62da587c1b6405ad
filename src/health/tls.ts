// A completed TLS handshake shows the proxy's TLS stack is up. Certificates are not verified:
// self-signed ones are normal on proxies, and this checks liveness, not trust.
import { createRequire } from 'node:module';
import net from 'node:net';
import type { HealthSpec } from '../proxy-spec.ts';
import type { ProbeResult, ProbeTarget } from './result.ts';
import { timedProbe } from './timed.ts';

// node:tls loads on the first tls check (as node:https does for http checks, http.ts).
const require = createRequire(import.meta.url);

export function probeTls(check: Extract<HealthSpec, { kind: 'tls' }>, target: ProbeTarget): Promise<ProbeResult> {
  return timedProbe(target, (done) => {
    const tls = require('node:tls') as typeof import('node:tls');
    const socket = tls.connect({
      host: check.host,
      port: check.port,
      // SNI must be a host name; node warns when given an IP address.
      servername: check.servername ?? (net.isIP(check.host) ? undefined : check.host),
      rejectUnauthorized: false,
    });
    socket.on('secureConnect', () => done());
    socket.on('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
    socket.on('close', () => done('closed during the handshake'));
    return () => socket.destroy();
  });
}
