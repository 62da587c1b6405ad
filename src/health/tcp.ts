// A bare connect only proves the kernel accepts connections: a stopped or wedged server still
// completes the handshake from its listen backlog. send/expect proves the server itself answers.
import net from 'node:net';
import os from 'node:os';
import { getSystemErrorName } from 'node:util';
import type { Connector } from '../process/spawner.ts';
import type { ProbeResult, ProbeTarget } from './result.ts';
import { timedProbe } from './timed.ts';

/** The reply must hold `expect` within this much: a server that streams data without it fails here. */
const MAX_REPLY = 64 * 1024;

export interface TcpCheck {
  host: string;
  port: number;
  /** Written verbatim once connected; unset with `expect` set, the server must speak first (a banner). */
  send?: string;
  /** The reply must contain this; unset, any byte will do. */
  expect?: string;
}

/**
 * `connect`: where a bare connect to a numeric address is made outside the event loop (the spawn
 * helper: bench/README.md, "Idle CPU"); a name to resolve, send/expect, or a connector that is gone
 * use Node's socket.
 */
export function probeTcp(check: TcpCheck, target: ProbeTarget, connect?: Connector): Promise<ProbeResult> {
  const bare = check.send === undefined && check.expect === undefined;
  if (connect && bare && net.isIP(check.host) !== 0 && !check.host.includes('%')) return connectOutside(connect, check, target);
  return probeWithSocket(check, target, tcpTo(check));
}

const ETIMEDOUT = os.constants.errno.ETIMEDOUT;

function connectOutside(connect: Connector, check: TcpCheck, target: ProbeTarget): Promise<ProbeResult> {
  const { signal } = target;
  if (signal?.aborted) return Promise.resolve({ ok: false, durationMs: 0, error: 'aborted' });
  return new Promise((resolve) => {
    const began = performance.now();
    const onAbort = () => resolve({ ok: false, durationMs: performance.now() - began, error: 'aborted' });
    signal?.addEventListener('abort', onAbort, { once: true });
    void connect(check.host, check.port, target.timeoutMs).then((outcome) => {
      signal?.removeEventListener('abort', onAbort);
      if (outcome === undefined) return resolve(probeWithSocket(check, target, tcpTo(check)));
      const { error, durationMs } = outcome;
      if (error === 0) return resolve({ ok: true, durationMs });
      // In the words of Node's socket, which these checks used before: its error code, its timeout.
      const message = error === ETIMEDOUT ? `timed out after ${target.timeoutMs} ms` : getSystemErrorName(-error);
      resolve({ ok: false, durationMs, error: message });
    });
  });
}

/** A connect to the unix socket at `path`: it proves what a bare TCP connect does. */
export function probeUnix(path: string, target: ProbeTarget): Promise<ProbeResult> {
  return probeWithSocket({}, target, { path });
}

const tcpTo = (check: TcpCheck): net.NetConnectOpts => ({ host: check.host, port: check.port });

function probeWithSocket(check: Pick<TcpCheck, 'send' | 'expect'>, target: ProbeTarget, to: net.NetConnectOpts): Promise<ProbeResult> {
  return timedProbe(target, (done) => {
    const socket = net.connect(to);
    let reply = '';
    socket.setEncoding('utf8');
    socket.on('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
    socket.on('connect', () => {
      // expect without send: the server speaks first (a banner), and must, within the timeout.
      if (check.send !== undefined) socket.write(check.send);
      else if (check.expect === undefined) done();
    });
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (check.expect === undefined || reply.includes(check.expect)) return done();
      // Read on, and every chunk of a server that streams without saying it would be decoded and
      // searched on the daemon's thread until health_timeout.
      if (reply.length >= MAX_REPLY)
        done(`no ${JSON.stringify(check.expect)} in the first 64 KiB of the reply ${JSON.stringify(reply.slice(0, 80))}`);
    });
    socket.on('close', () => {
      done(reply === '' ? 'closed without a reply' : `unexpected reply ${JSON.stringify(reply.slice(0, 80))}`);
    });
    return () => socket.destroy();
  });
}
