// A completed TLS handshake shows the proxy's TLS stack is up. Certificates are not verified:
// self-signed ones are normal on proxies, and this checks liveness, not trust.
import net from 'node:net';
import tls from 'node:tls';
import type { HealthSpec } from '../proxy-spec.ts';
import type { ProbeResult, ProbeTarget } from './result.ts';
import { timedProbe } from './timed.ts';

export function probeTls(check: Extract<HealthSpec, { kind: 'tls' }>, target: ProbeTarget): Promise<ProbeResult> {
  return timedProbe(target, (done) => {
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
