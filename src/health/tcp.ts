// A bare connect only proves the kernel accepts connections: a stopped or wedged server still
// completes the handshake from its listen backlog. send/expect proves the server itself answers.
import net from 'node:net';
import type { ProbeResult, ProbeTarget } from './result.ts';
import { timedProbe } from './timed.ts';

const MAX_REPLY = 64 * 1024;

export interface TcpCheck {
  host: string;
  port: number;
  /** Written verbatim once connected. */
  send?: string;
  /** The reply must contain this; unset, any byte will do. */
  expect?: string;
}

export function probeTcp(check: TcpCheck, target: ProbeTarget): Promise<ProbeResult> {
  return timedProbe(target, (done) => {
    const socket = net.connect({ host: check.host, port: check.port });
    let reply = '';
    socket.setEncoding('utf8');
    socket.on('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
    socket.on('connect', () => {
      if (check.send === undefined) return done();
      socket.write(check.send);
    });
    socket.on('data', (chunk: string) => {
      reply = (reply + chunk).slice(-MAX_REPLY);
      if (check.expect === undefined || reply.includes(check.expect)) done();
    });
    socket.on('close', () => {
      done(reply === '' ? 'closed without a reply' : `unexpected reply ${JSON.stringify(reply.slice(0, 80))}`);
    });
    return () => socket.destroy();
  });
}
