// Reads under load: a real daemon supervising N servers (TCP checks every 5 s) while a load
// generator in a process of its own (lib/load.mjs) sends `requests` GETs per route at `concurrency`.
// Per route: latency p50/p99/max and the reply's size; while each route is under load one server is
// SIGKILLed and the time until its actor saw the exit is read from the daemon's log (detected_at);
// the daemon's RSS before and after all the load.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MARKER } from '../lib/cleanup.ts';
import { serverPorts, waitAllAccept } from '../lib/ports.ts';
import { rssBytes } from '../lib/proc.ts';
import { serverTable, type ServerKind } from '../lib/servers.ts';
import { MiB, percentile } from '../lib/stats.ts';
import { startOurs } from '../systems/ours.ts';

const run = promisify(execFile);
const LOAD = join(import.meta.dirname, '..', 'lib', 'load.mjs');
const FLOOR = join(import.meta.dirname, '..', 'lib', 'floor-http.mjs');
export const READ_ROUTES = ['/api/v1/proxy/monitor/status', '/api/v1/proxy/monitor/proxies', '/metrics'];

export interface RouteLoad {
  route: string;
  p50: number;
  p99: number;
  max: number;
  bytes: number;
  failures: number;
  /** ms from the SIGKILL of one server during this route's load to its actor seeing the exit. */
  crashSeenMs: number;
}

export interface Reads {
  proxies: number;
  routes: RouteLoad[];
  /** The same load against a bare node:http server answering bodies of the routes' sizes. */
  floors: Omit<RouteLoad, 'crashSeenMs'>[];
  /** A crash with no reads going on, for comparison. */
  idleCrashSeenMs: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `requests` GETs of `route` at `concurrency`, from the load generator's process: every latency in ms. */
export async function loadRoute(base: string, route: string, requests: number, concurrency: number) {
  const { stdout } = await run(process.execPath, [LOAD, base, route, String(requests), String(concurrency)], { maxBuffer: 64 * MiB });
  return JSON.parse(stdout) as { latencies: number[]; bytes: number; failures: number };
}

async function load(base: string, route: string, requests: number, concurrency: number) {
  const result = await loadRoute(base, route, requests, concurrency);
  return {
    route,
    p50: percentile(result.latencies, 50),
    p99: percentile(result.latencies, 99),
    max: Math.max(...result.latencies),
    bytes: result.bytes,
    failures: result.failures,
  };
}

/** The same load against a bare node:http server answering `bytes` bytes. */
async function floor(bytes: number, requests: number, concurrency: number) {
  const server = spawn(process.execPath, [FLOOR, String(bytes), MARKER], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [port] = (await once(server.stdout, 'data')) as [Buffer];
    return await load(`http://127.0.0.1:${String(port).trim()}`, `/${bytes}-bytes`, requests, concurrency);
  } finally {
    server.kill('SIGKILL');
  }
}

export interface ReadsOptions {
  requests: number;
  concurrency: number;
  routes?: string[];
  /** Write a V8 CPU profile of the daemon into this folder. */
  profileDir?: string;
}

export async function readsUnderLoad(server: ServerKind, ports: number[], options: ReadsOptions): Promise<Reads> {
  const { requests, concurrency, routes: only = READ_ROUTES, profileDir } = options;
  const table = serverTable(server, ports);
  // A free port of its own: at log level warn the daemon does not say where it listens.
  const [apiPort] = await serverPorts(1, ports);
  const base = `http://127.0.0.1:${apiPort}`;
  const ours = startOurs({ label: 'reads', server, ports, checkInterval: 5, logLevel: 'warn', listen: `127.0.0.1:${apiPort}`, profileDir });
  try {
    await waitAllAccept(ports, () => table.children(ours.pid), 120_000);
    await sleep(3000);
    const rssBefore = rssBytes(ours.pid);
    const killOne = async (port: number) => {
      const pid = table.children(ours.pid).get(port);
      if (pid === undefined) throw new Error(`reads: no server on port ${port}`);
      const seen = ours.next((l) => l.message === 'proxy crash detected' && l.proxy_id === `srv-${port}`, 30_000);
      const killedAt = Date.now();
      process.kill(pid, 'SIGKILL');
      table.retire([pid]);
      const crashSeenMs = Date.parse(String((await seen).detected_at)) - killedAt;
      return { crashSeenMs, back: () => waitAllAccept([port], () => table.children(ours.pid), 30_000) };
    };
    const idle = await killOne(ports[ports.length - 1]);
    await idle.back();
    const routes: RouteLoad[] = [];
    for (const [i, route] of only.entries()) {
      const loading = load(base, route, requests, concurrency);
      // Mid-burst: the load generator has started and the daemon is busy answering.
      await sleep(700);
      const crash = await killOne(ports[i]);
      routes.push({ ...(await loading), crashSeenMs: crash.crashSeenMs });
      await crash.back();
    }
    const rssAfter = rssBytes(ours.pid);
    const floors = [];
    for (const bytes of new Set(routes.map((r) => r.bytes))) floors.push(await floor(bytes, requests, concurrency));
    return {
      proxies: ports.length,
      routes,
      floors,
      idleCrashSeenMs: idle.crashSeenMs,
      rssBeforeMiB: rssBefore / MiB,
      rssAfterMiB: rssAfter / MiB,
    };
  } finally {
    await ours.stop();
  }
}
