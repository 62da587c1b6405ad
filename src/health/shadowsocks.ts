// A listening socket is not a working shadowsocks server: a server stopped with SIGSTOP still
// completes TCP handshakes from its backlog, and a live one holds a garbage connection open without a
// word (anti-probing). So this probe speaks the protocol: it asks the server to open a connection to
// the probe's own loopback echo target, sends random bytes through the tunnel and expects them back.
// A wrong password or method shows as a timeout (the server never answers) or a failed decryption.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { HealthSpec } from '../proxy-spec.ts';
import { echoTargetPort } from './echo-target.ts';
import type { ProbeResult, ProbeTarget } from './result.ts';
import { createOpener, createSealer } from './ss-aead.ts';
import { timedProbe } from './timed.ts';

/** SOCKS5 address form of 127.0.0.1:port, as the first bytes of a shadowsocks stream. */
function loopbackAddress(port: number): Buffer {
  const address = Buffer.from([0x01, 127, 0, 0, 1, 0, 0]);
  address.writeUInt16BE(port, 5);
  return address;
}

export async function probeShadowsocks(check: Extract<HealthSpec, { kind: 'shadowsocks' }>, target: ProbeTarget): Promise<ProbeResult> {
  const result = await roundTrip(check, target);
  // Silence is all a server gives a client with the wrong key: name that cause next to a hang.
  if (result.ok || !result.error.startsWith('timed out')) return result;
  return { ...result, error: `${result.error} waiting for the echo (server hung, or wrong password or method)` };
}

function roundTrip(check: Extract<HealthSpec, { kind: 'shadowsocks' }>, target: ProbeTarget): Promise<ProbeResult> {
  return timedProbe(target, (done) => {
    // Created here, where timedProbe catches a throw (an unknown method), not in the callback below.
    const seal = createSealer(check.method, check.password);
    const open = createOpener(check.method, check.password);
    const payload = randomBytes(32);
    let socket: net.Socket | undefined;
    let cancelled = false;
    echoTargetPort().then(
      (echoPort) => {
        if (cancelled) return;
        let echoed = Buffer.alloc(0);
        socket = net.connect({ host: check.host, port: check.port });
        socket.on('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
        socket.on('connect', () => socket!.write(seal(Buffer.concat([loopbackAddress(echoPort), payload]))));
        socket.on('data', (chunk: Buffer) => {
          try {
            echoed = Buffer.concat([echoed, open(chunk)]);
          } catch {
            return done('reply failed authentication: wrong password or method');
          }
          if (echoed.length < payload.length) return;
          done(echoed.subarray(0, payload.length).equals(payload) ? undefined : 'echo through the proxy came back altered');
        });
        socket.on('close', () => done('closed before the echo came back'));
      },
      (error: Error) => done(`echo target: ${error.message}`),
    );
    return () => {
      cancelled = true;
      socket?.destroy();
    };
  });
}
