// Loopback ports for the bench's servers, and the one measurement that matters: when a port accepts
// TCP connections again.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { accepts } from '../../test/support/daemon.ts';
import type { ServerMap } from './servers.ts';

export { accepts };

/**
 * Free ports below the kernel's ephemeral range: an outgoing connection (a probe, the poller) can
 * never take one of them as its local port while the server that owns it is down.
 */
export async function serverPorts(count: number, taken: number[] = []): Promise<number[]> {
  const skip = new Set(taken);
  const [ephemeralLow] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  const ports: number[] = [];
  for (let port = Math.max(1024, ephemeralLow - 12_000); port < ephemeralLow && ports.length < count; port++) {
    if (!skip.has(port) && (await bindable(port))) ports.push(port);
  }
  if (ports.length < count) throw new Error(`only ${ports.length} free ports below ${ephemeralLow}, need ${count}`);
  return ports;
}

function bindable(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = net.createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once every port accepts; rejects after timeoutMs naming how many never did. */
export async function waitAllAccept(ports: number[], live: () => ServerMap, timeoutMs: number): Promise<void> {
  const times = await recoveryTimes(ports, live, performance.now(), timeoutMs);
  const missing = times.filter((t) => t === null).length;
  if (missing > 0) throw new Error(`${missing} of ${ports.length} ports did not accept within ${timeoutMs} ms`);
}

/**
 * Per port, ms from `since` (a performance.now()) until it accepted a TCP connection, or null if it
 * did not within timeoutMs. A port is tried every stepMs once its new server process exists (`live`
 * reads the supervisor's children from /proc): trying 200 ports blindly every few ms would cost a
 * whole core of a 2-core machine and slow down what is being measured.
 */
export async function recoveryTimes(
  ports: number[],
  live: () => ServerMap,
  since: number,
  timeoutMs: number,
  stepMs = 2,
): Promise<(number | null)[]> {
  const deadline = since + timeoutMs;
  const times = new Map<number, number | null>(ports.map((port) => [port, null]));
  const trying = new Set<number>();
  let pending = ports.length;
  while (pending > 0 && performance.now() < deadline) {
    for (const port of live().keys()) {
      if (times.get(port) !== null || trying.has(port)) continue;
      trying.add(port);
      void accepts(port).then((ok) => {
        trying.delete(port);
        if (!ok || times.get(port) !== null) return;
        times.set(port, performance.now() - since);
        pending--;
      });
    }
    await sleep(stepMs);
  }
  return ports.map((port) => times.get(port)!);
}
